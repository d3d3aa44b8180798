"""Score JSONL rows with a reward: validation, batching by prompt group, summaries, and the reward split.

The CLI's ``score`` and ``split`` commands are thin wrappers over these functions, which tests call directly.
"""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from rewardlab import __version__
from rewardlab.core import Reward, RowError, Score, group_keys
from rewardlab.io import InputError, Row, columns_of, require_text

#: Rows scored per call to a reward. Large enough to batch embeddings and sandbox runs, small enough to stream.
BATCH_ROWS = 512


def signature(reward: Reward) -> str:
    """A sacrebleu-style signature: the reward, its settings and the version, so two numbers are comparable.

    Example:
        >>> import rewardlab
        >>> signature(rewardlab.get("math-tags"))
        'math-tags|think_prefilled:false|rewardlab:0.1.0'

    """
    parts = [reward.name]
    for key, value in reward.settings().items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        parts.append(f"{key}:{text}")
    parts.append(f"rewardlab:{__version__}")
    return "|".join(parts)


def validate_rows(rows: Sequence[Row], reward: Reward, source: str) -> None:
    """Check every row before any scoring, so bad input fails fast and nothing is written.

    Raises:
        InputError: A row lacks ``completion`` or a column the reward needs, or has a text field of the wrong type.

    """
    for row in rows:
        require_text(row, "completion", source)
        if "prompt" in row.data or "prompt" in reward.columns:
            require_text(row, "prompt", source)
        missing = reward.missing_columns(row.data)
        if missing:
            raise InputError(source, row.line, "missing (the reward needs it)", missing[0])


def batches(rows: Sequence[Row], group_level: bool, size: int = BATCH_ROWS) -> Iterator[list[int]]:
    """Yield lists of row indices to score together.

    Group-level rewards (which compare completions of one prompt) always receive whole groups, as
    :func:`rewardlab.core.group_keys` defines them.
    """
    if not group_level:
        for start in range(0, len(rows), size):
            yield list(range(start, min(start + size, len(rows))))
        return
    keys = group_keys([row.data.get("prompt") for row in rows], [row.data.get("prompt_id") for row in rows], len(rows))
    groups: dict[Any, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    batch: list[int] = []
    for members in groups.values():
        batch.extend(members)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def score_rows(
    rows: Sequence[Row],
    reward: Reward,
    source: str,
    progress: Callable[[int], None] | None = None,
) -> list[Score]:
    """Score every row, in batches; returns one :class:`Score` per row, in input order.

    Raises:
        InputError: The reward rejected a column's type or value (reported with the row's line).

    """
    results: list[Score | None] = [None] * len(rows)
    for indices in batches(rows, reward.group_level):
        chunk = [rows[i] for i in indices]
        columns = columns_of(chunk)
        prompts = columns.pop("prompt", [""] * len(chunk))
        completions = columns.pop("completion")
        try:
            scores = reward.score(prompts, completions, **columns)
        except RowError as error:
            raise InputError(source, chunk[error.index].line, error.message, error.field) from None
        for i, s in zip(indices, scores):
            results[i] = s
        if progress is not None:
            progress(len(indices))
    return cast("list[Score]", results)  # every index is in exactly one batch, and rewards return one per row


def scored_record(row: Row, s: Score, reward_signature: str | None = None) -> dict[str, Any]:
    """The output row: the input row with ``reward``, ``components``, ``details`` and ``reward_signature``.

    ``details`` appears where there are any; the signature tells ``rewardlab split`` that the ``reward`` column
    was made by the same reward and settings, so it can be reused. A ``details`` left by an earlier scoring is
    dropped rather than kept beside the new reward.
    """
    record = dict(row.data)
    for key in ("reward", "components", "details", "reward_signature"):
        record.pop(key, None)
    record["reward"] = s.value
    record["components"] = s.components
    if s.details:
        record["details"] = s.details
    if reward_signature is not None:
        record["reward_signature"] = reward_signature
    return record


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
