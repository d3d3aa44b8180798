"""Every registered reward builds, pickles round-trip, keeps its name, and documents the columns it needs.

The rewards are found by the registry itself: a new reward is checked here without editing this file. A reward
with a required parameter is built with an example value for that parameter's name from ``EXAMPLES``; a new
required parameter name fails the test with a message saying where to add one.
"""

import inspect
import pickle

import pytest
from test_reward_model import build_tiny_reward_model

import rewardlab
from rewardlab.registry import available


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    """An example value for each required parameter name a registered reward has."""
    return {
        "model": str(build_tiny_reward_model(tmp_path_factory.mktemp("reward-model"))),
        "reward": "math-tags",
    }


def required_parameters(cls):
    if cls.__init__ is object.__init__:
        return []
    parameters = inspect.signature(cls.__init__).parameters.values()
    return [p.name for p in parameters if p.name != "self" and p.default is p.empty and p.kind is not p.VAR_KEYWORD]


@pytest.mark.parametrize("name", sorted(available()))
def test_registered_reward_builds_pickles_and_keeps_its_name(name, examples):
    cls = available()[name]
    missing = [p for p in required_parameters(cls) if p not in examples]
    assert not missing, f"reward '{name}' requires {missing}: add an example value to examples() in {__file__}"
    reward = rewardlab.get(name, **{p: examples[p] for p in required_parameters(cls)})
    clone = pickle.loads(pickle.dumps(reward))
    assert reward.__name__ == clone.__name__
    assert reward.__name__ == name or reward.__name__.startswith(f"{name}(")
    assert clone.settings() == reward.settings()
    assert (cls.__doc__ or "").strip(), f"{name} has no docstring"


def test_registry_holds_every_family():
    names = set(available())
    assert {"engagement", "reward-model", "math", "math-accuracy", "code", "code-binary", "code-format"} <= names
    assert {name for name, cls in available().items() if cls.correct_when} == {
        "math-accuracy",
        "math-cosine",
        "math-length",
        "code",
        "code-binary",
    }
