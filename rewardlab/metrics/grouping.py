"""Means per group, so that every prompt weighs the same whatever its number of samples."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np


def group_means(values: Sequence[float], groups: Sequence[Hashable]) -> np.ndarray:
    """Mean of ``values`` per group label, in order of first appearance (so each prompt weighs the same).

    Example:
        >>> group_means([1.0, 0.0, 1.0], ["a", "a", "b"]).tolist()
        [0.5, 1.0]

    """
    if len(values) != len(groups):
        raise ValueError(f"{len(groups)} group labels given for {len(values)} values")
    index: dict[Hashable, int] = {}
    codes = np.fromiter((index.setdefault(g, len(index)) for g in groups), dtype=np.int64, count=len(groups))
    sums = np.bincount(codes, weights=np.asarray(values, dtype=float), minlength=len(index))
    return sums / np.bincount(codes, minlength=len(index))
