"""Score a JSONL file in bounded chunks: read → validate → batch → score, rows coming out in input order.

Memory does not grow with the file. A reward that judges each row alone takes the rows as they come, a chunk of
:data:`~rewardlab.engine.batch.CHUNK_ROWS` at a time. A group-level reward gets whole prompt groups from the
buckets of :func:`~rewardlab.engine.batch.group_batches`; each bucket's results are written sorted by line number to
a temporary file, and a k-way merge of those files by line number gives the rows back in input order. Memory is one
bucket plus one buffered line per bucket, whatever the file's length; disk is about twice the input, in a temporary
directory removed at the end.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from rewardlab.engine.batch import chunks, group_batches
from rewardlab.engine.read import STDIO, iter_jsonl, source_name
from rewardlab.engine.score import ChunkRunner, ScoredRow, local_runner
from rewardlab.engine.summary import SummaryBuilder
from rewardlab.engine.validate import checked
from rewardlab.engine.workers import WorkerPool, fans_out
from rewardlab.reward import Reward


@contextlib.contextmanager
def scored_rows(
    source: str | os.PathLike[str],
    reward: Reward,
    summary: SummaryBuilder,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Iterator[ScoredRow]]:
    """Stream ``source``'s rows scored, in input order, over ``workers`` processes where the reward allows it.

    Rewards that run their own parallelism (:func:`~rewardlab.engine.workers.fans_out`) stay in this process.
    """
    name = source_name(source)
    if workers == 1 or not fans_out(reward):
        yield score_stream(source, reward, summary, local_runner(reward, name), progress)
    else:
        with WorkerPool(reward, name, workers) as pool:
            yield score_stream(source, reward, summary, pool.run, progress)


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
        run: Scores chunks (in this process, or fanned out by :class:`rewardlab.engine.workers.WorkerPool`).
        progress: Called with the number of rows of each chunk scored.

    Raises:
        InputError: A row is malformed, lacks a column, or the reward rejected one of its values (with its line).

    """
    name = source_name(source)
    if not reward.group_level:
        for results in run(chunks(checked(iter_jsonl(source), reward, name))):
            for scored, components in results:
                summary.add(scored.value, components)
            if progress is not None:
                progress(len(results))
            yield from (scored for scored, _ in results)
        return
    with tempfile.TemporaryDirectory(prefix="rewardlab-groups-") as tmp:
        sorted_parts = []
        rows = checked(iter_jsonl(source), reward, name)
        size = None if str(source) == STDIO else Path(source).stat().st_size
        for number, bucket in enumerate(group_batches(rows, size, Path(tmp))):
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


def _parse_scored(text: str) -> ScoredRow:
    line, value, record = text.rstrip("\n").split("\t", 2)
    return ScoredRow(int(line), record, json.loads(value))
