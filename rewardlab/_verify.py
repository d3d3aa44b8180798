"""Parse and verify math answers with math-verify in worker processes that are killed when they run out of time.

math-verify bounds its own work with ``signal.alarm``, which only works in the main thread, and sympy can spend
minutes inside one C call where no signal reaches it (``9^{9^{9^{9^{9}}}}``). So every parse and verify runs in a
small pool of worker processes: inside a worker a timer interrupts slow Python code (the worker survives), and the
caller kills a worker that overstays its time by more than :data:`GRACE` seconds and starts a fresh one. The caller
only ever waits on pipes with a deadline, from any thread.

The pool is started on first use, shared by every reward in the process, never pickled (rewards hold no reference
to it), rebuilt after a fork, and its workers are killed at exit.
"""

from __future__ import annotations

import atexit
import collections
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import wait
from typing import Any

from rewardlab.core import RewardlabError

#: Worker processes at most: parsing is CPU-bound and rewards share the machine with training.
POOL_SIZE = max(1, min(4, os.cpu_count() or 1))
#: Seconds a worker may overstay its task's time before it is killed (its own timer fires first when it can).
GRACE = 0.5
#: Seconds a new worker may take to import math-verify and say it is ready.
START_TIMEOUT = 60.0
#: Longest text kept of each parsed expression in a verdict's details.
SHOWN_CHARS = 200
#: Golds whose parse the caller remembers (golds repeat across the G completions of a prompt and across epochs).
GOLD_CACHE_SIZE = 65536


@dataclass
class Verdict:
    """What parsing and verifying one answer against one gold found.

    Attributes:
        correct: ``verify(gold, answer)``; None when the gold cannot be parsed (or not in time).
        gold_parsed: The parsed gold, as text (sympy expression first, then the matched string).
        answer_parsed: The parsed answer, as text; empty when nothing could be extracted.
        timed_out: The gold or the answer took longer than the time limit; ``correct`` is then False (or None
            when it was the gold).
        error: Why a worker gave no answer other than time (it crashed, or math-verify raised).

    """

    correct: bool | None
    gold_parsed: list[str] = field(default_factory=list)
    answer_parsed: list[str] = field(default_factory=list)
    timed_out: bool = False
    error: str | None = None


def verify_batch(golds: Sequence[str], answers: Sequence[str], timeout: float) -> list[Verdict]:
    """Verify each answer against its gold, gold first, each parse-and-verify within ``timeout`` seconds.

    Golds are parsed with math-verify's default extraction (first match); answers with LaTeX extraction as
    open-r1 configures it (boxed first, no anchor-less extraction, units normalised). Each distinct gold is parsed
    once and remembered; each distinct (gold, answer) pair is verified once per call.

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
    pairs = list(dict.fromkeys((g, a) for g, a in zip(golds, answers) if gold_of[g].correct is not None))
    by_pair = dict(zip(pairs, _pool().run([("answer", g, a) for g, a in pairs], timeout)))
    verdicts = []
    for gold, answer in zip(golds, answers):
        known = gold_of[gold]
        if known.correct is None:
            verdicts.append(replace(known))
            continue
        status, *payload = by_pair[(gold, answer)]
        if status == "ok":
            verdicts.append(Verdict(payload[0], known.gold_parsed, payload[1]))
        else:
            verdicts.append(
                Verdict(False, known.gold_parsed, timed_out=status == "timeout", error=_error(status, payload))
            )
    return verdicts


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
        for gold, (status, *payload) in zip(missing, _pool().run([("gold", g) for g in missing], timeout)):
            if status != "ok":
                # Not remembered: a gold that ran out of time on a loaded machine may parse next time.
                found[gold] = Verdict(None, timed_out=status == "timeout", error=_error(status, payload))
                continue
            found[gold] = Verdict(False if payload[0] else None, payload[0])
            with self._lock:
                self._known[gold] = found[gold]
                while len(self._known) > GOLD_CACHE_SIZE:
                    self._known.popitem(last=False)
        return found


_GOLDS = _GoldCache()


# --------------------------------------------------------------------------------------------- the worker side


class _OutOfTime(BaseException):
    """Raised by the worker's timer; a BaseException so math-verify's ``except Exception`` lets it through."""


def _answer_config() -> list[Any]:
    from latex2sympy2_extended import NormalizationConfig
    from math_verify import LatexExtractionConfig

    return [
        LatexExtractionConfig(
            normalization_config=NormalizationConfig(
                nits=False, malformed_operators=False, basic_latex=True, boxed="all", units=True
            ),
            boxed_match_priority=0,
            try_extract_without_anchor=False,
        )
    ]


class _Worker:
    """The worker process's state: math-verify, the answer extraction config and the golds it has parsed."""

    def __init__(self) -> None:
        import logging

        import math_verify

        # Timeouts are ours; math-verify's "timeout is disabled" and per-parse warnings would only be noise.
        logging.getLogger("math_verify").setLevel(logging.ERROR)
        self.parse = math_verify.parse
        self.verify = math_verify.verify
        self.answer_config = _answer_config()
        self.golds: collections.OrderedDict[str, list[Any]] = collections.OrderedDict()

    def gold(self, text: str) -> list[Any]:
        if text in self.golds:
            self.golds.move_to_end(text)
            return self.golds[text]
        parsed = self.parse(text, extraction_mode="first_match", parsing_timeout=None)
        self.golds[text] = parsed
        if len(self.golds) > 4096:
            self.golds.popitem(last=False)
        return parsed

    def run(self, kind: str, *args: str) -> tuple[Any, ...]:
        if kind == "gold":
            return ("ok", _shown(self.gold(args[0])))
        gold = self.gold(args[0])
        answer = self.parse(
            args[1], extraction_config=self.answer_config, extraction_mode="first_match", parsing_timeout=None
        )
        correct = bool(self.verify(gold, answer, timeout_seconds=None))
        return ("ok", correct, _shown(answer))


def _shown(parsed: list[Any]) -> list[str]:
    return [str(item)[:SHOWN_CHARS] for item in parsed]


def _out_of_time(signum: int, frame: Any) -> None:
    raise _OutOfTime


def serve(conn: Any) -> None:
    """Worker process main loop: for each ``(timeout, tasks)`` received, send one result per task, in order."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle; it then kills us
    try:
        worker = _Worker()
    except BaseException as error:  # any failure to start is reported, then the worker exits
        conn.send(("fatal", f"{type(error).__name__}: {error}"))
        return
    signal.signal(signal.SIGALRM, _out_of_time)
    conn.send(("ready",))
    while True:
        try:
            timeout, tasks = conn.recv()
        except (EOFError, OSError):
            return
        for task in tasks:
            conn.send(_timed(worker, task, timeout))


def _timed(worker: _Worker, task: tuple[str, ...], timeout: float) -> tuple[Any, ...]:
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return worker.run(*task)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _OutOfTime:
        return ("timeout",)
    except Exception as error:  # math-verify catches its own; anything else is reported for this task only
        return ("error", f"{type(error).__name__}: {str(error)[:SHOWN_CHARS]}")


# --------------------------------------------------------------------------------------------- the caller side

#: Tasks sent to a worker at once: it streams back one result per task, so it never waits for the caller between
#: tasks, and the caller still knows which task a worker is on (its time starts when the previous result arrives).
CHUNK = 16


class _Process:
    """One worker process as the caller sees it: its pipe, whether it is ready, and the tasks it is on."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(child,), name="rewardlab-math-verify", daemon=True)
        self.process.start()
        child.close()
        self.started = time.monotonic()
        self.ready = False
        self.tasks: collections.deque[int] = collections.deque()
        self.deadline = 0.0

    def wake_at(self) -> float:
        return self.deadline if self.tasks else self.started + START_TIMEOUT

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class Pool:
    """Worker processes that run tasks under a hard time limit; one batch at a time (callers queue on a lock)."""

    def __init__(self, size: int = POOL_SIZE) -> None:
        self.size = size
        self.pid = os.getpid()
        self.workers: list[_Process] = []
        self._lock = threading.Lock()
        self._context = _context()

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
        for worker in [w for w in self.workers if not w.process.is_alive()]:
            self._drop(worker)
        while pending or any(w.tasks for w in self.workers):
            while len(self.workers) < min(self.size, len(pending) + sum(bool(w.tasks) for w in self.workers)):
                self.workers.append(_Process(self._context))
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
                    "math-verify worker processes did not start (a script that scores math answers needs an "
                    "`if __name__ == '__main__':` guard, as with any multiprocessing)"
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


def _context() -> Any:
    """Forkserver where there is one (a killed worker is replaced in milliseconds, math-verify pre-imported).

    A process made by a bare ``os.fork()`` inherits a forkserver it cannot use (it is not the server's parent), so
    there the workers are spawned.
    """
    if "forkserver" in multiprocessing.get_all_start_methods() and not _FORKED:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["rewardlab._verify", "math_verify"])
        return context
    return multiprocessing.get_context("spawn")


_POOL: Pool | None = None
_POOL_LOCK = threading.Lock()
_FORKED = False


def _pool() -> Pool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = Pool()
        return _POOL


def set_pool_size(size: int) -> None:
    """Give this process a pool of ``size`` workers (``rewardlab score --workers`` shares the CPUs between them)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None:
            _POOL.close()
        _POOL = Pool(size)


@atexit.register
def _close_at_exit() -> None:
    if _POOL is not None:
        _POOL.close()


def _after_fork_in_child() -> None:
    """Forget the parent's workers: they are not ours to use, kill or join (multiprocessing would try at exit)."""
    global _POOL, _FORKED, _POOL_LOCK
    _FORKED = True
    _POOL_LOCK = threading.Lock()  # another thread may have held either lock at the fork
    _GOLDS._lock = threading.Lock()
    if _POOL is not None:
        for worker in _POOL.workers:
            multiprocessing.process._children.discard(worker.process)  # type: ignore[attr-defined]
        _POOL = None


os.register_at_fork(after_in_child=_after_fork_in_child)
