"""The zygote: a fresh interpreter that forks every program's process, so no program inherits what the tests are.

Standard library only and free of package-relative imports (the fork server loads it by path inside the
sandbox). A forked process holds a copy of its parent's memory: a program forked from the fork server could read
the row's tests, its setup and earlier rows' from it (through ``gc``, its frames, or ``/proc/self/mem``). So the
server forks only the tests' processes; programs come from the zygote, an interpreter the server starts with
``exec`` before it reads any request, which never receives a test, a program or an input: for each run it forks
one child, which then receives its program, its descriptors and its limits directly, and becomes the program.

The zygote reports the child's exit status on the same socket. Where programs run as a uid of their own it lives
as long as the server (the run's processes are killed by uid); otherwise the cleanup kills it with everything
else and the server starts a fresh one for the next run.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
from typing import Any

#: The descriptor of the zygote's end of its socket, in the zygote.
ZYGOTE_FD = 3
#: Most descriptors one program receives: stdin, stdout, stderr and the link to its tests.
MAX_FDS = 4
#: Seconds the server waits for the zygote's report once the run's processes are gone; past it the zygote is killed.
STATUS_WAIT = 5.0


class Zygote:
    """The server's handle on its zygote: start it, hand a run to its next child, read the child's exit status."""

    def __init__(self, server_path: str, config: str) -> None:
        mine, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(theirs.fileno(), ZYGOTE_FD)
                os.closerange(ZYGOTE_FD + 1, 1 << 16)
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, 0)
                os.dup2(null, 1)
                os.close(null)
                os.execv(sys.executable, [sys.executable, "-I", "-B", server_path, config, "zygote"])
            finally:
                os._exit(71)
        theirs.close()
        self.pid = pid
        self.sock = mine

    def start(self, wire: Any, job: dict[str, Any], fds: list[int]) -> None:
        """Have the zygote fork a child, and give that child ``job`` and ``fds`` (closed here afterwards)."""
        self.sock.sendall(b"F")
        socket.send_fds(self.sock, [b"J"], fds)
        wire.send(self.sock.fileno(), job)

    def status(self, wire: Any) -> int | None:
        """The wait status of the last child; None when the zygote has died or did not report in :data:`STATUS_WAIT`.

        Where programs run as the zygote's own uid (a sandbox started by a user other than root) a program can stop
        the zygote (``kill(-1, SIGSTOP)``): it is continued first, and killed if it still does not report, so the
        server never blocks on it.
        """
        try:
            os.kill(self.pid, signal.SIGCONT)
        except ProcessLookupError:
            return None
        if not select.select([self.sock], [], [], STATUS_WAIT)[0]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            return None
        try:
            message = wire.receive(self.sock.fileno())
        except wire.ProtocolError:
            return None
        return message.get("status") if isinstance(message, dict) else None

    def close(self) -> None:
        """Close the socket; the zygote, reading end of file, exits (the caller reaps it)."""
        self.sock.close()


def serve(server: Any) -> None:
    """The zygote's loop: for each ``F``, fork a child that becomes the program, wait for it, report its status."""
    wire = server.wire
    sock = socket.socket(fileno=ZYGOTE_FD)
    while True:
        if os.read(ZYGOTE_FD, 1) != b"F":
            return
        pid = os.fork()
        if pid == 0:
            try:
                _, fds, _, _ = socket.recv_fds(sock, 1, MAX_FDS)
                job = wire.receive(ZYGOTE_FD)
                server.program_child(
                    job["run"], job["limits"], *fds[:3], fds[3] if len(fds) > 3 else None, job["workdir"]
                )
            finally:
                os._exit(71)
        _, status = os.waitpid(pid, 0)
        try:
            wire.send(ZYGOTE_FD, {"status": status})
        except wire.ProtocolError:
            return
