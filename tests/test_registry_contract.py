"""Every registered reward builds, pickles round-trip, keeps its name, and documents the columns it needs."""

import pickle

import pytest
from test_reward_model import build_tiny_reward_model

import rewardlab

#: Rewards that cannot be built without a parameter, with the parameter the contract uses.
REQUIRED_PARAMS = {"reward-model": "tiny_reward_model"}
#: Rewards that wrap another reward, with the reward the contract wraps; their name names both.
WRAPPED = {"polychromic": "math-tags"}


@pytest.fixture(scope="module")
def tiny_reward_model(tmp_path_factory):
    return str(build_tiny_reward_model(tmp_path_factory.mktemp("reward-model")))


@pytest.mark.parametrize("name", sorted(rewardlab.available()))
def test_registered_reward_builds_pickles_and_keeps_its_name(name, request):
    params = {}
    if name in REQUIRED_PARAMS:
        params["model"] = request.getfixturevalue(REQUIRED_PARAMS[name])
    expected = name
    if name in WRAPPED:
        params["reward"] = WRAPPED[name]
        expected = f"{name}({WRAPPED[name]})"
    reward = rewardlab.get(name, **params)
    clone = pickle.loads(pickle.dumps(reward))
    assert reward.__name__ == expected
    assert clone.__name__ == expected
    assert clone.settings() == reward.settings()
    assert (type(reward).__doc__ or "").strip(), f"{name} has no docstring"


def test_registry_holds_every_family():
    names = set(rewardlab.available())
    assert {"engagement", "reward-model", "math", "math-accuracy", "code", "code-binary", "code-format"} <= names
