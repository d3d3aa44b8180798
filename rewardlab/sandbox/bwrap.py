"""The command lines that start a fork server: inside bubblewrap, or as a plain process (the fallback).

Bubblewrap (https://github.com/containers/bubblewrap) gives the server new PID, network, IPC, UTS and cgroup
namespaces, a root filesystem made of read-only binds of the system and Python directories only, a private
``/tmp`` of bounded size, an empty environment and a new session; it dies with its parent. Started by root, the
server keeps only the capabilities it needs to run every program as a random unprivileged uid (which makes
RLIMIT_NPROC hold: the kernel does not apply it to root) and to kill and delete what that uid left: CAP_SETUID,
CAP_SETGID, CAP_KILL, CAP_DAC_OVERRIDE, CAP_FOWNER; programs hold none. Started by another user, it adds a user
namespace, the only way an unprivileged user may create the others. Either way a seccomp filter forbids creating
further user namespaces inside.
"""

from __future__ import annotations

import os
import platform
import shutil
import struct
import sys
from pathlib import Path

#: Where the sandbox sees this directory (server.py, runner.py, protocol.py).
SANDBOX_CODE = "/opt/rewardlab-sandbox"
SERVER = Path(__file__).resolve().parent / "server.py"
#: Size of the private /tmp each sandbox gets (tmpfs: it is memory, so it is bounded).
TMP_BYTES = 256 << 20
#: Size of the private /dev/shm (POSIX semaphores and shared memory, which multiprocessing uses).
SHM_BYTES = 64 << 20
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: The few files under /etc that the dynamic loader and Python's standard library read.
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
)
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}
SERVER_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER")


def find_bwrap() -> str | None:
    """Path of the ``bwrap`` executable, or None when it is not installed."""
    return shutil.which("bwrap") or next(
        (p for p in ("/usr/bin/bwrap", "/usr/local/bin/bwrap") if os.access(p, os.X_OK)), None
    )


def python_paths() -> list[str]:
    """Directories the interpreter needs: its prefixes (a venv's and its base's), resolved."""
    paths = []
    for prefix in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix):
        for path in (os.path.abspath(prefix), os.path.realpath(prefix)):
            if path not in paths:
                paths.append(path)
    executable_dir = os.path.dirname(os.path.realpath(sys.executable))
    if not any(executable_dir == p or executable_dir.startswith(p + "/") for p in paths):
        paths.append(executable_dir)
    return paths


#: Per architecture: audit arch, and the numbers of unshare, clone, clone3 (seccomp filters see raw numbers).
SYSCALLS = {"x86_64": (0xC000003E, 272, 56, 435), "aarch64": (0xC00000B7, 97, 220, 435)}
CLONE_NEWUSER = 0x10000000
X32_SYSCALL_BIT = 0x40000000


def seccomp_filter() -> bytes | None:
    """A classic-BPF seccomp program that stops the sandbox from creating user namespaces.

    User namespaces are the kernel's largest attack surface for unprivileged code; bubblewrap's
    ``--disable-userns`` needs a user namespace of its own, which root's sandbox does not have. The filter fails
    ``unshare`` and ``clone`` with CLONE_NEWUSER (EPERM), ``clone3`` (ENOSYS, whose flags it cannot read; glibc
    then falls back to ``clone``), and any other ABI (x32, i386). None on architectures it does not know.
    """
    machine = platform.machine()
    if machine not in SYSCALLS or sys.byteorder != "little":
        return None
    arch, unshare, clone, clone3 = SYSCALLS[machine]
    load, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, errno_base = 0x7FFF0000, 0x00050000
    eperm, enosys = errno_base | 1, errno_base | 38
    program = [
        (load, 0, 0, 4),  # 0: A = arch
        (jeq, 1, 0, arch),  # 1: native ABI -> 3
        (ret, 0, 0, enosys),  # 2
        (load, 0, 0, 0),  # 3: A = syscall number
        (jge, 0, 1, X32_SYSCALL_BIT),  # 4: x32 ABI -> 5
        (ret, 0, 0, enosys),  # 5
        (jeq, 0, 1, clone3),  # 6
        (ret, 0, 0, enosys),  # 7
        (jeq, 1, 0, unshare),  # 8: -> 10
        (jeq, 0, 3, clone),  # 9: neither -> 13
        (load, 0, 0, 16),  # 10: A = low word of the first argument (the flags)
        (jset, 0, 1, CLONE_NEWUSER),  # 11
        (ret, 0, 0, eperm),  # 12
        (ret, 0, 0, allow),  # 13
    ]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)


def bwrap_command(bwrap: str, config: str, *, as_root: bool, seccomp_fd: int | None = None) -> list[str]:
    """The bubblewrap command line that starts the fork server with ``config`` (JSON).

    ``seccomp_fd`` is a descriptor the child bubblewrap inherits, holding :func:`seccomp_filter`'s program.
    """
    args = [bwrap]
    made: set[str] = set()

    def parents(path: str) -> None:
        parts = Path(path).parts[1:-1]
        for i in range(1, len(parts) + 1):
            directory = "/" + "/".join(parts[:i])
            if directory not in made:
                made.add(directory)
                args.extend(["--perms", "0755", "--dir", directory])

    for directory in SYSTEM_DIRS:
        if os.path.islink(directory):
            args.extend(["--symlink", os.readlink(directory), directory])
        elif os.path.isdir(directory):
            args.extend(["--ro-bind", directory, directory])
    # The private /tmp and /dev come before the interpreter's binds: a venv under /tmp stays visible on top of them.
    args.extend(["--proc", "/proc", "--dev", "/dev"])
    args.extend(["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"])
    args.extend(["--perms", "1777", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm"])
    for path in ETC_FILES:
        if os.path.exists(path):
            parents(path)
            args.extend(["--ro-bind", path, path])
    system = tuple(d for d in SYSTEM_DIRS if os.path.isdir(d) and not os.path.islink(d))
    for path in python_paths():
        if any(path == d or path.startswith(d + "/") for d in system) or not os.path.exists(path):
            continue
        parents(path)
        if os.path.islink(path):
            args.extend(["--symlink", os.path.realpath(path), path])
        else:
            args.extend(["--ro-bind", path, path])
    parents(SANDBOX_CODE + "/x")
    args.extend(["--ro-bind", str(SERVER.parent), SANDBOX_CODE])
    args.extend(["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"])
    if as_root:
        args.extend(["--cap-drop", "ALL"])
        for cap in SERVER_CAPS:
            args.extend(["--cap-add", cap])
    else:
        args.extend(["--unshare-user", "--disable-userns"])
    if seccomp_fd is not None:
        args.extend(["--seccomp", str(seccomp_fd)])
    # The server is the namespace's pid 1: the kernel delivers no signal it does not handle (SIGKILL, SIGSTOP
    # included) to it from inside, so no program can kill or stop it.
    args.append("--as-pid-1")
    args.extend(["--hostname", "sandbox", "--die-with-parent", "--new-session", "--clearenv", "--chdir", "/tmp"])
    for key, value in ENV.items():
        args.extend(["--setenv", key, value])
    args.extend(["--", sys.executable, "-I", "-B", f"{SANDBOX_CODE}/server.py", config])
    return args


def process_command(config: str) -> list[str]:
    """The fallback: the fork server as a plain process (limits, new session and scrubbed environment only)."""
    return [sys.executable, "-I", "-B", str(SERVER), config]


def readable_by_others(paths: list[str]) -> bool:
    """Whether a user who owns none of ``paths`` can read them: every ancestor searchable, each path readable."""
    for path in paths:
        current = Path(path)
        for directory in [current, *current.parents]:
            try:
                mode = directory.stat().st_mode
            except OSError:
                return False
            if not mode & 0o001 or (directory == current and not mode & 0o004):
                return False
    return True
