"""Parse and verify math answers with math-verify in worker processes that are killed when they run out of time.

math-verify bounds its own work with ``signal.alarm``, which only works in the main thread, and sympy can spend
minutes inside one C call where no signal reaches it (``9^{9^{9^{9^{9}}}}``). So every parse and verify runs in a
small pool of worker processes: inside a worker a timer interrupts slow Python code (the worker survives), and the
caller kills a worker that overstays its time by more than :data:`GRACE` seconds and starts a fresh one. The caller
only ever waits on sockets with a deadline, from any thread.

Workers are fresh interpreters running ``python -m rewardlab.rewards.math._verify_worker`` (see that module for how
golds and answers are read), never children made by multiprocessing: those import the caller's ``__main__`` again,
which re-runs a user's training script that has no ``if __name__ == "__main__":`` guard. The pool is started on first
use, shared by every reward in the process, never pickled (rewards hold no reference to it), forgotten after a fork,
and its workers are killed at exit.
"""

from __future__ import annotations

import atexit
import collections
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from typing import Any

from rewardlab.errors import RewardlabError
from rewardlab.reward import cpu_share
from rewardlab.rewards.math.extract import settled

#: Worker processes at most: parsing is CPU-bound and rewards share the machine with training.
MAX_POOL_SIZE = 4
#: Seconds a worker may overstay its task's time before it is killed (its own timer fires first when it can).
GRACE = 0.5
#: Seconds a new worker may take to import math-verify and say it is ready.
START_TIMEOUT = 60.0
#: Golds whose parse the caller remembers (golds repeat across the G completions of a prompt and across epochs).
GOLD_CACHE_SIZE = 65536
#: The reason given for a gold that math-verify reads no value from.
UNPARSEABLE_GOLD = "the gold solution cannot be read as math"


@dataclass
class Verdict:
    """What parsing and verifying one answer against one gold found.

    Attributes:
        correct: ``verify(gold, answer)``; None when the gold cannot be parsed (or not in time), or when math-verify
            itself raised on the pair.
        gold_parsed: The parsed gold, as text (sympy expression first, then the matched string).
        answer_parsed: The parsed answer, as text; empty when nothing could be extracted.
        timed_out: The gold, or the answer on two tries, took longer than the time limit; ``correct`` is then False
            (or None when it was the gold).
        error: Why there is no verdict other than time: the gold cannot be read as math, the worker crashed, or
            math-verify raised; or why the completion has no answer.
        answer: The answer the extraction rule found, normalised (None: none found); set by the rewards.
        answer_rule: Which rule of :mod:`rewardlab.rewards.math.extract` found it; set by the rewards.

    """

    correct: bool | None
    gold_parsed: list[str] = field(default_factory=list)
    answer_parsed: list[str] = field(default_factory=list)
    timed_out: bool = False
    error: str | None = None
    answer: str | None = None
    answer_rule: str | None = None


#: Results of a pair that may be the host's doing rather than the answer's, so they get a second try.
RETRIED = ("timeout", "died")


def verify_batch(golds: Sequence[str], answers: Sequence[str], timeout: float) -> list[Verdict]:
    """Verify each answer against its gold, gold first, each parse-and-verify within ``timeout`` seconds.

    Golds and answers are read as :mod:`rewardlab.rewards.math._verify_worker` describes (LaTeX first, then plain
    expressions; bare-LaTeX golds read whole). Each distinct gold is parsed once and remembered; each distinct (gold,
    answer) pair is verified once per call.

    Args:
        golds: The gold solutions, one per answer.
        answers: The text to extract each answer from.
        timeout: Seconds allowed for one gold's parse, or for one answer's parse and verify.

    Returns:
        One verdict per answer.

    Raises:
        RewardlabError: math-verify is not installed, or the worker processes cannot start.

    """
    gold_of = _GOLDS.lookup(golds, timeout)
    pairs = list(dict.fromkeys((g, a) for g, a in zip(golds, answers, strict=True) if gold_of[g].correct is not None))
    # No answer, the gold's own text, or two integers: settled without a parse (most answers of a GRPO batch).
    by_pair = {(g, a): _settled(g, a, gold_of[g]) for g, a in pairs}
    pairs = [pair for pair in pairs if by_pair[pair] is None]
    by_pair.update(zip(pairs, _pool().run([("answer", g, a) for g, a in pairs], timeout), strict=True))
    # A busy host can make a plain answer miss its time, or lose its worker: each such pair gets one more try on a
    # fresh worker, and only an answer that fails so twice is the answer's fault.
    again = [pair for pair, result in by_pair.items() if result[0] in RETRIED]
    by_pair.update(zip(again, _pool().run([("answer", g, a) for g, a in again], timeout), strict=True))
    verdicts = []
    for gold, answer in zip(golds, answers, strict=True):
        known = gold_of[gold]
        if known.correct is None:
            verdicts.append(replace(known))
            continue
        status, *payload = by_pair[(gold, answer)]
        if status == "ok":
            verdicts.append(Verdict(payload[0], known.gold_parsed, payload[1]))
        elif status == "error":  # math-verify itself failed: no judgement, not a wrong answer
            verdicts.append(Verdict(None, known.gold_parsed, error=f"math-verify failed: {payload[0]}"))
        else:
            error = "the worker process died on this answer, twice" if status == "died" else None
            verdicts.append(Verdict(False, known.gold_parsed, timed_out=status == "timeout", error=error))
    return verdicts


def _settled(gold: str, answer: str, known: Verdict) -> tuple[Any, ...] | None:
    """A worker's result for a pair that needs no parse (see :func:`~rewardlab.rewards.math.extract.settled`)."""
    if not answer:
        return ("ok", False, [])
    equal = settled(gold, answer)
    if equal is None:
        return None
    return ("ok", equal, known.gold_parsed if equal else [answer, answer])


def _error(status: str, payload: list[Any]) -> str | None:
    if status == "timeout":
        return None
    if status == "died":
        return "the worker process died"
    return payload[0]


class _GoldCache:
    """Parsed golds by text, kept as verdict templates: ``correct`` is False for a gold that parses, else None."""

    def __init__(self) -> None:
        self._known: collections.OrderedDict[str, Verdict] = collections.OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, golds: Sequence[str], timeout: float) -> dict[str, Verdict]:
        distinct = list(dict.fromkeys(golds))
        with self._lock:
            found = {g: self._known[g] for g in distinct if g in self._known}
            for gold in found:
                self._known.move_to_end(gold)
        missing = [g for g in distinct if g not in found]
        parsed = dict(zip(missing, _pool().run([("gold", g) for g in missing], timeout), strict=True))
        # As for answers: a gold that missed its time or lost its worker (a stuck or busy worker) gets one more try.
        again = [gold for gold, result in parsed.items() if result[0] in RETRIED]
        parsed.update(zip(again, _pool().run([("gold", g) for g in again], timeout), strict=True))
        for gold, (status, *payload) in parsed.items():
            if status != "ok":
                # Not remembered: a gold that ran out of time on a loaded machine may parse next time.
                found[gold] = Verdict(None, timed_out=status == "timeout", error=_error(status, payload))
                continue
            found[gold] = Verdict(False, payload[0]) if payload[0] else Verdict(None, error=UNPARSEABLE_GOLD)
            with self._lock:
                self._known[gold] = found[gold]
                while len(self._known) > GOLD_CACHE_SIZE:
                    self._known.popitem(last=False)
        return found


_GOLDS = _GoldCache()


# --------------------------------------------------------------------------------------------- the caller side

#: Tasks sent to a worker at once: it streams back one result per task, so it never waits for the caller between
#: tasks, and the caller still knows which task a worker is on (its time starts when the previous result arrives).
CHUNK = 16


class _Process:
    """One worker process as the caller sees it: its socket, whether it is ready, and the tasks it is on."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "rewardlab.rewards.math._verify_worker", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=_worker_env(),
                start_new_session=True,  # a terminal's Ctrl-C is the caller's to handle, not the workers'
            )
            self.conn = Connection(ours.detach())
        self.started = time.monotonic()
        self.ready = False
        self.tasks: collections.deque[int] = collections.deque()
        self.deadline = 0.0

    def wake_at(self) -> float:
        return self.deadline if self.tasks else self.started + START_TIMEOUT

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
        self.conn.close()


def _worker_env() -> dict[str, str]:
    """The caller's environment with its module search path, so a worker imports the same rewardlab and math-verify."""
    path = [entry for entry in sys.path if entry]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


class Pool:
    """Worker processes that run tasks under a hard time limit; one batch at a time (callers queue on a lock)."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size if size is not None else min(MAX_POOL_SIZE, cpu_share())
        self.pid = os.getpid()
        self.workers: list[_Process] = []
        self._lock = threading.Lock()

    def run(self, tasks: Sequence[tuple[str, ...]], timeout: float) -> list[tuple[Any, ...]]:
        """Run every task, each within ``timeout`` seconds (plus :data:`GRACE`); return one result per task.

        A result is ``("ok", ...)``, ``("timeout",)``, ``("died",)`` or ``("error", message)``.
        """
        if not tasks:
            return []
        with self._lock:
            try:
                return self._run(tasks, timeout)
            except BaseException:
                # Results still on their way would be read as answers to a later batch: drop busy workers.
                for worker in [w for w in self.workers if w.tasks]:
                    self._drop(worker)
                raise

    def _run(self, tasks: Sequence[tuple[str, ...]], timeout: float) -> list[tuple[Any, ...]]:
        results: list[tuple[Any, ...] | None] = [None] * len(tasks)
        pending = collections.deque(range(len(tasks)))
        failed_starts = 0
        for worker in [w for w in self.workers if not w.alive()]:
            self._drop(worker)
        while pending or any(w.tasks for w in self.workers):
            while len(self.workers) < min(self.size, len(pending) + sum(bool(w.tasks) for w in self.workers)):
                try:
                    self.workers.append(_Process())
                except OSError as error:  # no processes left, or the interpreter cannot be run
                    raise RewardlabError(f"cannot start a math-verify worker process: {error}") from None
            for worker in [w for w in self.workers if w.ready and not w.tasks]:
                if pending:
                    self._send(worker, pending, timeout, tasks)
            waiting = {w.conn: w for w in self.workers if w.tasks or not w.ready}
            if not waiting:
                continue
            wake = min(w.wake_at() for w in waiting.values())
            for conn in wait(list(waiting), timeout=max(0.0, wake - time.monotonic())):
                failed_starts += self._receive(waiting[conn], results, pending, timeout)
            now = time.monotonic()
            for worker in list(self.workers):
                if worker.tasks and now > worker.deadline:
                    results[worker.tasks.popleft()] = ("timeout",)
                    pending.extendleft(reversed(worker.tasks))
                    self._drop(worker)
                elif not worker.ready and now > worker.started + START_TIMEOUT:
                    failed_starts += 1
                    self._drop(worker)
            if failed_starts >= 3:
                raise RewardlabError(
                    f"math-verify worker processes did not start ({sys.executable} -m "
                    "rewardlab.rewards.math._verify_worker exited or did not answer; its error, if any, is above)"
                )
        return results  # type: ignore[return-value]

    def _send(self, worker: _Process, pending: collections.deque[int], timeout: float, tasks: Sequence[Any]) -> None:
        """Give ``worker`` its share of the pending tasks (consecutive ones: the same gold stays together)."""
        share = min(CHUNK, -(-len(pending) // len(self.workers)))
        chunk = [pending.popleft() for _ in range(share)]
        try:
            worker.conn.send((timeout, [tasks[i] for i in chunk]))
        except OSError:
            pending.extendleft(reversed(chunk))
            self._drop(worker)
            return
        worker.tasks.extend(chunk)
        worker.deadline = time.monotonic() + timeout + GRACE

    def _receive(self, worker: _Process, results: list[Any], pending: collections.deque[int], timeout: float) -> int:
        """Read every message ``worker`` has sent; return 1 if it died before it was ready, else 0."""
        while True:
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                if not worker.tasks:
                    self._drop(worker)
                    return 0 if worker.ready else 1
                results[worker.tasks.popleft()] = ("died",)
                pending.extendleft(reversed(worker.tasks))
                self._drop(worker)
                return 0
            if message[0] == "ready":
                worker.ready = True
            elif message[0] == "fatal":
                self._drop(worker)
                raise RewardlabError(f"math-verify cannot run: {message[1]} (pip install 'rewardlab[math]')")
            else:
                results[worker.tasks.popleft()] = message
                worker.deadline = time.monotonic() + timeout + GRACE
            if not worker.conn.poll():
                return 0

    def _drop(self, worker: _Process) -> None:
        worker.kill()
        self.workers.remove(worker)

    def close(self) -> None:
        """Kill every worker (used at exit and by tests)."""
        for worker in list(self.workers):
            self._drop(worker)


_POOL: Pool | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> Pool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = Pool()
        return _POOL


@atexit.register
def _close_at_exit() -> None:
    if _POOL is not None:
        _POOL.close()


def _after_fork_in_child() -> None:
    """Forget the parent's workers: they are not ours to use or kill; close our copies of their sockets."""
    global _POOL, _POOL_LOCK
    _POOL_LOCK = threading.Lock()  # another thread may have held either lock at the fork
    _GOLDS._lock = threading.Lock()
    if _POOL is not None:
        for worker in _POOL.workers:
            worker.conn.close()
        _POOL = None


os.register_at_fork(after_in_child=_after_fork_in_child)
