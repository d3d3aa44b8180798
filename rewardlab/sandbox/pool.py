"""A pool of sandboxed fork servers, one per worker thread, started lazily and shut down at exit.

The host's threads only write requests and wait on pipes; programs run in the sandboxes, concurrently, one per
worker. A pool is never pickled: rewards keep only their settings and look their pool up with :func:`get_pool`
in whichever process scores, so each process starts its own sandboxes (a forked child forgets its parent's).
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
import warnings
from concurrent.futures import Future
from typing import Any

from rewardlab.sandbox.worker import SandboxError, SandboxStartError, Worker

ISOLATIONS = ("auto", "bwrap", "process")
#: Environment variable that picks the isolation when a reward does not (``auto``, ``bwrap`` or ``process``).
ENV_ISOLATION = "REWARDLAB_SANDBOX"


class IsolationWarning(RuntimeWarning):
    """Model code is running with weaker isolation than bubblewrap gives."""


FALLBACK_WARNING = (
    "rewardlab: model-generated code is NOT running in the bubblewrap sandbox ({reason}). The fallback gives "
    "resource limits (time, CPU, memory, file size, open files, processes), a separate session, a scrubbed "
    "environment and a temporary working directory{uid}, but the program CAN reach the network and CAN read the "
    "host's files and write wherever its user may write. Install bubblewrap (Debian/Ubuntu: apt-get install "
    "bubblewrap) for real isolation."
)
_warned: set[str] = set()
SHUT_DOWN = "the sandbox pool was shut down"


def warn_once(message: str) -> None:
    """Emit ``message`` as an :class:`IsolationWarning` once per process."""
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, IsolationWarning, stacklevel=3)


def resolve_isolation(isolation: str | None) -> str:
    """The isolation to use: ``isolation`` when given, else ``$REWARDLAB_SANDBOX``, else ``auto``.

    Raises:
        ValueError: Not one of ``auto``, ``bwrap``, ``process``.

    """
    chosen = (isolation or os.environ.get(ENV_ISOLATION) or "auto").strip().lower()
    if chosen not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}, got {chosen!r}")
    return chosen


class SandboxPool:
    """``workers`` sandboxes serving requests from one queue.

    Args:
        workers: Number of sandboxes (and host threads waiting on them); programs of different requests run
            concurrently, up to this many at once.
        isolation: ``bwrap`` (bubblewrap, error if it cannot start), ``process`` (the weaker fallback, with a
            warning), or ``auto`` (bubblewrap, falling back with a warning when it cannot start).

    """

    def __init__(self, workers: int, isolation: str = "auto") -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.isolation = resolve_isolation(isolation)
        self.mode: str | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._live: set[Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        #: Whether a sandbox of this pool ever started (a start failure before that is a configuration problem).
        self.started = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called; a closed pool serves nothing."""
        return self._closed

    def submit(self, request: dict[str, Any], timeout: float, fresh: bool = False) -> Future[dict[str, Any]]:
        """Queue ``request`` for the next free sandbox; its future gives the server's response.

        Args:
            request: The runs and their limits, as the fork server reads them.
            timeout: Seconds the sandbox has to answer once it has the request (time in the queue is not counted).
            fresh: Serve it on a newly started sandbox: a retry after a failure on the host's side.

        Returns:
            A future that raises :class:`SandboxStartError` when no sandbox can be started, and
            :class:`SandboxError` when the sandbox died or overran ``timeout`` seconds while serving it, or the
            pool was shut down first.

        """
        future: Future[dict[str, Any]] = Future()
        with self._lock:
            if self._closed:
                future.set_exception(SandboxError(SHUT_DOWN))
                return future
            if not self._threads:
                for index in range(self.workers):
                    thread = threading.Thread(target=self._serve, name=f"rewardlab-sandbox-{index}", daemon=True)
                    thread.start()
                    self._threads.append(thread)
        self._queue.put((future, request, timeout, fresh))
        return future

    def _serve(self) -> None:
        worker: Worker | None = None
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                future, request, timeout, fresh = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    if self._closed:
                        raise SandboxError(SHUT_DOWN)
                    if fresh and worker is not None:
                        self._forget(worker)
                        worker = None
                    if worker is None:
                        worker = self._new_worker()
                    future.set_result(worker.request(request, timeout))
                except BaseException as error:
                    future.set_exception(error)
        finally:
            if worker is not None:
                self._forget(worker)

    def _new_worker(self) -> Worker:
        """Start a sandbox in the pool's mode; the first start decides the mode (and its sandbox is kept)."""
        with self._lock:
            if self._closed:
                raise SandboxError(SHUT_DOWN)
            if self.mode is None:
                worker = self._first_worker()
                self._live.add(worker)
                self.started = True
                return worker
            worker = Worker(self.mode)
            self._live.add(worker)
        try:
            worker.start()
        except SandboxStartError:
            self._forget(worker)
            raise
        self.started = True
        return worker

    def _first_worker(self) -> Worker:
        if self.isolation == "process":
            reason = "isolation 'process' was asked for"
        else:
            worker = Worker("bwrap")
            try:
                worker.start()
            except SandboxStartError as error:
                if self.isolation == "bwrap":
                    raise
                reason = str(error)
            else:
                self.mode = "bwrap"
                return worker
        uid = ", and an unprivileged uid" if os.geteuid() == 0 else ""
        warn_once(FALLBACK_WARNING.format(reason=reason, uid=uid))
        self.mode = "process"
        worker = Worker("process")
        worker.start()
        return worker

    def _forget(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            self._live.discard(worker)

    def host_pids(self) -> list[int]:
        """Host pid of each running sandbox: bubblewrap's, or the fallback's fork server's."""
        with self._lock:
            return [worker.proc.pid for worker in self._live if worker.proc is not None]

    def close(self) -> None:
        """Stop the threads and kill every sandbox (programs still running are killed with them).

        Requests still queued or in flight fail with :class:`SandboxError`; none is left waiting.
        """
        with self._lock:
            self._closed = True
            threads, self._threads = self._threads, []
            live = list(self._live)
        for _ in threads:
            self._queue.put(None)
        for worker in live:
            worker.kill()
        for thread in threads:
            thread.join(timeout=5)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None and item[0].set_running_or_notify_cancel():
                item[0].set_exception(SandboxError(SHUT_DOWN))


_POOLS: dict[tuple[int, str], SandboxPool] = {}
_POOLS_LOCK = threading.Lock()


def get_pool(workers: int | None = None, isolation: str | None = None) -> SandboxPool:
    """The process's shared pool for these settings, created on first use and again after it was closed.

    Args:
        workers: Sandboxes in the pool; None means one per CPU core (``os.cpu_count()``).
        isolation: ``auto``, ``bwrap`` or ``process``; None reads ``$REWARDLAB_SANDBOX`` (default ``auto``).

    """
    key = (workers or os.cpu_count() or 1, resolve_isolation(isolation))
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None or pool.closed:
            pool = _POOLS[key] = SandboxPool(*key)
        return pool


def shutdown() -> None:
    """Close every pool of this process (registered with :mod:`atexit`)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.close()


def _forget_after_fork() -> None:
    """In a forked child the parent's sandboxes and threads are not ours: start afresh."""
    global _POOLS_LOCK
    _POOLS.clear()
    _POOLS_LOCK = threading.Lock()


atexit.register(shutdown)
os.register_at_fork(after_in_child=_forget_after_fork)
