"""Split rows into an SFT warm-start part and a GRPO part with the same share of each reward quartile."""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Split:
    """A reward-stratified split of rows into a first part (``ratio`` of each stratum) and the rest."""

    first: list[int]
    second: list[int]
    counts: dict[str, tuple[int, int]]


def stratified_split(values: Sequence[float | None], ratio: float, seed: int) -> Split:
    """Split row indices by reward quartile, taking ``ratio`` of each quartile into the first part.

    Rows whose reward is None form their own stratum. Deterministic for a seed.

    Example:
        >>> split = stratified_split([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], ratio=0.5, seed=0)
        >>> len(split.first), len(split.second), split.counts["Q1"]
        (4, 4, (1, 1))

    """
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"ratio must be between 0 and 1 (exclusive), got {ratio}")
    defined = sorted(v for v in values if v is not None)
    if len(defined) >= 4:
        q1, q2, q3 = statistics.quantiles(defined, n=4, method="inclusive")
    else:
        q1 = q2 = q3 = defined[-1] if defined else 0.0
    strata: dict[str, list[int]] = {"Q1": [], "Q2": [], "Q3": [], "Q4": [], "none": []}
    for index, value in enumerate(values):
        if value is None:
            strata["none"].append(index)
        elif value <= q1:
            strata["Q1"].append(index)
        elif value <= q2:
            strata["Q2"].append(index)
        elif value <= q3:
            strata["Q3"].append(index)
        else:
            strata["Q4"].append(index)
    rng = random.Random(seed)
    first: list[int] = []
    second: list[int] = []
    counts = {}
    for name, members in strata.items():
        if not members:
            continue
        rng.shuffle(members)
        take = round(ratio * len(members))
        first.extend(members[:take])
        second.extend(members[take:])
        counts[name] = (take, len(members) - take)
    return Split(sorted(first), sorted(second), counts)
