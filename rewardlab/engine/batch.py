"""Batch rows for a reward: chunks of a fixed size, and whole prompt groups for group-level rewards.

A group-level reward (which compares the completions of one prompt) needs each prompt's rows together wherever they
lie in the file, sorted or not. :func:`group_batches` spills every row to one of a few bucket files picked by a
hash of its group key (:func:`rewardlab.reward.group_keys`): a group lands whole in one bucket, and a bucket holds
about :data:`BUCKET_BYTES` of input. Each bucket is then read alone and cut into batches of whole groups. Memory is
one bucket, whatever the file's length.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from rewardlab.engine.read import Row
from rewardlab.reward import group_keys

#: Rows scored per call to a reward. Large enough to batch embeddings and sandbox runs, small enough to stream.
BATCH_ROWS = 512

#: Rows read, checked and scored together (and the unit of work a worker process takes).
CHUNK_ROWS = BATCH_ROWS


#: Input bytes per bucket of a group-level pass: the most input such a pass holds in memory at once.
BUCKET_BYTES = 1 << 20


#: Buckets at most (each is an open file during the first pass); standard input, whose size is unknown, gets all.
MAX_BUCKETS = 256


def batches(rows: Sequence[Row], group_level: bool, size: int = BATCH_ROWS) -> Iterator[list[int]]:
    """Yield lists of row indices to score together.

    Group-level rewards (which compare completions of one prompt) always receive whole groups, as
    :func:`rewardlab.reward.group_keys` defines them.
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


def chunks(rows: Iterable[Row], size: int | None = None) -> Iterator[list[Row]]:
    """Group rows into lists of ``size`` (default :data:`CHUNK_ROWS`; the last may be shorter), as they come."""
    size = size or CHUNK_ROWS
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def group_batches(rows: Iterable[Row], input_bytes: int | None, directory: Path) -> Iterator[list[list[Row]]]:
    """Take every row first, then yield one bucket at a time as batches of whole prompt groups.

    Rows are spilled to bucket files in ``directory`` by a hash of their group key, so each bucket holds whole
    groups and about :data:`BUCKET_BYTES` of input, whatever the file's order. ``input_bytes`` sizes the buckets
    (None, for a stream of unknown size, gives :data:`MAX_BUCKETS`). A bad row raises from ``rows`` before any row
    is scored.
    """
    count = MAX_BUCKETS if input_bytes is None else max(1, min(MAX_BUCKETS, -(-input_bytes // BUCKET_BYTES)))
    for path in _spill_by_group(rows, count, directory):
        bucket = _read_bucket(path)
        path.unlink()
        yield [[bucket[i] for i in indices] for indices in batches(bucket, group_level=True)]


def _spill_by_group(rows: Iterable[Row], count: int, directory: Path) -> list[Path]:
    """Append each row to the bucket file of its group (one of ``count``); return the bucket files, in order."""
    handles: dict[int, IO[str]] = {}
    try:
        for chunk in chunks(rows):
            prompts = [row.data.get("prompt") for row in chunk]
            keys = group_keys(prompts, [row.data.get("prompt_id") for row in chunk], len(chunk))
            for row, key in zip(chunk, keys, strict=True):
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
