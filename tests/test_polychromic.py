"""Polychromic rewards (Hamid et al., ICLR 2026): set scores of mean reward × diversity, shared by set members."""

from __future__ import annotations

import json
import math
import pickle
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardlab
from grpo_plugin.config import TrainConfig
from grpo_plugin.rewards import build_rewards, polychromic_rewards
from rewardlab.cli import main as rewardlab_main
from rewardlab.errors import ConfigError
from rewardlab.metrics.selfbleu import self_bleu
from rewardlab.rewards.polychromic import Polychromic, lexical_diversity

WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "off", "hello", "there", "good", "morning", "!"]
TEXT = st.lists(st.sampled_from(WORDS), min_size=0, max_size=8).map(" ".join)


def brevity(completions, **kwargs):
    """A plain TRL reward function: 1 / words (module level, so it pickles)."""
    return [1.0 / max(1, len(c.split())) for c in completions]


def constant(value):
    def reward(completions, **kwargs):
        return [value] * len(completions)

    return reward


@settings(max_examples=40, deadline=None)
@given(text=TEXT, size=st.integers(2, 6))
def test_a_group_of_identical_completions_has_diversity_zero(text, size):
    scores = Polychromic(brevity, set_size=2).score(["post"] * size, [text] * size)
    assert all(s.components["diversity"] == 0.0 for s in scores)
    assert all(s.value == 0.0 for s in scores)


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(TEXT, min_size=2, max_size=7), rewards=st.data(), set_size=st.integers(2, 5))
def test_values_lie_between_zero_and_the_largest_reward_of_the_group(texts, rewards, set_size):
    values = rewards.draw(st.lists(st.floats(0, 1), min_size=len(texts), max_size=len(texts)))
    reward = Polychromic(lambda completions, **kwargs: values, set_size=set_size)
    scores = reward.score(["post"] * len(texts), texts)
    for s in scores:
        assert 0.0 <= s.components["diversity"] <= 1.0
        assert 0.0 <= s.value <= max(values) + 1e-12


@settings(max_examples=30, deadline=None)
@given(texts=st.lists(TEXT, min_size=2, max_size=7), seed=st.integers(0, 10**6), num_sets=st.integers(1, 4))
def test_permuting_the_rows_permutes_the_values(texts, seed, num_sets):
    prompts = [f"post {i % 2}" for i in range(len(texts))]
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    reward = Polychromic(brevity, set_size=2, num_sets=num_sets, seed=seed)
    values = reward(prompts, texts)
    permuted = reward([prompts[i] for i in order], [texts[i] for i in order])
    assert permuted == [values[i] for i in order]


def test_a_completion_scores_the_mean_of_its_sets_reward_times_diversity():
    reward = Polychromic(brevity, set_size=2)
    # Sets of "hello there" (reward 0.5): with its twin (diversity 0) and with the other reply (diversity 1).
    assert reward(["Hi?"] * 3, ["hello there", "hello there", "good morning to you"]) == [0.1875, 0.1875, 0.375]


def test_groups_are_scored_apart():
    reward = Polychromic(brevity, set_size=2)
    values = reward(["a", "b", "a", "b"], ["the cat", "the cat", "a dog ran", "the cat"])
    # Group b holds two identical replies (diversity 0); group a two replies with nothing in common.
    assert values[1] == values[3] == 0.0
    assert values[0] == values[2] == pytest.approx((0.5 + 1 / 3) / 2)


def test_rows_without_a_base_reward_stay_none_and_are_left_out_of_the_sets():
    def sometimes(completions, **kwargs):
        return [None if c == "skip me" else 1.0 for c in completions]

    scores = Polychromic(sometimes, set_size=2).score(["p"] * 4, ["skip me", "the cat", "a dog", "lonely"])
    assert scores[0].value is None and scores[0].details["reason"] == "the base reward is None"
    assert all(s.value is not None and not math.isnan(s.value) for s in scores[1:])
    assert all(s.details["sets"] == 2 for s in scores[1:])


def test_a_group_with_one_scored_row_gets_none():
    scores = Polychromic(brevity).score(["alone", "p", "p"], ["one reply", "the cat", "a dog"])
    assert scores[0].value is None
    assert scores[0].details["reason"] == "no other scored completion in its group"


def test_the_same_seed_draws_the_same_sets_and_another_seed_other_sets():
    texts = [f"reply number {w} {v}" for w in WORDS[:6] for v in ("x", "y")]

    def values(seed):
        return Polychromic(brevity, set_size=3, num_sets=2, seed=seed)(["p"] * 12, texts)

    assert values(0) == values(0)
    assert values(1) != values(0)


def test_lexical_diversity_is_one_minus_evalkit_self_bleu():
    texts = ["the cat sat on the mat", "the cat sat on a mat", "a dog ran off", "hello there, good morning!"]
    assert lexical_diversity(texts) == pytest.approx(1 - self_bleu(texts), abs=1e-12)


def test_empty_completions_repeat_each_other():
    assert lexical_diversity(["", "  ", "the cat"]) == pytest.approx(1 - 2 / 3)


def test_embedding_diversity_uses_the_engagement_model():
    reward = Polychromic(brevity, set_size=2, diversity="embedding")
    twin, _, other = reward.score(["p"] * 3, ["I love my dog.", "I love my dog.", "Quarterly tax filing deadline."])
    # The twin's sets: with its copy (distance 0) and with the other reply; the other reply's sets: with each twin.
    assert other.components["diversity"] == pytest.approx(2 * twin.components["diversity"])
    assert 0.5 < other.components["diversity"] <= 2.0


def test_base_reward_and_diversity_are_logged_as_components():
    logged = {}
    reward = rewardlab.get("polychromic", reward="math-tags", set_size=2)
    completions = [
        "<think>\nhm\n</think>\n<answer>\n4\n</answer>",
        "no tags",
        "<think>\nx\n</think>\n<answer>5</answer>",
    ]
    reward(["2+2?"] * 3, completions, log_metric=lambda key, value: logged.__setitem__(key, value))
    assert set(logged) >= {"polychromic(math-tags)/reward", "polychromic(math-tags)/diversity"}
    assert logged["polychromic(math-tags)/reward"] == pytest.approx(
        sum(rewardlab.get("math-tags")(completions=completions)) / 3
    )


def test_wrapping_a_plain_function_pickles_and_keeps_its_name():
    reward = Polychromic(brevity, set_size=2, seed=3)
    clone = pickle.loads(pickle.dumps(reward))
    assert clone.__name__ == reward.__name__ == "polychromic(brevity)"
    assert clone.settings() == reward.settings()
    assert clone(["p"] * 3, ["a b", "c d e", "a b"]) == reward(["p"] * 3, ["a b", "c d e", "a b"])


def test_wrapping_a_reward_by_name_pickles_with_its_parameters():
    reward = rewardlab.get("polychromic", reward="math-repetition", params={"ngram_size": 2})
    clone = pickle.loads(pickle.dumps(reward))
    assert clone.__name__ == "polychromic(math-repetition)"
    assert clone._inner.ngram_size == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"set_size": 1}, "set_size must be a whole number >= 2", id="set-size"),
        pytest.param({"diversity": "semantic"}, "diversity must be one of lexical, embedding", id="diversity"),
        pytest.param({"reward": "no-such-reward"}, "unknown reward 'no-such-reward'", id="reward"),
    ],
)
def test_bad_settings_fail_with_one_line(params, message):
    with pytest.raises(ConfigError, match=message):
        rewardlab.get("polychromic", **{"reward": "math-tags", **params})


def test_rewardlab_score_runs_the_polychromic_version_of_a_reward(tmp_path: Path):
    rows = [{"prompt": "Hi?", "completion": text} for text in ("hello there", "hello there", "good morning to you")]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (tmp_path / "brevity.py").write_text(
        "def brevity(completions, **kwargs):\n    return [1.0 / len(c.split()) for c in completions]\n"
    )
    result = CliRunner().invoke(
        rewardlab_main,
        ["score", str(tmp_path / "in.jsonl"), "-r", "polychromic", "-p", f"reward={tmp_path / 'brevity.py'}:brevity",
         "-p", "set_size=2", "-o", str(tmp_path / "out.jsonl")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    scored = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["reward"] for row in scored] == [0.1875, 0.1875, 0.375]
    assert scored[2]["components"]["diversity"] == 1.0


def test_grpo_objective_polychromic_wraps_every_reward_and_keeps_the_weights():
    rewards = polychromic_rewards(build_rewards("math-format,math-tags", [1.0, 0.5]), 2, "lexical", seed=0)
    assert rewards.names == ["polychromic(math-format)", "polychromic(math-tags)"]
    assert rewards.weights == [1.0, 0.5]


def test_weighted_polychromic_rewards_equal_the_polychromic_total():
    a, b = constant(1.0), brevity
    texts = ["the cat sat", "a dog ran off", "the cat sat", "hello there"]
    per_reward = [Polychromic(f, set_size=2)(["p"] * 4, texts) for f in (a, b)]

    def total(completions, **kwargs):
        return [1.0 + 0.5 * v for v in brevity(completions)]

    combined = Polychromic(total, set_size=2)(["p"] * 4, texts)
    assert [x + 0.5 * y for x, y in zip(*per_reward, strict=True)] == pytest.approx(combined)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"objective": "dpo"}, "--objective must be one of grpo, polychromic", id="objective"),
        pytest.param({"objective": "polychromic", "set_size": 8}, "--set-size must be smaller", id="set-size"),
        pytest.param({"diversity": "semantic"}, "--diversity must be one of lexical, embedding", id="diversity"),
    ],
)
def test_grpo_train_rejects_bad_polychromic_settings(options, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**options)


def test_grpo_train_polychromic_logs_base_reward_and_diversity(tiny_qwen: Path, tmp_path: Path):
    from grpo_plugin.cli import main as grpo_main

    (tmp_path / "prompts.jsonl").write_text("".join(json.dumps({"prompt": f"Post {i}"}) + "\n" for i in range(4)))
    (tmp_path / "brevity.py").write_text(
        "def brevity(completions, **kwargs):\n    return [1.0 / max(1, len(c.split())) for c in completions]\n"
    )
    result = CliRunner().invoke(
        grpo_main,
        ["--model", str(tiny_qwen), "--data", str(tmp_path / "prompts.jsonl"),
         "--reward", f"{tmp_path / 'brevity.py'}:brevity", "--output-dir", str(tmp_path / "run"),
         "--objective", "polychromic", "--set-size", "2", "--num-generations", "4",
         "--per-device-train-batch-size", "8", "--max-steps", "2", "--max-completion-length", "6", "--seed", "0"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    history = json.loads((tmp_path / "run" / "trainer_state.json").read_text())["log_history"]
    assert "rewards/polychromic(brevity)/mean" in history[0]
    assert "polychromic(brevity)/diversity" in history[0]
    assert "polychromic(brevity)/reward" in history[0]
