"""Accuracy and mean reward, each with a standard error and a bootstrap interval over prompts.

With ``groups`` (each row's ``prompt_id``) a prompt's samples are first averaged, so every prompt weighs the same
and the uncertainty is taken over prompts, whose samples are not independent of each other.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from eval.stats import Estimate, mean_estimate
from rewardlab.metrics.grouping import group_means


def accuracy(
    correct: Sequence[bool],
    groups: Sequence[Hashable] | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Estimate:
    """Return the fraction of correct rows (mean of per-prompt fractions when grouped), with stderr and interval.

    Args:
        correct: One boolean per row.
        groups: Optional prompt label per row.
        n_boot: Bootstrap resamples.
        seed: Seed of the resampling.
        confidence: Coverage of the interval.

    Returns:
        The estimate; ``n`` counts units (prompts when grouped, else rows).

    Example:
        >>> result = accuracy([True, False, True, True], groups=["p1", "p1", "p2", "p2"])
        >>> result.value, result.n
        (0.75, 2)

    """
    values = np.asarray(correct, dtype=bool).astype(float)
    return _estimate(values, groups, n_boot, seed, confidence)


def mean_reward(
    rewards: Sequence[float],
    groups: Sequence[Hashable] | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Estimate:
    """Return the mean reward (mean of per-prompt means when grouped), with stderr and interval.

    Arguments as in :func:`accuracy`, with one reward per row.

    Example:
        >>> mean_reward([0.5, 1.0, 0.0, 0.5]).value
        0.5

    """
    return _estimate(np.asarray(rewards, dtype=float), groups, n_boot, seed, confidence)


def _estimate(
    values: np.ndarray, groups: Sequence[Hashable] | None, n_boot: int, seed: int, confidence: float
) -> Estimate:
    units = values if groups is None else group_means(values, groups)
    return mean_estimate(units, n_boot=n_boot, seed=seed, confidence=confidence)
