"""Write outputs into what the user named, never in place of it, and whole or not at all.

A regular file (or the file a symlink points to) is written to a temporary file beside it and renamed over it only
when complete, keeping its permissions, so a failed run never leaves half a file; a file with other hard links is
instead overwritten from that finished temporary file (a rename would cut it off from its other names); anything
else (standard output, ``/dev/stdout``, a FIFO, a device, a process substitution such as ``>(gzip > x.gz)``)
receives the whole output at the end, written directly into it. A name ending in ``.gz`` is written
gzip-compressed.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rewardlab.engine.read import STDIO
from rewardlab.errors import RewardlabError

#: Names of descriptors this process already holds open (``/dev/stdout``, ``>(cmd)`` becomes ``/dev/fd/63``).
_FD_PATH = re.compile(r"/dev/(?P<std>stdout|stderr)|/dev/fd/(?P<fd>\d+)|/proc/self/fd/(?P<pfd>\d+)")


class OutputError(RewardlabError):
    """An output file that cannot be written (no such directory, no permission, a directory in the way)."""


def _read_umask() -> int:
    # Setting the umask is the only portable way to read it; done once, at import, before threads exist.
    current = os.umask(0)
    os.umask(current)
    return current


UMASK = _read_umask()


@dataclass
class _Target:
    """Where an output goes: a regular file replaced by rename, or a stream written directly."""

    name: str
    file: Path | None = None
    existing: os.stat_result | None = None
    stream: str | None = None
    descriptor: int | None = None


def _resolve(target: str | os.PathLike[str]) -> _Target:
    """Find what the user named: standard output, an open descriptor, a stream, or the real regular file."""
    name = str(target)
    if name == STDIO:
        return _Target("<stdout>")
    match = _FD_PATH.fullmatch(name)
    if match:
        fd = {"stdout": 1, "stderr": 2}[match["std"]] if match["std"] else int(match["fd"] or match["pfd"])
        return _Target(name, descriptor=fd)
    try:
        info = os.stat(name)
    except FileNotFoundError:
        return _Target(name, file=Path(os.path.realpath(name)))
    except (OSError, ValueError) as error:
        raise OutputError(f"cannot write {name}: {getattr(error, 'strerror', None) or error}") from None
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {name}: it is a directory")
    if not stat.S_ISREG(info.st_mode):
        return _Target(name, stream=name)
    real = Path(os.path.realpath(name))
    if not os.access(real, os.W_OK):
        raise OutputError(f"cannot write {name}: Permission denied (the file is not writable)")
    return _Target(name, file=real, existing=info)


@contextlib.contextmanager
def atomic_writer(target: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """Open a text output that reaches ``target`` whole, and only if the ``with`` block ends without an error.

    A regular file, or the file a symlink points to, is replaced by renaming a temporary file written beside it,
    with the old file's permissions (new files get the usual ``0o666`` less the umask). A file with several hard
    links keeps its inode: the finished temporary file is copied into it, with SIGINT and SIGTERM held back until
    the copy is done. Standard output (``-``),
    ``/dev/stdout``, ``/dev/fd/N``, FIFOs and devices are written directly, once the block has ended; the output is
    held in an anonymous temporary file until then, so a failure part way writes nothing. A name ending in ``.gz``
    is written gzip-compressed.

    Raises:
        OutputError: The output cannot be written.

    """
    where = _resolve(target)
    compress = str(where.file or where.name).endswith(".gz")
    sink: IO[bytes] | None = None
    temporary: str | None = None
    try:
        if where.file is not None:
            where.file.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=where.file.parent, prefix=".rewardlab-", suffix=".tmp")
            raw: IO[bytes] = open(descriptor, "w+b")  # noqa: SIM115 - closed by the with below
        else:
            if where.stream is not None:
                sink = open(where.stream, "wb")  # noqa: SIM115 - kept open until the output is complete
            elif where.descriptor is not None:
                sink = os.fdopen(os.dup(where.descriptor), "wb")
            raw = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the with below
    except OSError as error:
        raise OutputError(f"cannot write {where.name}: {error.strerror or error}") from None
    try:
        with raw:
            packed: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) if compress else raw
            handle = io.TextIOWrapper(packed, encoding="utf-8", errors="backslashreplace")  # type: ignore[arg-type]
            try:
                yield handle
                handle.detach()
                if compress:
                    packed.close()
            except BaseException:
                with contextlib.suppress(Exception):
                    handle.close()
                raise
            if temporary is not None:
                raw.flush()
                os.fsync(raw.fileno())
                _take_over(temporary, where)
            else:
                raw.seek(0)
                _copy_out(raw, sink)
    except OSError as error:
        raise OutputError(f"cannot write {where.name}: {error.strerror or error}") from None
    finally:
        if sink is not None:
            with contextlib.suppress(OSError):
                sink.close()
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


def _take_over(temporary: str, where: _Target) -> None:
    """Give the finished temporary file the target's permissions (and owner, where allowed), then rename it.

    A target with other hard links is overwritten in place instead, so every name sees the new output.
    """
    assert where.file is not None
    old = where.existing
    if old is not None and old.st_nlink > 1:
        _overwrite(temporary, where.file)
        return
    os.chmod(temporary, stat.S_IMODE(old.st_mode) if old else 0o666 & ~UMASK)
    if old and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(OSError):
            os.chown(temporary, old.st_uid, old.st_gid)
    os.replace(temporary, where.file)


def _overwrite(temporary: str, file: Path) -> None:
    """Copy the finished output into ``file``'s own inode, holding back Ctrl-C and SIGTERM so it is not cut short."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        with open(temporary, "rb") as source, open(file, "r+b") as sink:
            sink.truncate(0)
            shutil.copyfileobj(source, sink)
            sink.flush()
            os.fsync(sink.fileno())
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _copy_out(source: IO[bytes], sink: IO[bytes] | None) -> None:
    """Write the finished output into a stream: an opened FIFO, device or descriptor, else standard output."""
    sys.stdout.flush()
    sys.stderr.flush()
    if sink is not None:
        shutil.copyfileobj(source, sink)
        sink.flush()
        return
    out = getattr(sys.stdout, "buffer", None)
    try:
        if out is None:
            sys.stdout.write(source.read().decode("utf-8", "backslashreplace"))
        else:
            shutil.copyfileobj(source, out)
        sys.stdout.flush()
    except OSError:
        discard_stdout()
        raise


def discard_stdout() -> None:
    """Point standard output at /dev/null after a failed write, so Python's exit does not fail on it again."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def dumps(record: dict[str, Any]) -> str:
    """One JSONL line; NaN and infinities become null so every line is valid JSON."""
    return json.dumps(_finite(record), ensure_ascii=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_jsonl(target: str | os.PathLike[str], records: Iterable[dict[str, Any]]) -> int:
    """Write records as JSONL atomically; return how many were written."""
    count = 0
    with atomic_writer(target) as handle:
        for record in records:
            handle.write(dumps(record) + "\n")
            count += 1
    return count


def record_line(record: dict[str, Any]) -> str:
    """The JSONL line of ``record``, as :func:`rewardlab.engine.write.dumps` writes it.

    Most records hold no NaN or infinity, and encoding them directly is about three times faster than first
    copying them without those values; only a record that has one takes the copy.
    """
    try:
        return json.dumps(record, ensure_ascii=False, allow_nan=False)
    except ValueError:
        return dumps(record)
