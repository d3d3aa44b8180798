"""One run per output directory: an exclusive lock on ``OUTPUT_DIR/run.lock`` held while a run trains.

Two runs started together into one empty directory would both find it empty and both save there, one run's files
replacing the other's. The lock is ``fcntl.flock`` on the lock file: the kernel drops it when the process ends,
however it ends, so the lock file of a run that died (killed, crashed, out of memory) is simply taken over by the
next run. The file holds the owner's process id, for the message. Under ``accelerate launch`` only the main
process (``RANK`` 0) locks. On systems without ``fcntl`` (Windows) no lock is taken.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from rewardlab.errors import RewardlabError

#: The lock file's name inside the output directory; :func:`grpo_plugin.runs.check_output_dir` ignores it.
LOCK_FILE = "run.lock"

_held: dict[Path, IO[str]] = {}


class OutputDirLocked(RewardlabError):
    """Another run is training into the same output directory."""


def acquire(output_dir: str | Path) -> None:
    """Lock ``output_dir`` for this process (a second call for the same directory keeps the lock it holds).

    Raises:
        OutputDirLocked: Another live process holds the lock.

    """
    if os.environ.get("RANK", "0") != "0":
        return
    try:
        import fcntl
    except ImportError:
        return
    path = (Path(output_dir) / LOCK_FILE).resolve()
    if path in _held:
        return
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise OutputDirLocked(
            f"--output-dir {output_dir} is in use by another run (process {owner}); wait for it to end or choose "
            "another directory"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _held[path] = handle


def release(output_dir: str | Path | None = None) -> None:
    """Drop this process's lock on ``output_dir`` (every lock it holds when None); the file stays, unlocked."""
    paths = list(_held) if output_dir is None else [(Path(output_dir) / LOCK_FILE).resolve()]
    for path in paths:
        handle = _held.pop(path, None)
        if handle is not None:
            handle.close()
