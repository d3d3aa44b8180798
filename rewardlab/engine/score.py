"""Score batches of rows with a reward, in this process; :mod:`rewardlab.engine.workers` fans the same out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from rewardlab.describe import signature
from rewardlab.engine.batch import batches
from rewardlab.engine.read import InputError, Row
from rewardlab.engine.write import record_line
from rewardlab.errors import RowError
from rewardlab.reward import Reward, Score


@dataclass
class ScoredRow:
    """One scored row as the output needs it: its input line, its JSONL text and its reward."""

    line: int
    text: str
    value: float | None


#: One chunk's results: each row's output line and components, in the chunk's order.
Results = list[tuple[ScoredRow, dict[str, Any]]]

#: Scores chunks of rows, yielding each chunk's results in the order the chunks came (see
#: :mod:`rewardlab.engine.workers`).
ChunkRunner = Callable[[Iterable[list[Row]]], Iterator[list[tuple[ScoredRow, dict[str, Any]]]]]


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
        scores = score_batch([rows[i] for i in indices], reward, source)
        for i, s in zip(indices, scores, strict=True):
            results[i] = s
        if progress is not None:
            progress(len(indices))
    return cast("list[Score]", results)  # every index is in exactly one batch, and rewards return one per row


def score_batch(rows: Sequence[Row], reward: Reward, source: str) -> list[Score]:
    """Score ``rows`` in one call of the reward, with TRL's columns; the caller made the batch (groups whole).

    Raises:
        InputError: The reward rejected a column's type or value (reported with the row's line).

    """
    columns = columns_of(rows)
    prompts = columns.pop("prompt", [""] * len(rows))
    completions = columns.pop("completion")
    try:
        return reward.score(prompts, completions, **columns)
    except RowError as error:
        raise InputError(source, rows[error.index].line, error.message, error.field) from None


def columns_of(rows: Sequence[Row]) -> dict[str, list[Any]]:
    """Turn rows into TRL-style column lists (every key of any row, None where a row lacks it)."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row.data))
    return {key: [row.data.get(key) for row in rows] for key in keys}


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


def score_chunk(reward: Reward, rows: Sequence[Row], source: str) -> list[tuple[ScoredRow, dict[str, Any]]]:
    """Score one chunk; return each row's output line and components (for the summary), in the chunk's order.

    Raises:
        InputError: The reward rejected a column's type or value (reported with the row's line).

    """
    scores = score_batch(rows, reward, source)
    stamp = signature(reward)
    return [
        (ScoredRow(row.line, record_line(scored_record(row, s, stamp)), s.value), s.components)
        for row, s in zip(rows, scores, strict=True)
    ]


def local_runner(reward: Reward, source: str) -> ChunkRunner:
    """Score chunks one after another in this process."""

    def run(chunks: Iterable[list[Row]]) -> Iterator[Results]:
        for chunk in chunks:
            yield score_chunk(reward, chunk, source)

    return run
