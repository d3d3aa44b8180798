"""Summaries of scored rows, computed as rows pass: count, nulls, and mean/std/min/max of every component."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rewardlab.describe import signature
from rewardlab.reward import Reward, Score


@dataclass
class Summary:
    """Count, nulls and mean/std/min/max of the reward and of each component."""

    count: int
    nulls: int
    stats: dict[str, dict[str, float]] = field(default_factory=dict)
    signature: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"count": self.count, "nulls": self.nulls, "stats": self.stats, "signature": self.signature}

    def render(self) -> str:
        """A small table for the terminal."""
        lines = [f"rows: {self.count}  null rewards: {self.nulls}"]
        width = max([len(name) for name in self.stats] + [9])
        lines.append(f"{'':<{width}}  {'mean':>7} {'std':>7} {'min':>7} {'max':>7} {'n':>6}")
        for name, st in self.stats.items():
            lines.append(
                f"{name:<{width}}  {st['mean']:>7.3f} {st['std']:>7.3f} {st['min']:>7.3f} {st['max']:>7.3f} "
                f"{int(st['n']):>6}"
            )
        lines.append(f"signature: {self.signature}")
        return "\n".join(lines)


class RunningStats:
    """Count, mean, spread, min and max of a stream of numbers in constant memory.

    Welford's online algorithm (Welford 1962, "Note on a method for calculating corrected sums of squares and
    products"; Knuth, TAOCP vol. 2, 4.2.2), so a million rows cost no more memory than a hundred.

    Example:
        >>> stats = RunningStats()
        >>> for x in (1.0, 2.0, 4.0):
        ...     stats.add(x)
        >>> stats.as_dict()
        {'mean': 2.3333333333333335, 'std': 1.247219128924647, 'min': 1.0, 'max': 4.0, 'n': 3.0}

    """

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.low = math.inf
        self.high = -math.inf

    def add(self, value: float) -> None:
        """Take one more number."""
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)
        self.low = min(self.low, value)
        self.high = max(self.high, value)

    def as_dict(self) -> dict[str, float]:
        """Mean, population standard deviation (0 for one number), min, max and count."""
        std = math.sqrt(self.m2 / self.n) if self.n > 1 else 0.0
        return {"mean": self.mean, "std": std, "min": self.low, "max": self.high, "n": float(self.n)}


class SummaryBuilder:
    """Accumulates a :class:`Summary` row by row, so scoring can stream."""

    def __init__(self, reward: Reward) -> None:
        self.signature = signature(reward)
        self.count = 0
        self.nulls = 0
        self.columns: dict[str, RunningStats] = {"reward": RunningStats()}

    def add(self, value: float | None, components: dict[str, Any]) -> None:
        """Take one row's reward and components (None and NaN components are left out of their column)."""
        self.count += 1
        if value is None:
            self.nulls += 1
        else:
            self.columns["reward"].add(value)
        for name, part in components.items():
            if part is not None and not (isinstance(part, float) and math.isnan(part)):
                self.columns.setdefault(name, RunningStats()).add(float(part))

    def summary(self) -> Summary:
        """The summary of every row taken so far."""
        stats = {name: column.as_dict() for name, column in self.columns.items() if column.n}
        return Summary(self.count, self.nulls, stats, self.signature)


def summarize(scores: Sequence[Score], reward: Reward) -> Summary:
    """Summarise rewards and components over rows where each is defined."""
    builder = SummaryBuilder(reward)
    for s in scores:
        builder.add(s.value, s.components)
    return builder.summary()
