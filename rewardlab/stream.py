"""Score a JSONL file in bounded chunks: rows flow from the reader through the reward to the output, in input order.

Memory does not grow with the file. A reward that judges each row alone takes the rows as they come, a chunk of
:data:`CHUNK_ROWS` at a time. A group-level reward (which compares the completions of one prompt) needs each
prompt's rows together wherever they lie in the file, sorted or not. So a first pass checks every row and spills it
to one of a few bucket files picked by a hash of its group key (:func:`rewardlab.core.group_keys`): a group lands
whole in one bucket, and a bucket holds about :data:`BUCKET_BYTES` of input. Each bucket is then read alone, scored
in batches of whole groups, and its results written sorted by line number; a k-way merge of the buckets by line
number gives the rows back in input order. Memory is one bucket plus one buffered line per bucket, whatever the
file's length; disk is about twice the input, in a temporary directory removed at the end.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rewardlab.core import Reward, group_keys
from rewardlab.io import STDIO, Row, dumps, iter_jsonl, source_name
from rewardlab.scoring import (
    BATCH_ROWS,
    SummaryBuilder,
    batches,
    score_rows,
    scored_record,
    signature,
    validate_rows,
)

#: Rows read, checked and scored together (and the unit of work a worker process takes).
CHUNK_ROWS = BATCH_ROWS
#: Input bytes per bucket of a group-level pass: the most input such a pass holds in memory at once.
BUCKET_BYTES = 1 << 20
#: Buckets at most (each is an open file during the first pass); standard input, whose size is unknown, gets all.
MAX_BUCKETS = 256


@dataclass
class ScoredRow:
    """One scored row as the output needs it: its input line, its JSONL text and its reward."""

    line: int
    text: str
    value: float | None


#: Scores chunks of rows, yielding each chunk's results in the order the chunks came (see :mod:`rewardlab.workers`).
ChunkRunner = Callable[[Iterable[list[Row]]], Iterator[list[tuple[ScoredRow, dict[str, Any]]]]]


def score_chunk(reward: Reward, rows: Sequence[Row], source: str) -> list[tuple[ScoredRow, dict[str, Any]]]:
    """Score one chunk; return each row's output line and components (for the summary), in the chunk's order.

    Raises:
        InputError: The reward rejected a column's type or value (reported with the row's line).

    """
    scores = score_rows(rows, reward, source)
    stamp = signature(reward)
    return [
        (ScoredRow(row.line, record_line(scored_record(row, s, stamp)), s.value), s.components)
        for row, s in zip(rows, scores)
    ]


def record_line(record: dict[str, Any]) -> str:
    """The JSONL line of ``record``, as :func:`rewardlab.io.dumps` writes it.

    Most records hold no NaN or infinity, and encoding them directly is about three times faster than first
    copying them without those values; only a record that has one takes the copy.
    """
    try:
        return json.dumps(record, ensure_ascii=False, allow_nan=False)
    except ValueError:
        return dumps(record)


def checked_chunks(rows: Iterable[Row], reward: Reward, source: str) -> Iterator[list[Row]]:
    """Group rows into chunks of :data:`CHUNK_ROWS`, each checked by :func:`rewardlab.scoring.validate_rows`."""
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK_ROWS:
            validate_rows(chunk, reward, source)
            yield chunk
            chunk = []
    if chunk:
        validate_rows(chunk, reward, source)
        yield chunk


def score_stream(
    source: str | os.PathLike[str],
    reward: Reward,
    summary: SummaryBuilder,
    run: ChunkRunner,
    progress: Callable[[int], None] | None = None,
) -> Iterator[ScoredRow]:
    """Yield every row of ``source`` scored, in input order, adding each to ``summary``.

    Args:
        source: A JSONL path, or ``-`` for standard input.
        reward: The reward.
        summary: Receives each row's reward and components.
        run: Scores chunks (in this process, or fanned out by :class:`rewardlab.workers.WorkerPool`).
        progress: Called with the number of rows of each chunk scored.

    Raises:
        InputError: A row is malformed, lacks a column, or the reward rejected one of its values (with its line).

    """
    name = source_name(source)
    if not reward.group_level:
        for results in run(checked_chunks(iter_jsonl(source), reward, name)):
            for scored, components in results:
                summary.add(scored.value, components)
            if progress is not None:
                progress(len(results))
            yield from (scored for scored, _ in results)
        return
    with tempfile.TemporaryDirectory(prefix="rewardlab-groups-") as tmp:
        sorted_parts = []
        for number, bucket in enumerate(group_batches(source, reward, Path(tmp))):
            scored = []
            for results in run(bucket):
                for row, components in results:
                    summary.add(row.value, components)
                    scored.append(row)
                if progress is not None:
                    progress(len(results))
            scored.sort(key=lambda row: row.line)
            part = Path(tmp) / f"{number}.scored"
            with part.open("w", encoding="utf-8", newline="\n") as handle:
                for row in scored:
                    handle.write(f"{row.line}\t{json.dumps(row.value)}\t{row.text}\n")
            sorted_parts.append(part)
        with contextlib.ExitStack() as stack:
            handles = [stack.enter_context(part.open(encoding="utf-8", newline="\n")) for part in sorted_parts]
            yield from heapq.merge(*(map(_parse_scored, handle) for handle in handles), key=lambda row: row.line)


def group_batches(source: str | os.PathLike[str], reward: Reward, directory: Path) -> Iterator[list[list[Row]]]:
    """Check every row of ``source``, then yield one bucket at a time as batches of whole prompt groups.

    Rows are spilled to bucket files in ``directory`` by a hash of their group key, so each bucket holds whole
    groups and about :data:`BUCKET_BYTES` of input, whatever the file's order.

    Raises:
        InputError: A row is malformed or lacks what the reward needs (found before any row is scored).

    """
    for path in _spill_by_group(source, reward, source_name(source), directory):
        rows = _read_bucket(path)
        path.unlink()
        yield [[rows[i] for i in indices] for indices in batches(rows, group_level=True)]


def _spill_by_group(source: str | os.PathLike[str], reward: Reward, name: str, directory: Path) -> list[Path]:
    """Check every row and append it to the bucket file of its group; return the bucket files, in order."""
    size = None if str(source) == STDIO else Path(source).stat().st_size
    count = MAX_BUCKETS if size is None else max(1, min(MAX_BUCKETS, -(-size // BUCKET_BYTES)))
    handles: dict[int, IO[str]] = {}
    try:
        for chunk in checked_chunks(iter_jsonl(source), reward, name):
            prompts = [row.data.get("prompt") for row in chunk]
            keys = group_keys(prompts, [row.data.get("prompt_id") for row in chunk], len(chunk))
            for row, key in zip(chunk, keys):
                bucket = hash(key) % count
                handle = handles.get(bucket)
                if handle is None:
                    handle = handles[bucket] = (directory / f"{bucket}.rows").open("w", encoding="utf-8", newline="\n")
                handle.write(json.dumps([row.line, row.data], ensure_ascii=False) + "\n")
    finally:
        for handle in handles.values():
            handle.close()
    return [directory / f"{bucket}.rows" for bucket in sorted(handles)]


def _read_bucket(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="\n") as handle:
        return [Row(line, data) for line, data in map(json.loads, handle)]


def _parse_scored(text: str) -> ScoredRow:
    line, value, record = text.rstrip("\n").split("\t", 2)
    return ScoredRow(int(line), record, json.loads(value))
