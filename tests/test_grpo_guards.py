"""The zero-variance guard and the spread statistics ``--preflight`` prints."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from grpo_plugin.callbacks import ZeroVarianceGuard, spread


def feed(guard, logs):
    for step, entry in enumerate(logs, start=1):
        guard.on_log(None, SimpleNamespace(global_step=step, is_world_process_zero=True), None, logs=entry)


def test_warns_once_after_patience_steps_of_zero_variance():
    stream = io.StringIO()
    guard = ZeroVarianceGuard(patience=3, stream=stream)
    feed(guard, [{"frac_reward_zero_std": 1.0, "reward_std": 0.0}] * 6)
    text = stream.getvalue()
    assert text.count("zero reward variance") == 1
    assert "step 3:" in text
    assert "no gradient" in text
    for remedy in ("--temperature", "--num-generations", "partial-credit", "prompts"):
        assert remedy in text


def test_silent_when_rewards_vary():
    stream = io.StringIO()
    guard = ZeroVarianceGuard(patience=3, stream=stream)
    feed(guard, [{"frac_reward_zero_std": 0.25, "reward_std": 0.3}] * 10)
    assert stream.getvalue() == ""


def test_streak_must_be_consecutive():
    stream = io.StringIO()
    guard = ZeroVarianceGuard(patience=3, stream=stream)
    feed(
        guard,
        [
            {"frac_reward_zero_std": 0.9, "reward_std": 0.1},
            {"frac_reward_zero_std": 0.9, "reward_std": 0.1},
            {"frac_reward_zero_std": 0.1, "reward_std": 0.1},
            {"frac_reward_zero_std": 0.9, "reward_std": 0.1},
        ],
    )
    assert stream.getvalue() == ""


def test_collapsed_batch_counts_even_when_trl_misses_it():
    # A policy collapsed onto one completion: std is float noise (TRL's isclose misses it) and frac is 0.
    stream = io.StringIO()
    guard = ZeroVarianceGuard(patience=3, stream=stream)
    feed(guard, [{"frac_reward_zero_std": 0.0, "reward_std": 3e-8}] * 3)
    assert "zero reward variance" in stream.getvalue()
    assert "the same for every completion" in stream.getvalue()


def test_logs_without_reward_metrics_are_ignored():
    stream = io.StringIO()
    guard = ZeroVarianceGuard(patience=1, stream=stream)
    feed(guard, [{"train_runtime": 1.0}])
    assert stream.getvalue() == ""


def test_spread_counts_zero_variance_groups():
    s = spread("r", [1.0, 1.0, 0.0, 1.0, None, 0.5], group_size=2)
    assert (s.zero_variance_groups, s.groups, s.scored) == (2, 3, 5)  # [None, 0.5] has one scored value
    assert s.mean == pytest.approx(0.7)
    assert (s.low, s.high) == (0.0, 1.0)


def test_spread_of_unscored_rewards_is_nan():
    s = spread("r", [None, None], group_size=2)
    assert s.scored == 0
    assert s.zero_variance_share == 1.0


def test_spread_flags_groups_whose_rewards_differ_by_a_hair_as_near_zero():
    s = spread("r", [0.0, 1.0, 0.50, 0.501, 0.2, 0.2], group_size=2)
    assert (s.zero_variance_groups, s.near_zero_groups, s.groups) == (1, 2, 3)
    assert s.near_zero_share == pytest.approx(2 / 3)


def test_preflight_table_and_warning_name_near_zero_groups():
    from grpo_plugin.callbacks import format_spreads, near_zero_message

    s = spread("r", [0.0, 1.0, 0.50, 0.501, 0.3, 0.301], group_size=2)
    assert format_spreads([s]).splitlines()[1].endswith("2/3 (67%)")
    assert near_zero_message(s).startswith("near-zero reward spread: in 67% of prompt groups")
