"""Learnability curriculum: sample prompts the model solves sometimes, not always and not never.

A prompt whose completions all succeed, or all fail, has zero reward variance within its group and gives GRPO no
gradient. Sampling prompt i with weight p_i (1 − p_i), where p_i is its observed success rate, spends the
generation budget where the gradient is (the learnability criterion of Foster & Foerster, "Learning to Reason at
the Frontier of Learnability", 2025).

Definitions used here:

- **Success rate** p of a prompt is computed from the rewards its completions got at its latest visit (the latest
  group, so it follows the policy as it changes). With a ``threshold``, a completion succeeds when its reward is at
  least the threshold and p is the share of successes. Without one, each reward is normalised to [0, 1] by the
  smallest and largest reward seen so far in the run, and p is the mean of those — partial credit counts partly.
- **Unseen prompts** get the prior p = 0.5, the largest weight (0.25): a prompt nobody has tried is assumed
  maximally informative, so every prompt gets tried early.
- **Floor**: weights never drop below ``floor`` (0.01), so prompts once always or never solved are re-tried now
  and then as the policy changes.
- **Difficulty**: when rows have a ``difficulty`` column (lower is easier), unseen prompts are introduced from the
  easiest up: whenever the draw picks an unseen prompt, the easiest one not yet introduced is used.

The sampler keeps the contract of TRL's ``RepeatSampler``: each drawn index is yielded ``mini_repeat_count``
(num_generations) times in a row, ``batch_size`` distinct prompts form one generation batch, and the whole chunk is
repeated ``repeat_count`` times (steps_per_generation × num_iterations). A chunk is drawn when the trainer starts
reading it, from the weights known then; every process draws with the same seed from the same (gathered) rewards,
so all processes see the same prompts, as TRL requires.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

#: Name of the dataset column that carries each row's index to the trainer's reward hook.
INDEX_COLUMN = "curriculum_index"


class LearnabilityTracker:
    """Per-prompt success rates from the rewards seen during training, and the sampling weights they give.

    Args:
        num_prompts: Number of rows in the training data.
        threshold: Reward at or above which a completion counts as a success; None normalises rewards instead.
        prior: Success rate assumed for prompts not seen yet.
        floor: Smallest weight a seen prompt gets.

    Example:
        >>> tracker = LearnabilityTracker(3, threshold=1.0)
        >>> tracker.update([0, 0, 1, 1], [1.0, 1.0, 1.0, 0.0])
        >>> tracker.success_rate(0), tracker.success_rate(1), tracker.success_rate(2)
        (1.0, 0.5, None)
        >>> [round(w, 2) for w in tracker.weights()]
        [0.01, 0.25, 0.25]

    """

    def __init__(self, num_prompts: int, threshold: float | None = None, prior: float = 0.5, floor: float = 0.01):
        self.num_prompts = num_prompts
        self.threshold = threshold
        self.prior = prior
        self.floor = floor
        self.latest: dict[int, list[float]] = {}
        self.low = math.inf
        self.high = -math.inf

    def update(self, indices: Sequence[int], rewards: Sequence[float | None]) -> None:
        """Record one generation batch: the prompt index and total reward of every completion in it."""
        groups: dict[int, list[float]] = {}
        for index, reward in zip(indices, rewards):
            if reward is None or math.isnan(reward):
                continue
            groups.setdefault(int(index), []).append(float(reward))
            self.low = min(self.low, reward)
            self.high = max(self.high, reward)
        self.latest.update(groups)

    def success_rate(self, index: int) -> float | None:
        """The prompt's success rate at its latest visit, or None if it has not been scored yet."""
        rewards = self.latest.get(index)
        if not rewards:
            return None
        if self.threshold is not None:
            return sum(r >= self.threshold for r in rewards) / len(rewards)
        if not self.high > self.low:
            return 0.5
        return sum((r - self.low) / (self.high - self.low) for r in rewards) / len(rewards)

    def seen(self, index: int) -> bool:
        """Whether the prompt has been scored."""
        return index in self.latest

    def weights(self) -> list[float]:
        """Sampling weight of every prompt: max(p (1 − p), floor), with the prior for unseen prompts."""
        out = []
        for index in range(self.num_prompts):
            p = self.success_rate(index)
            out.append(self.prior * (1 - self.prior) if p is None else max(p * (1 - p), self.floor))
        return out


class LearnabilitySampler:
    """A drop-in for TRL's ``RepeatSampler`` that draws each generation batch by learnability.

    Args:
        tracker: Where success rates come from (updated by the trainer as rewards arrive).
        mini_repeat_count: Times each index is repeated in a row (num_generations).
        batch_size: Distinct prompts per generation batch.
        repeat_count: Times each chunk is repeated (steps_per_generation × num_iterations).
        seed: Seed of the draws; the same on every process.
        difficulty: Per-row difficulty (lower is easier) that orders the introduction of unseen prompts.

    Example:
        >>> sampler = LearnabilitySampler(LearnabilityTracker(4), mini_repeat_count=2, batch_size=2,
        ...                               difficulty=[3, 1, 2, 0])
        >>> list(sampler)[:4]
        [3, 3, 1, 1]

    """

    def __init__(
        self,
        tracker: LearnabilityTracker,
        mini_repeat_count: int,
        batch_size: int = 1,
        repeat_count: int = 1,
        seed: int | None = None,
        difficulty: Sequence[float] | None = None,
    ) -> None:
        n = tracker.num_prompts
        if batch_size > n:
            raise ValueError(f"each generation batch needs {batch_size} distinct prompts but the data has {n}")
        self.tracker = tracker
        self.mini_repeat_count = mini_repeat_count
        self.batch_size = batch_size
        self.repeat_count = repeat_count
        self.rng = np.random.default_rng(seed)
        order = self.rng.permutation(n)
        if difficulty is not None:
            order = sorted(order, key=lambda i: difficulty[i])
        self.queue = [int(i) for i in order]
        self.introduced: set[int] = set()

    def draw(self) -> list[int]:
        """Draw one generation batch of distinct prompt indices from the current weights."""
        weights = np.array(self.tracker.weights(), dtype=float)
        picked = self.rng.choice(len(weights), size=self.batch_size, replace=False, p=weights / weights.sum())
        known = [int(i) for i in picked if int(i) in self.introduced or self.tracker.seen(int(i))]
        fresh = [i for i in self.queue if i not in self.introduced][: self.batch_size - len(known)]
        self.introduced.update(fresh)
        self.introduced.update(known)
        return fresh + known

    def __iter__(self) -> Iterator[int]:
        for _ in range(self.tracker.num_prompts // self.batch_size):
            chunk = self.draw()
            for _ in range(self.repeat_count):
                for index in chunk:
                    for _ in range(self.mini_repeat_count):
                        yield index

    def __len__(self) -> int:
        n = self.tracker.num_prompts
        return (n // self.batch_size) * self.batch_size * self.mini_repeat_count * self.repeat_count
