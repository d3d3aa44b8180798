"""What the fork server reads about processes and files: pipes being drained, /proc, and deleting a run's files.

Standard library only and free of package-relative imports (the fork server loads it by path inside the sandbox).
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import signal
import stat
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


class Stream:
    """One pipe being read: everything is counted, the first ``keep`` bytes are kept."""

    __slots__ = ("keep", "data", "size", "open")

    def __init__(self, keep: int) -> None:
        self.keep, self.data, self.size, self.open = keep, bytearray(), 0, True

    def read(self, fd: int) -> None:
        """Read what ``fd`` holds now; end of file closes the stream."""
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            self.open = False
            return
        self.size += len(chunk)
        room = self.keep - len(self.data)
        if room > 0:
            self.data += chunk[:room]


class Proc:
    """A process as /proc shows it: its id, its parent's, its real uid and its number of threads."""

    __slots__ = ("pid", "ppid", "uid", "threads")

    def __init__(self, pid: int, ppid: int, uid: int, threads: int) -> None:
        self.pid, self.ppid, self.uid, self.threads = pid, ppid, uid, threads


def live_pids(keep: Any) -> list[Proc]:
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
            proc = Proc(int(name), int(fields[b"PPid"]), uid, int(fields.get(b"Threads", b"1")))
        except (KeyError, IndexError, ValueError):
            continue
        if keep(proc):
            found.append(proc)
    return found


def anon_bytes(pid: int) -> int:
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


def kill_as_uid(uid: int) -> None:
    """Kill every process of ``uid`` with ``kill(-1)`` from a helper running as ``uid``, until none is left.

    A process cannot leave its uid, so a fork cannot race this; the caller's own processes are another uid's.
    """
    helper = os.fork()
    if helper == 0:
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            for _ in range(100):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
                if not live_pids(lambda p: p.uid == uid and p.pid != os.getpid()):
                    break
        finally:
            os._exit(0)
    os.waitpid(helper, 0)


def descendants(root: int) -> list[int]:
    """The live descendants of ``root``."""
    children: dict[int, list[int]] = {}
    for proc in live_pids(lambda p: True):
        children.setdefault(proc.ppid, []).append(proc.pid)
    stack, found = list(children.get(root, [])), []
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def kill_descendants(root: int, spare: set[int]) -> None:
    """Kill the descendants of ``root`` but ``spare`` (orphans stay descendants of a subreaper) until none is left."""
    for _ in range(1000):
        found = [pid for pid in descendants(root) if pid not in spare]
        if not found:
            return
        for pid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def kill_all_but(spare: set[int]) -> None:
    """Kill every live process this process can see but ``spare``, pass after pass until none is left."""
    for _ in range(1000):
        found = live_pids(lambda p: p.pid not in spare)
        if not found:
            return
        for proc in found:
            with contextlib.suppress(OSError):
                os.kill(proc.pid, signal.SIGKILL)


def apply_limits(limits: dict[str, Any], processes: int) -> None:
    """Apply a run's limits (as :meth:`Limits.to_wire` gives them) to this process; ``processes`` for RLIMIT_NPROC."""
    cpu = math.ceil(limits["timeout"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.get("memory_bytes"):
        resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))


def stdin(text: str | None) -> int:
    """A descriptor to read ``text`` from (a memory file), or /dev/null for None."""
    if text is None:
        return os.open(os.devnull, os.O_RDONLY)
    fd = os.memfd_create("stdin", os.MFD_CLOEXEC)
    view = memoryview(text.encode("utf-8", "surrogateescape"))
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
