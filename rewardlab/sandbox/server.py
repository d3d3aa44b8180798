"""The fork server: a long-lived interpreter inside the sandbox that runs each program and its tests afresh.

Standard library only; started by the host as ``python -I -B server.py CONFIG_JSON`` (inside bubblewrap, as the
namespace's pid 1, or as a plain process in the fallback), it loads its sibling modules by path, starts its
:mod:`zygote`, reports ready, then answers requests on fds 0 and 1 one at a time.

For each run the server:

1. has the zygote fork the program's process (:mod:`program`), and for assert and call tests forks the tests'
   process (:mod:`runner`) itself, the two joined by a socket pair; each starts a new session, keeps only its own
   descriptors (the report channel is the tests' alone, at a random number), drops to its own unprivileged uid
   (when the server runs as root), applies the resource limits and enters its working directory;
2. waits for the tests' process (or, for a stdin/stdout case, the program's), reading output up to the cap and
   reports, until it exits, the wall-clock deadline passes or a limit is exceeded;
3. kills every process of the run (by uid with ``kill(-1, SIGKILL)``, or everything but itself, or by walking its
   descendants) and deletes the files it wrote.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import json
import os
import select
import signal
import socket
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

_libc = ctypes.CDLL(None, use_errno=True)


def _load(name: str) -> Any:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_rewardlab_sandbox_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


procs = _load("procs")
zygote = _load("zygote")


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
        self.wire = _load("wire")
        self.program = _load("program")
        self.runner = _load("runner")
        self.config = json.dumps(config)
        self.zygote: Any = None
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
        self.base_anon = procs.anon_bytes(self.pid)
        self.zygote = zygote.Zygote(os.path.abspath(__file__), self.config)
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
        """Fork the run's processes, collect what they report, then clean up everything they left.

        A stdin/stdout case is one process, the program's. Assert and call tests are two, joined by a socket pair:
        the program's and the tests' (:mod:`runner`), which alone holds the report channel and is the one waited for.
        """
        self.counter += 1
        nonce = os.urandom(16).hex()
        channel_fd = 64 + int.from_bytes(os.urandom(2), "big") % 160
        workdir = self._prepare_workdir()
        stdin_fd = procs.stdin(run.get("input"))
        report_r, report_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        started = time.monotonic()
        closing = [stdin_fd, out_w, err_w, report_w]
        tests = None
        link_fd = None
        if run["kind"] != "stdio":
            link = socket.socketpair()
            tests = self._fork(self._tests_child, run, limits, report_w, channel_fd, nonce, link[0])
            link_fd = link[1].detach()
            closing.append(link[0].detach())
        if self.zygote is None:
            self.zygote = zygote.Zygote(os.path.abspath(__file__), self.config)
        job = {"run": {"kind": run["kind"], "code": run["code"]}, "limits": limits, "workdir": workdir}
        self.zygote.start(self.wire, job, [fd for fd in (stdin_fd, out_w, err_w, link_fd) if fd is not None])
        if link_fd is not None:
            closing.append(link_fd)
        for fd in closing:
            os.close(fd)
        try:
            result = self._collect(tests, limits, started, out_r, err_r, report_r, nonce)
        finally:
            self._cleanup(workdir)
            for fd in (out_r, err_r, report_r):
                os.close(fd)
        result["seconds"] = round(time.monotonic() - started, 4)
        return result

    def _fork(self, child: Any, *args: Any) -> int:
        pid = os.fork()
        if pid == 0:
            try:
                child(*args)
            finally:
                os._exit(71)
        return pid

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

    def program_child(
        self,
        run: dict[str, Any],
        limits: dict[str, Any],
        stdin_fd: int,
        out_w: int,
        err_w: int,
        link_fd: int | None,
        workdir: str,
    ) -> None:
        """Become the program's process (in a child of the zygote): descriptors, uid, limits, then the program."""
        os.setsid()
        os.dup2(stdin_fd, 0)
        if run["kind"] == "stdio":
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
        else:
            discard = os.open(os.devnull, os.O_WRONLY)
            os.dup2(discard, 1)
            os.dup2(discard, 2)
        if link_fd is not None:
            fd = 64 + int.from_bytes(os.urandom(2), "big") % 160
            os.dup2(link_fd, fd, inheritable=False)
            link_fd = fd
            os.closerange(3, link_fd)
        os.closerange((link_fd or 2) + 1, 1 << 16)
        self._become(self.uid, limits, workdir)
        self.program.main(run, link_fd)

    def _tests_child(
        self,
        run: dict[str, Any],
        limits: dict[str, Any],
        report_w: int,
        channel_fd: int,
        nonce: str,
        link: socket.socket,
    ) -> None:
        os.setsid()
        discard = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(discard, fd)
        os.dup2(report_w, channel_fd, inheritable=False)
        link_fd = channel_fd + 1
        os.dup2(link.fileno(), link_fd, inheritable=False)
        os.closerange(3, channel_fd)
        os.closerange(link_fd + 1, 1 << 16)
        self._become(None if self.uid is None else self.uid + 1, limits, "/")
        _prctl(PR_SET_DUMPABLE, 0)
        self.runner.main(run, channel_fd, nonce, link_fd)

    def _become(self, uid: int | None, limits: dict[str, Any], workdir: str) -> None:
        """Drop to ``uid`` (when the server has one to give), forbid new privileges, and apply the limits."""
        if uid is not None:
            if self.read_search:
                _prctl(PR_SET_KEEPCAPS, 1)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            if self.read_search:
                _keep_only_read_search()
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update({"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": workdir, "TMPDIR": workdir})
        self._apply_limits(limits)

    def _apply_limits(self, limits: dict[str, Any]) -> None:
        procs.apply_limits(limits, limits["processes"] + self._processes_already_counted())

    def _processes_already_counted(self) -> int:
        """Tasks RLIMIT_NPROC already counts against the program: none under a fresh uid, else the uid's threads."""
        if self.uid is None:
            me = os.getuid()
            return sum(proc.threads for proc in procs.live_pids(lambda p: p.uid == me))
        return 0

    def _collect(
        self,
        pid: int | None,
        limits: dict[str, Any],
        started: float,
        out_r: int,
        err_r: int,
        report_r: int,
        nonce: str,
    ) -> dict[str, Any]:
        deadline = started + float(limits["timeout"])
        output_cap = int(limits["output_bytes"])
        Stream = procs.Stream
        streams = {out_r: Stream(output_cap), err_r: Stream(STDERR_KEEP), report_r: Stream(REPORT_LIMIT)}
        pidfd = self.zygote.sock.fileno() if pid is None else _pidfd(pid)
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
                if pid is None and pidfd in ready:
                    status = self._program_status()
                elif pidfd is None or pidfd in ready:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    status = status if done else None
        finally:
            if pidfd is not None and pid is not None:
                os.close(pidfd)
        self._kill_all()
        if pid is not None:
            self._program_status()
            if status is None:
                _, status = os.waitpid(pid, 0)
        elif status is None:
            status = self._program_status()
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

    def _program_status(self) -> int:
        """The program's wait status, from the zygote; a SIGKILL when the zygote died (it is started afresh)."""
        status = self.zygote.status(self.wire) if self.zygote is not None else None
        if status is None:
            if self.zygote is not None:
                self.zygote.close()
            self.zygote = None
            return signal.SIGKILL
        return status

    def _result(
        self, outcome: str, status: int, out: Any, err: Any, report: Any, output_cap: int, nonce: str
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
                message = self.wire.loads(line[len(prefix) :])
            except self.wire.ProtocolError:
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
            ours = (1, self.pid, self.zygote.pid if self.zygote is not None else 1)
            pids = [int(name) for name in os.listdir("/proc") if name.isdigit() and int(name) not in ours]
        elif self.uid is not None:
            pids = [proc.pid for proc in procs.live_pids(lambda p: p.uid == self.uid)]
        else:
            pids = procs.descendants(self.pid)
        return sum(max(0, procs.anon_bytes(pid) - self.base_anon) for pid in pids)

    # -- cleanup --------------------------------------------------------------------------------------------------

    def _kill_all(self) -> None:
        """Kill every process the run started, wherever it went (new sessions, double forks); spare the zygote.

        Inside bubblewrap the PID namespace holds only the server, its zygote and the run's processes: every other
        process listed in /proc is killed, pass after pass until none is left (RLIMIT_NPROC bounds a fork bomb's
        race). The fallback kills the unprivileged uids' processes with ``kill(-1)`` from a helper running as
        each uid, or, without uids, the server's descendants but the zygote (the server is their subreaper, so
        orphans stay descendants). Reaping is left to the caller, which first collects the run's exit status.
        """
        spare = {1, self.pid, self.zygote.pid if self.zygote is not None else 1}
        if self.isolated_tmp:
            procs.kill_all_but(spare)
        elif self.uid is not None:
            procs.kill_as_uid(self.uid)
            procs.kill_as_uid(self.uid + 1)
        else:
            procs.kill_descendants(self.pid, spare)

    def _await_run_gone(self) -> None:
        """Reap, and inside bubblewrap wait until no process of the run is left, zombies included.

        A killed process counts towards its uid's RLIMIT_NPROC until it is reaped (orphans by the server, pid 1),
        and the next run on this sandbox has the same uid: right after a fork bomb it could not even fork.
        """
        self._reap()
        if not self.isolated_tmp:
            return
        ours = {1, self.pid, self.zygote.pid if self.zygote is not None else 1}
        deadline = time.monotonic() + GONE_WAIT
        while any(int(name) not in ours for name in os.listdir("/proc") if name.isdigit()):
            if time.monotonic() > deadline:
                return
            self._kill_all()
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
                    procs.remove_tree(entry.path, device)
        else:
            procs.remove_tree(workdir, os.lstat(workdir).st_dev)


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def main() -> None:
    """Entry point inside the sandbox: ``server.py CONFIG_JSON``, or ``server.py CONFIG_JSON zygote``."""
    server = Server(json.loads(sys.argv[1]))
    if sys.argv[2:] == ["zygote"]:
        _prctl(PR_SET_DUMPABLE, 0)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        with contextlib.suppress(AttributeError):
            _libc.mallopt(M_ARENA_MAX, 2)
        zygote.serve(server)
    else:
        server.serve()


if __name__ == "__main__":
    main()
