"""Learnability curriculum: success rates, p(1 - p) weights, and the sampler's RepeatSampler contract."""

from __future__ import annotations

from collections import Counter
from itertools import islice

import pytest
from trl.trainer.utils import RepeatSampler

from grpo_plugin.curriculum import LearnabilitySampler, LearnabilityTracker


def chunks(sampler, count):
    """The first ``count`` chunks as lists of distinct prompt indices (checks the repeat layout on the way)."""
    size = sampler.batch_size * sampler.mini_repeat_count
    stream = iter(sampler)
    out = []
    for _ in range(count):
        block = list(islice(stream, size * sampler.repeat_count))
        first = block[:size]
        assert block == first * sampler.repeat_count
        groups = [first[i : i + sampler.mini_repeat_count] for i in range(0, size, sampler.mini_repeat_count)]
        assert all(len(set(g)) == 1 for g in groups)
        out.append([g[0] for g in groups])
    return out


def test_success_rate_with_a_threshold_is_the_share_of_successes():
    tracker = LearnabilityTracker(2, threshold=0.5)
    tracker.update([0, 0, 0, 0], [0.9, 0.1, 0.6, 0.2])
    assert tracker.success_rate(0) == 0.5
    assert tracker.success_rate(1) is None


def test_success_rate_without_threshold_normalises_by_the_rewards_seen():
    tracker = LearnabilityTracker(2)
    tracker.update([0, 0, 1, 1], [-1.0, 1.0, 1.0, 1.0])
    assert tracker.success_rate(0) == 0.5
    assert tracker.success_rate(1) == 1.0


def test_latest_visit_replaces_the_earlier_one():
    tracker = LearnabilityTracker(1, threshold=1.0)
    tracker.update([0, 0], [0.0, 0.0])
    tracker.update([0, 0], [1.0, 0.0])
    assert tracker.success_rate(0) == 0.5


def test_weights_are_p_times_one_minus_p_with_prior_and_floor():
    tracker = LearnabilityTracker(4, threshold=1.0, floor=0.01)
    tracker.update([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], [1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0])
    assert tracker.weights() == pytest.approx([0.01, 0.01, 0.25 * 0.75, 0.25])


def test_unscored_rows_are_ignored():
    tracker = LearnabilityTracker(1)
    tracker.update([0, 0], [None, float("nan")])
    assert not tracker.seen(0)


@pytest.mark.parametrize(("n", "mini", "batch", "repeat"), [(10, 3, 2, 2), (7, 2, 3, 4), (8, 8, 1, 1)])
def test_keeps_repeat_sampler_layout_and_length(n, mini, batch, repeat):
    sampler = LearnabilitySampler(
        LearnabilityTracker(n), mini_repeat_count=mini, batch_size=batch, repeat_count=repeat, seed=0
    )
    reference = RepeatSampler(list(range(n)), mini_repeat_count=mini, batch_size=batch, repeat_count=repeat, seed=0)
    assert len(sampler) == len(reference) == len(list(sampler))
    drawn = chunks(sampler, n // batch)
    assert all(len(set(chunk)) == batch for chunk in drawn)


def test_same_seed_same_draws():
    def draws():
        return list(LearnabilitySampler(LearnabilityTracker(12), mini_repeat_count=2, batch_size=3, seed=7))

    assert draws() == draws()


def test_difficulty_orders_the_introduction_of_prompts():
    difficulty = [5, 3, 9, 0, 7, 1, 8, 2, 6, 4]
    sampler = LearnabilitySampler(
        LearnabilityTracker(10), mini_repeat_count=2, batch_size=2, seed=0, difficulty=difficulty
    )
    first_seen = []
    for chunk in chunks(sampler, 5):
        first_seen += [i for i in chunk if i not in first_seen]
    assert [difficulty[i] for i in first_seen] == sorted(difficulty[i] for i in first_seen)
    assert [difficulty[i] for i in first_seen[:2]] == [0, 1]


def test_learnable_prompts_are_drawn_far_more_often():
    tracker = LearnabilityTracker(8, threshold=1.0)
    for index in range(8):
        outcome = [1.0, 1.0] if index < 2 else [0.0, 0.0] if index < 4 else [1.0, 0.0]
        tracker.update([index, index], outcome)
    sampler = LearnabilitySampler(tracker, mini_repeat_count=1, batch_size=1, seed=0)
    counts: Counter[int] = Counter()
    for _ in range(400):
        counts[sampler.draw()[0]] += 1
    solved_or_hopeless = sum(counts[i] for i in range(4))
    learnable = sum(counts[i] for i in range(4, 8))
    assert learnable > 10 * solved_or_hopeless
    assert solved_or_hopeless > 0  # the floor keeps re-trying them


def test_weights_follow_the_rewards_as_they_arrive():
    tracker = LearnabilityTracker(2, threshold=1.0)
    sampler = LearnabilitySampler(tracker, mini_repeat_count=1, batch_size=1, seed=0)
    tracker.update([0, 0, 1, 1], [1.0, 1.0, 1.0, 0.0])  # prompt 0 is solved, prompt 1 is learnable
    assert Counter(sampler.draw()[0] for _ in range(200))[1] > 180


def test_more_distinct_prompts_per_batch_than_data_is_refused():
    with pytest.raises(ValueError, match="needs 4 distinct prompts but the data has 3"):
        LearnabilitySampler(LearnabilityTracker(3), mini_repeat_count=2, batch_size=4)
