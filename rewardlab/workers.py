"""Fan chunks of rows out over worker processes (``rewardlab score --workers N``), results in input order.

Rewards whose cost is CPU in our own process fan out: the math rewards (each worker drives its own share of
math-verify processes), engagement (each worker loads the embedding model once, with the machine's torch threads
shared out between the workers, and runs the TextBlob and text components in parallel), the format and length
rewards, and user functions. Rewards that run their own parallelism (:attr:`rewardlab.core.Reward.own_parallelism`:
the code sandbox pool, already sized to the machine, and a reward model on its device) stay in the main process.

Workers start from the forkserver (spawn where there is none), so the user's ``__main__`` is not imported again;
each worker unpickles the reward once, at start. At most two chunks per worker are in flight, so memory stays
bounded however long the input.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import pickle
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from rewardlab.core import Reward, RewardlabError
from rewardlab.io import Row
from rewardlab.stream import ChunkRunner, ScoredRow, score_chunk

#: Chunks queued per worker: enough to keep each busy, few enough to bound memory.
IN_FLIGHT_PER_WORKER = 2

_REWARD: Reward | None = None
_SOURCE = ""


def fans_out(reward: Reward) -> bool:
    """Whether ``--workers`` copies ``reward`` into worker processes (False where it runs its own parallelism)."""
    return not reward.own_parallelism


def local_runner(reward: Reward, source: str) -> ChunkRunner:
    """Score chunks one after another in this process."""

    def run(chunks: Iterable[list[Row]]) -> Iterator[list[tuple[ScoredRow, dict[str, Any]]]]:
        for chunk in chunks:
            yield score_chunk(reward, chunk, source)

    return run


class WorkerPool:
    """``workers`` processes, each holding one copy of the reward, scoring chunks in the order they are given.

    Use as a context manager; leaving it stops the workers.
    """

    def __init__(self, reward: Reward, source: str, workers: int) -> None:
        if workers < 2:
            raise ValueError(f"a worker pool needs at least 2 workers, got {workers}")
        self.workers = workers
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload([__name__])  # not the default "__main__": the user's script is not re-run
        cpus = os.cpu_count() or 1
        self._executor = ProcessPoolExecutor(
            workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(pickle.dumps(reward), source, max(1, cpus // workers)),
        )

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def run(self, chunks: Iterable[list[Row]]) -> Iterator[list[tuple[ScoredRow, dict[str, Any]]]]:
        """Yield each chunk's results, in the order of ``chunks``; a worker's error is raised here."""
        pending: collections.deque[Future[list[tuple[ScoredRow, dict[str, Any]]]]] = collections.deque()
        for chunk in chunks:
            pending.append(self._executor.submit(_score, chunk))
            if len(pending) >= IN_FLIGHT_PER_WORKER * self.workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _start_worker(reward: bytes, source: str, cpus: int) -> None:
    """Unpickle the reward once; share the CPUs out (torch threads, math-verify processes) before anything starts."""
    global _REWARD, _SOURCE
    os.environ["OMP_NUM_THREADS"] = str(cpus)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from rewardlab import _verify

    _verify.set_pool_size(cpus)
    _REWARD = pickle.loads(reward)
    _SOURCE = source


def _score(chunk: list[Row]) -> list[tuple[ScoredRow, dict[str, Any]]]:
    assert _REWARD is not None, "the worker's initializer sets the reward"
    try:
        return score_chunk(_REWARD, chunk, _SOURCE)
    except RewardlabError as error:
        raise RewardlabError(str(error)) from None  # its subclasses take other arguments and do not unpickle
