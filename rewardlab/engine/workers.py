"""Fan chunks of rows out over worker processes (``rewardlab score --workers N``), results in input order.

Rewards whose cost is CPU in our own process fan out: the math rewards (each worker drives its share of the
math-verify processes), engagement (each worker loads the embedding model once, the machine's torch threads shared
out between the workers, and runs the TextBlob and text components in parallel), the format and length rewards,
and user functions. Rewards that run their own parallelism (:attr:`rewardlab.reward.Reward.own_parallelism`: the
code sandbox pool, already sized to the machine, and a reward model on its device) stay in the main process.

Each worker is a fresh interpreter running ``python -m rewardlab.engine.workers``: it imports rewardlab, never the
user's ``__main__`` (multiprocessing's spawn and forkserver both import it again), unpickles the reward once, then
scores the chunks it is sent over its stdin and sends each result back over its stdout. Chunk ``k`` goes to worker ``k
mod N``, one chunk per worker at a time, and results are read in chunk order, so the output keeps the input's order and
memory holds at most N chunks.
"""

from __future__ import annotations

import collections
import os
import pickle
import subprocess
import sys
import traceback
from collections.abc import Iterable, Iterator
from typing import IO, Any

from rewardlab.engine.read import Row
from rewardlab.engine.score import Results, score_chunk
from rewardlab.errors import RewardlabError
from rewardlab.reward import CPUS_ENV, Reward

#: Seconds a worker may take to exit once its input is closed, before it is killed.
EXIT_TIMEOUT = 10.0


def fans_out(reward: Reward) -> bool:
    """Whether ``--workers`` copies ``reward`` into worker processes (False where it runs its own parallelism)."""
    return not reward.own_parallelism


class WorkerPool:
    r"""``workers`` processes, each holding one copy of the reward, scoring chunks in the order they are given.

    Use as a context manager: leaving it stops the workers.

    Example:
        >>> import rewardlab
        >>> from rewardlab.engine.read import Row
        >>> chunks = [[Row(1, {"completion": "<answer>\n4\n</answer>"})], [Row(2, {"completion": "4"})]]
        >>> with WorkerPool(rewardlab.get("math-tags"), "rows.jsonl", workers=2) as pool:
        ...     results = list(pool.run(chunks))
        >>> [[scored.value for scored, _ in chunk] for chunk in results]
        [[0.25], [0.0]]

    """

    def __init__(self, reward: Reward, source: str, workers: int) -> None:
        if workers < 2:
            raise ValueError(f"a worker pool needs at least 2 workers, got {workers}")
        cpus = max(1, (os.cpu_count() or 1) // workers)
        start = pickle.dumps((list(sys.path), pickle.dumps(reward), source, cpus))
        self._processes: list[subprocess.Popen[bytes]] = []
        try:
            for _ in range(workers):
                # A session of their own: a terminal's Ctrl-C reaches only the caller, which then closes the pipes.
                process = subprocess.Popen(
                    [sys.executable, "-m", "rewardlab.engine.workers"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    start_new_session=True,
                )
                self._processes.append(process)
                _send(process, start)
        except BaseException:
            self._stop()
            raise

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def run(self, chunks: Iterable[list[Row]]) -> Iterator[Results]:
        """Yield each chunk's results in the order of ``chunks``; a worker's error is raised here."""
        pending: collections.deque[subprocess.Popen[bytes]] = collections.deque()
        for number, chunk in enumerate(chunks):
            if len(pending) == len(self._processes):
                yield _receive(pending.popleft())
            process = self._processes[number % len(self._processes)]
            _send(process, pickle.dumps(chunk))
            pending.append(process)
        while pending:
            yield _receive(pending.popleft())

    def _stop(self) -> None:
        """Close both pipes of every worker: each exits once its current chunk is done (its reply finds no reader)."""
        for process in self._processes:
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
        for process in self._processes:
            try:
                process.wait(EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _send(process: subprocess.Popen[bytes], message: bytes) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(message)
        process.stdin.flush()
    except BrokenPipeError:
        raise RuntimeError(f"a scoring worker exited early (status {process.wait()})") from None


def _receive(process: subprocess.Popen[bytes]) -> Results:
    assert process.stdout is not None
    try:
        kind, payload = pickle.load(process.stdout)
    except EOFError:
        raise RuntimeError(f"a scoring worker exited early (status {process.wait()})") from None
    if kind == "user":
        raise RewardlabError(payload)
    if kind == "crash":
        raise RuntimeError(f"a scoring worker failed:\n{payload}")
    return payload


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """A worker's loop: take the start message, then score each chunk that arrives until the input ends."""
    path, reward_bytes, source, cpus = pickle.load(requests)
    sys.path[:] = path
    os.environ["OMP_NUM_THREADS"] = str(cpus)  # read by torch when a reward first imports it
    os.environ[CPUS_ENV] = str(cpus)  # read by rewards that start helper processes (the math-verify pool)
    reward = pickle.loads(reward_bytes)
    while True:
        try:
            chunk = pickle.load(requests)
        except EOFError:
            return
        try:
            reply: tuple[str, Any] = ("ok", score_chunk(reward, chunk, source))
        except RewardlabError as error:
            reply = ("user", str(error))
        except Exception:
            reply = ("crash", traceback.format_exc())
        try:
            pickle.dump(reply, replies)
            replies.flush()
        except BrokenPipeError:
            return  # the caller stopped reading: an error elsewhere ended the run


if __name__ == "__main__":
    channel = sys.stdout.buffer
    sys.stdout = sys.stderr  # what a reward prints must not corrupt the replies
    serve(sys.stdin.buffer, channel)
