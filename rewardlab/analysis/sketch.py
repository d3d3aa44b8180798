"""Constant-memory summaries of a stream of numbers: quantiles, histogram, distinct values, correlation.

A reward takes few distinct values far more often than many (the math preset's total takes 5 on the fixture), so
:class:`ValueSketch` counts each distinct value exactly while there are at most :data:`DISTINCT_LIMIT` of them;
past that it keeps a uniform reservoir sample of :data:`RESERVOIR_SIZE` values (Vitter 1985, "Random sampling
with a reservoir", algorithm R) and its quantiles and histogram are estimates from that sample.
"""

from __future__ import annotations

import math
import random
from array import array
from collections import Counter
from collections.abc import Iterator
from itertools import groupby
from typing import Any

#: Distinct values counted exactly; a reward with more is summarised from a reservoir sample.
DISTINCT_LIMIT = 10_000

#: Values kept once a reward has more than :data:`DISTINCT_LIMIT` distinct values.
RESERVOIR_SIZE = 100_000

#: The quantiles reported, as fractions.
QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)

#: Bins of a histogram of a reward with more distinct values than bins.
HISTOGRAM_BINS = 20


def quantile_name(q: float) -> str:
    """The key of a quantile in reports: ``p5`` for 0.05, ``p50`` for the median.

    Example:
        >>> [quantile_name(q) for q in (0.0, 0.05, 0.5)]
        ['p0', 'p5', 'p50']

    """
    return f"p{round(q * 100):d}"


class ValueSketch:
    """Distinct values (exact up to :data:`DISTINCT_LIMIT`), quantiles and a histogram of a stream of numbers.

    Example:
        >>> sketch = ValueSketch()
        >>> for x in (0.0, 1.0, 1.0, 3.0):
        ...     sketch.add(x)
        >>> sketch.distinct(), sketch.quantiles()["p50"]
        (3, 1.0)

    """

    def __init__(self, seed: int = 0) -> None:
        self.n = 0
        self.counts: Counter[float] | None = Counter()
        self.reservoir = array("d")  # 8 bytes a value, not a float object each
        self.random = random.Random(seed)
        self.low = math.inf
        self.high = -math.inf

    def add(self, value: float) -> None:
        """Take one more number."""
        self.n += 1
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        if self.counts is not None:
            self.counts[value] += 1
            if len(self.counts) > DISTINCT_LIMIT:
                self._to_reservoir()
            return
        if len(self.reservoir) < RESERVOIR_SIZE:
            self.reservoir.append(value)
        else:
            slot = self.random.randrange(self.n)
            if slot < RESERVOIR_SIZE:
                self.reservoir[slot] = value

    def _to_reservoir(self) -> None:
        assert self.counts is not None
        values = [value for value, count in self.counts.items() for _ in range(count)]
        self.random.shuffle(values)
        self.reservoir = array("d", values[:RESERVOIR_SIZE])
        self.counts = None

    @property
    def exact(self) -> bool:
        """Whether quantiles, histogram and distinct count are exact (not from a sample)."""
        return self.counts is not None

    def distinct(self) -> int:
        """Distinct values seen (a lower bound, :data:`DISTINCT_LIMIT` + 1, once past the limit)."""
        return len(self.counts) if self.counts is not None else DISTINCT_LIMIT + 1

    def _pairs(self) -> Iterator[tuple[float, int]]:
        """(value, count) in increasing value: exact, or of the sample (sorted once, without a dict of it)."""
        if self.counts is not None:
            yield from sorted(self.counts.items())
            return
        for value, run in groupby(sorted(self.reservoir)):
            yield value, sum(1 for _ in run)

    def _sampled(self) -> int:
        return self.n if self.counts is not None else len(self.reservoir)

    def quantiles(self) -> dict[str, float]:
        """The :data:`QUANTILES` (lower value at ties: the smallest value with at least that share at or below it)."""
        total = self._sampled()
        result: dict[str, float] = {}
        if not total:
            return result
        targets = [(quantile_name(q), max(1, math.ceil(q * total))) for q in QUANTILES]
        seen = 0
        for value, count in self._pairs():
            seen += count
            while targets and seen >= targets[0][1]:
                result[targets.pop(0)[0]] = value
        result["p0"], result["p100"] = self.low, self.high
        return result

    def histogram(self, bins: int = HISTOGRAM_BINS) -> dict[str, list[float]]:
        """Counts per value when there are at most ``bins`` distinct values, else per equal-width bin.

        Returns ``values`` and ``counts`` (one count per distinct value), or ``edges`` (``bins`` + 1) and
        ``counts``. From a sample, counts are scaled to the number of values seen.
        """
        sampled = self._sampled()
        scale = self.n / sampled if sampled else 1.0
        if self.counts is not None and len(self.counts) <= bins:
            pairs = sorted(self.counts.items())
            return {"values": [v for v, _ in pairs], "counts": [c for _, c in pairs]}
        width = (self.high - self.low) / bins
        edges = [self.low + width * i for i in range(bins)] + [self.high]
        counts = [0.0] * bins
        for value, count in self._pairs():
            index = min(bins - 1, int((value - self.low) / width)) if width else 0
            counts[index] += count
        return {"edges": edges, "counts": [round(c * scale) for c in counts]}


class Comoments:
    """Pearson correlation of two streams of numbers, updated pair by pair (Welford's co-moment update).

    Example:
        >>> pair = Comoments()
        >>> for x, y in ((1, 2), (2, 4), (3, 7)):
        ...     pair.add(x, y)
        >>> round(pair.correlation(), 3)
        0.993

    """

    def __init__(self) -> None:
        self.n = 0
        self.mean_x = 0.0
        self.mean_y = 0.0
        self.m2_x = 0.0
        self.m2_y = 0.0
        self.c = 0.0

    def add(self, x: float, y: float) -> None:
        """Take one more pair."""
        self.n += 1
        dx = x - self.mean_x
        dy = y - self.mean_y
        self.mean_x += dx / self.n
        self.mean_y += dy / self.n
        self.m2_x += dx * (x - self.mean_x)
        self.m2_y += dy * (y - self.mean_y)
        self.c += dx * (y - self.mean_y)

    def correlation(self) -> float | None:
        """Pearson's r, or None when either stream is constant or there are fewer than two pairs."""
        if self.n < 2 or self.m2_x <= 0 or self.m2_y <= 0:
            return None
        return max(-1.0, min(1.0, self.c / math.sqrt(self.m2_x * self.m2_y)))


def as_float(value: Any) -> float | None:
    """A number for the summaries, or None for what is not one (None, NaN, text, booleans count as 0/1)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None
