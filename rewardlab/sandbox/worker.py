"""One sandboxed fork server as the host sees it: start it, send it a request, kill it.

Only the host's worker thread touches a :class:`Worker`; it blocks on the server's pipe and never runs program
code itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from typing import Any

from rewardlab.sandbox import bwrap, protocol

#: How long a new sandbox may take to report ready.
START_TIMEOUT = 30.0
#: Range of the random uids programs run as when the host is root (far from any real account).
UID_RANGE = (1_000_000_000, 2_000_000_000)


class SandboxError(RuntimeError):
    """A sandbox died or hung while serving a request (a program may have killed it)."""


class SandboxStartError(SandboxError):
    """No sandbox could be started; programs cannot be run at all."""


class Worker:
    """A fork server in ``mode`` ``"bwrap"`` or ``"process"``; started by :meth:`start`."""

    def __init__(self, mode: str) -> None:
        if mode not in ("bwrap", "process"):
            raise ValueError(f"unknown sandbox mode {mode!r}")
        self.mode = mode
        self.proc: subprocess.Popen[bytes] | None = None
        self.uid: int | None = None
        self._stderr: Any = None
        self._work_root: str | None = None
        self._kill_lock = threading.Lock()  # the pool's close() and the worker's own thread may kill at once

    @property
    def alive(self) -> bool:
        """Whether the server process is running."""
        proc = self.proc
        return proc is not None and proc.poll() is None

    def start(self) -> None:
        """Start the server and wait for it to report ready.

        Raises:
            SandboxStartError: The server did not start; the message carries what it (or bubblewrap) printed.

        """
        as_root = os.geteuid() == 0
        self.uid = secrets.randbelow(UID_RANGE[1] - UID_RANGE[0]) + UID_RANGE[0] if as_root else None
        pass_fds: tuple[int, ...] = ()
        if self.mode == "bwrap":
            found = bwrap.find_bwrap()
            if found is None:
                raise SandboxStartError("bubblewrap (bwrap) is not installed")
            work_root = "/tmp"
            program = bwrap.seccomp_filter()
            if program is not None:
                seccomp = tempfile.TemporaryFile()
                seccomp.write(program)
                seccomp.seek(0)
                pass_fds = (seccomp.fileno(),)
            command = bwrap.bwrap_command(
                found, self._config(work_root), as_root=as_root, seccomp_fd=pass_fds[0] if pass_fds else None
            )
            cwd = "/"
        else:
            self._work_root = work_root = tempfile.mkdtemp(prefix="rewardlab-sandbox-")
            os.chmod(work_root, 0o711)
            command = bwrap.process_command(self._config(work_root))
            cwd = work_root
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=dict(bwrap.ENV) if self.mode == "process" else {"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                cwd=cwd,
                close_fds=True,
                pass_fds=pass_fds,
                start_new_session=True,
            )
        finally:
            if pass_fds:
                seccomp.close()
        try:  # ``proc``, not ``self.proc``: the pool's close() may kill this sandbox from another thread meanwhile
            ready = protocol.read_frame(proc.stdout.fileno(), time.monotonic() + START_TIMEOUT)
        except (OSError, protocol.ChannelClosed, protocol.ChannelTimeout, ValueError):
            message = self._stderr_text()
            self.kill()
            raise SandboxStartError(f"the {self.mode} sandbox did not start: {message or 'no message'}") from None
        if not isinstance(ready, dict) or not ready.get("ready"):
            self.kill()
            raise SandboxStartError(f"the {self.mode} sandbox sent {ready!r} instead of ready")

    def _config(self, work_root: str) -> str:
        read_search = self.mode == "process" and self.uid is not None
        read_search = read_search and not bwrap.readable_by_others(bwrap.python_paths())
        return json.dumps({"mode": self.mode, "uid": self.uid, "work_root": work_root, "read_search": read_search})

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and return the response; kill the server if it dies or overruns ``timeout``.

        Raises:
            SandboxStartError: The server was not running and could not be restarted.
            SandboxError: The server died (a program may have killed it) or did not answer in time.

        """
        if not self.alive:
            self.start()
        proc = self.proc  # the pool's close() may kill this sandbox, and clear ``self.proc``, from another thread
        try:
            if proc is None:
                raise protocol.ChannelClosed
            protocol.write_frame(proc.stdin.fileno(), message)
            return protocol.read_frame(proc.stdout.fileno(), time.monotonic() + timeout)
        except (OSError, protocol.ChannelClosed, protocol.ChannelTimeout, ValueError) as error:
            died = not isinstance(error, protocol.ChannelTimeout)
            detail = self._stderr_text() if died else ""
            self.kill()
            what = "died" if died else f"did not answer within {timeout:.0f} s"
            raise SandboxError(f"the sandbox {what}{': ' + detail if detail else ''}") from None

    def _stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self._stderr.seek(0)
            return " ".join(self._stderr.read()[-2000:].decode("utf-8", "replace").split())
        return ""

    def kill(self) -> None:
        """Kill the server and everything under it; remove the fallback's work directory."""
        with self._kill_lock:
            proc, self.proc = self.proc, None
            if proc is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
                for stream in (proc.stdin, proc.stdout):
                    with contextlib.suppress(OSError):
                        stream.close()
                if self.mode == "process" and self.uid is not None:
                    _kill_uid(self.uid)
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None
            if self._work_root is not None:
                shutil.rmtree(self._work_root, ignore_errors=True)
                self._work_root = None


def _kill_uid(uid: int) -> None:
    """Kill every process of ``uid`` (the fallback has no PID namespace to take them down with the server)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["/bin/kill", "-KILL", "-1"],
            user=uid,
            group=uid,
            extra_groups=[],
            env={},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
            check=False,
        )
