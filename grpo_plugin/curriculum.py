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
        >>> tracker.weights().round(2).tolist()
        [0.01, 0.25, 0.25]

    """

    def __init__(self, num_prompts: int, threshold: float | None = None, prior: float = 0.5, floor: float = 0.01):
        self.num_prompts = num_prompts
        self.threshold = threshold
        self.prior = prior
        self.floor = floor
        # Per prompt, from its latest visit: the share of successes (with a threshold) or the mean reward (without);
        # NaN until scored. Arrays, because the sampler asks for every prompt's weight at every draw.
        self._latest = np.full(num_prompts, np.nan)
        self.low = math.inf
        self.high = -math.inf

    def update(self, indices: Sequence[int], rewards: Sequence[float | None]) -> None:
        """Record one generation batch: the prompt index and total reward of every completion in it."""
        groups: dict[int, list[float]] = {}
        for index, reward in zip(indices, rewards, strict=True):
            if reward is None or math.isnan(reward):
                continue
            groups.setdefault(int(index), []).append(float(reward))
            self.low = min(self.low, reward)
            self.high = max(self.high, reward)
        for index, values in groups.items():
            if self.threshold is None:
                self._latest[index] = sum(values) / len(values)
            else:
                self._latest[index] = sum(v >= self.threshold for v in values) / len(values)

    def rates(self) -> np.ndarray:
        """Every prompt's success rate at its latest visit; NaN where it has not been scored yet.

        Without a threshold the mean of the normalised rewards is the normalised mean, so one division serves all.
        """
        if self.threshold is not None:
            return self._latest.copy()
        if not self.high > self.low:
            return np.where(np.isnan(self._latest), np.nan, 0.5)
        return (self._latest - self.low) / (self.high - self.low)

    def success_rate(self, index: int) -> float | None:
        """The prompt's success rate at its latest visit, or None if it has not been scored yet."""
        rate = float(self.rates()[index])
        return None if math.isnan(rate) else rate

    def seen(self, index: int) -> bool:
        """Whether the prompt has been scored."""
        return not math.isnan(self._latest[index])

    def weights(self) -> np.ndarray:
        """Sampling weight of every prompt: max(p (1 − p), floor), with the prior for unseen prompts."""
        p = self.rates()
        return np.where(np.isnan(p), self.prior * (1 - self.prior), np.maximum(p * (1 - p), self.floor))


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
        self.next_in_queue = 0
        self.introduced: set[int] = set()

    def draw(self) -> list[int]:
        """Draw one generation batch of distinct prompt indices from the current weights."""
        weights = self.tracker.weights()
        picked = self.rng.choice(len(weights), size=self.batch_size, replace=False, p=weights / weights.sum())
        known = [int(i) for i in picked if int(i) in self.introduced or self.tracker.seen(int(i))]
        self.introduced.update(known)
        fresh: list[int] = []
        while len(fresh) < self.batch_size - len(known) and self.next_in_queue < len(self.queue):
            index = self.queue[self.next_in_queue]
            self.next_in_queue += 1
            if index not in self.introduced:
                fresh.append(index)
        self.introduced.update(fresh)
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
