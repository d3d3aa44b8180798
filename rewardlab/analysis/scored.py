"""Analyse a scored JSONL file: each component's distribution, its spread inside prompt groups, correlations.

One pass reads the rows: every component (the total is ``reward``) feeds a
:class:`~rewardlab.analysis.sketch.ValueSketch` and running moments, every pair of components a
:class:`~rewardlab.analysis.sketch.Comoments`, and each row's group key and numbers are spilled to a bucket file
picked by a hash of the key (as :func:`rewardlab.engine.batch.group_batches` does with whole rows). A second pass
reads one bucket at a time, so each group is whole however the file is ordered, and memory is one bucket.

GRPO learns from differences inside a group: TRL's advantage is ``(r - mean(group)) / (std(group) + 1e-4)``
(``trl/trainer/grpo_trainer.py``, ``_generate_and_score_completions``), so a group whose rewards are all equal
gives no gradient and a group whose spread is tiny but not zero has its noise blown up to unit scale. A group is
*near-zero* when its population std is below :data:`NEAR_ZERO_FRACTION` of the reward's range over the file
(max - min); zero-variance groups (and groups with fewer than two scored rows) count as near-zero too.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rewardlab.analysis.sketch import Comoments, ValueSketch, as_float
from rewardlab.engine.batch import BUCKET_BYTES, MAX_BUCKETS
from rewardlab.engine.read import InputError, Row
from rewardlab.engine.summary import RunningStats
from rewardlab.reward import group_keys

#: A group whose std is below this share of the reward's observed range (max - min over the file) is near-zero.
NEAR_ZERO_FRACTION = 0.05

#: A column is broken down by when it holds text, integers or booleans with at most this many distinct values.
CATEGORY_LIMIT = 20

#: The total's name among the components.
TOTAL = "reward"

#: Columns never broken down by: the row's text, its scores, its group.
NOT_CATEGORIES = frozenset(
    {"prompt", "completion", "prompt_id", "reward", "components", "details", "reward_signature", "solution"}
)


@dataclass
class GroupStats:
    """How one component spreads inside the prompt groups."""

    zero_variance: int = 0
    near_zero: int = 0
    groups: int = 0
    within_ss: float = 0.0


@dataclass
class Analysis:
    """Everything ``rewardlab analyze FILE`` reports; :meth:`as_dict` is its ``--json``."""

    rows: int
    nulls: int
    group_by: str
    moments: dict[str, dict[str, float]]
    sketches: dict[str, ValueSketch]
    groups: dict[str, GroupStats]
    group_count: int
    group_sizes: dict[str, float]
    correlation: dict[str, dict[str, float | None]]
    breakdown: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def within_share(self, name: str) -> float | None:
        """Share of the component's variance that lies within groups (1 - between-groups share), or None."""
        total = self.moments[name]["std"] ** 2 * self.moments[name]["n"]
        return self.groups[name].within_ss / total if total > 0 else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``quantiles``, ``distinct``, ``histogram``, ``groups``, ``correlation``, ``breakdown``."""
        total = self.groups.get(TOTAL, GroupStats())
        return {
            "rows": self.rows,
            "null_rewards": self.nulls,
            "stats": self.moments,
            "quantiles": {name: s.quantiles() for name, s in self.sketches.items()},
            "distinct": {name: s.distinct() for name, s in self.sketches.items()},
            "exact": {name: s.exact for name, s in self.sketches.items()},
            "histogram": {name: s.histogram() for name, s in self.sketches.items()},
            "groups": {
                "by": self.group_by,
                "count": self.group_count,
                "size": self.group_sizes,
                "near_zero_fraction": NEAR_ZERO_FRACTION,
                "zero_variance_share": _share(total.zero_variance, total.groups),
                "near_zero_share": _share(total.near_zero, total.groups),
                "within_share": self.within_share(TOTAL) if TOTAL in self.groups else None,
                "components": {
                    name: {
                        "zero_variance_share": _share(g.zero_variance, g.groups),
                        "near_zero_share": _share(g.near_zero, g.groups),
                        "within_share": self.within_share(name),
                    }
                    for name, g in self.groups.items()
                },
            },
            "correlation": self.correlation,
            "breakdown": self.breakdown,
        }


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def analyze_rows(
    rows: Iterable[Row], source: str, group_by: str | None = None, input_bytes: int | None = None
) -> Analysis:
    """Analyse scored rows (each with ``reward`` and usually ``components``), streaming.

    Args:
        rows: The rows, as :func:`rewardlab.engine.read.iter_jsonl` yields them.
        source: The input's name, for errors.
        group_by: The column whose value makes a group; by default ``prompt_id``, else the prompt's text.
        input_bytes: The input's size, to size the bucket files (None: the most buckets).

    Raises:
        InputError: A row has no ``reward`` (it was not scored) or lacks the ``group_by`` column.

    """
    count = MAX_BUCKETS if input_bytes is None else max(1, min(MAX_BUCKETS, -(-input_bytes // BUCKET_BYTES)))
    with tempfile.TemporaryDirectory(prefix="rewardlab-analyze-") as tmp:
        reader = _Reader(group_by, source, Path(tmp), count)
        try:
            for row in rows:
                reader.add(row)
        finally:
            reader.close()
        return reader.finish()


class _Reader:
    """The first pass: moments, sketches, correlations and categories per row; group keys spilled to buckets."""

    def __init__(self, group_by: str | None, source: str, directory: Path, buckets: int) -> None:
        self.group_by = group_by
        self.source = source
        self.directory = directory
        self.buckets = buckets
        self.handles: dict[int, IO[str]] = {}
        self.rows = 0
        self.nulls = 0
        self.moments: dict[str, RunningStats] = {}
        self.sketches: dict[str, ValueSketch] = {}
        self.pairs: dict[tuple[str, str], Comoments] = {}
        self.categories: dict[str, dict[Any, RunningStats]] = {}
        self.too_many: set[str] = set()

    def add(self, row: Row) -> None:
        data = row.data
        if "reward" not in data:
            raise InputError(self.source, row.line, "no reward: score the file first, or give --reward", "reward")
        values = {TOTAL: as_float(data["reward"])}
        components = data.get("components")
        if isinstance(components, dict):
            for name, value in components.items():
                if name != TOTAL:
                    values[name] = as_float(value)
        self.rows += 1
        self.nulls += values[TOTAL] is None
        present = {name: v for name, v in values.items() if v is not None}
        for name, value in present.items():
            if name not in self.moments:  # setdefault would build (and seed) a new sketch for every row
                self.moments[name], self.sketches[name] = RunningStats(), ValueSketch()
            self.moments[name].add(value)
            self.sketches[name].add(value)
        names = list(present)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                pair = self.pairs.get((first, second))
                if pair is None:
                    pair = self.pairs[first, second] = Comoments()
                pair.add(present[first], present[second])
        self._categories(data, values[TOTAL])
        key = json.dumps(self._key(row), ensure_ascii=False, default=repr)
        bucket = hash(key) % self.buckets
        handle = self.handles.get(bucket)
        if handle is None:
            handle = self.handles[bucket] = (self.directory / f"{bucket}.groups").open("w", encoding="utf-8")
        handle.write(json.dumps([key, present]) + "\n")

    def _key(self, row: Row) -> Any:
        if self.group_by is not None:
            if self.group_by not in row.data:
                raise InputError(self.source, row.line, "missing (named by --group-by)", self.group_by)
            return row.data[self.group_by]
        return group_keys([row.data.get("prompt")], [row.data.get("prompt_id")], 1)[0]

    def _categories(self, data: dict[str, Any], total: float | None) -> None:
        for column, value in data.items():
            if column in NOT_CATEGORIES or column in self.too_many or column == self.group_by:
                continue
            if not isinstance(value, (str, int, bool)) or isinstance(value, float):
                continue
            seen = self.categories.setdefault(column, {})
            if value not in seen and len(seen) >= CATEGORY_LIMIT:
                self.too_many.add(column)
                del self.categories[column]
                continue
            stats = seen.get(value)
            if stats is None:
                stats = seen[value] = RunningStats()
            if total is not None:
                stats.add(total)

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()

    def finish(self) -> Analysis:
        ranges = {name: m.high - m.low for name, m in self.moments.items()}
        groups = {name: GroupStats() for name in self.moments}
        sizes = RunningStats()
        for bucket in sorted(self.handles):
            members: dict[str, list[dict[str, float]]] = {}
            with (self.directory / f"{bucket}.groups").open(encoding="utf-8") as handle:
                for key, present in map(json.loads, handle):
                    members.setdefault(key, []).append(present)
            for rows in members.values():
                sizes.add(len(rows))
                for name, stats in groups.items():
                    _add_group(stats, [r[name] for r in rows if name in r], ranges[name])
        names = list(self.moments)
        correlation: dict[str, dict[str, float | None]] = {a: {b: None for b in names} for a in names}
        for a in names:
            correlation[a][a] = 1.0 if self.moments[a].m2 > 0 else None
        for (a, b), pair in self.pairs.items():
            correlation[a][b] = correlation[b][a] = pair.correlation()
        return Analysis(
            rows=self.rows,
            nulls=self.nulls,
            group_by=self.group_by or "prompt_id, else prompt",
            moments={name: m.as_dict() for name, m in self.moments.items()},
            sketches=self.sketches,
            groups=groups,
            group_count=sizes.n,
            group_sizes={k: v for k, v in sizes.as_dict().items() if k in ("mean", "min", "max")} if sizes.n else {},
            correlation=correlation,
            breakdown=self._breakdown(),
        )

    def _breakdown(self) -> dict[str, dict[str, dict[str, float]]]:
        result = {}
        for column, seen in self.categories.items():
            if 2 <= len(seen) < self.rows:
                result[column] = {str(value): stats.as_dict() for value, stats in seen.items() if stats.n}
        return result


def _add_group(stats: GroupStats, values: list[float], value_range: float) -> None:
    """Count one group's spread of one component (a group where it never applies is left out)."""
    if not values:
        return
    stats.groups += 1
    mean = math.fsum(values) / len(values)
    ss = math.fsum((v - mean) ** 2 for v in values)
    std = math.sqrt(ss / len(values))
    stats.within_ss += ss
    if len(values) < 2 or max(values) == min(values):
        stats.zero_variance += 1
        stats.near_zero += 1
    elif std < NEAR_ZERO_FRACTION * value_range:
        stats.near_zero += 1
