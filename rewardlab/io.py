"""JSONL in, JSONL out: the one data path of the toolkit.

Reading names the file, the line and the field of every problem, and refuses what no JSONL file holds (lines longer
than :data:`MAX_LINE_BYTES`, JSON nested deeper than :data:`MAX_DEPTH`, text that is not Unicode) before it can
exhaust memory or the stack. ``.gz`` inputs are recognised by their first bytes and decompressed.

Writing goes into what the user named, never in place of it: a regular file (or the file a symlink points to) is
written to a temporary file beside it and renamed over it only when complete, keeping its permissions, so a failed
run never leaves half a file; a file with other hard links is instead overwritten from that finished temporary file
(a rename would cut it off from its other names); anything else (standard output, ``/dev/stdout``, a FIFO, a
device, a process substitution such as ``>(gzip > x.gz)``) receives the whole output at the end, written directly
into it. A name ending in ``.gz`` is written gzip-compressed.
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
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rewardlab.core import RewardlabError

STDIO = "-"

#: Longest line read, in bytes: a longer one is refused instead of being read into memory without end.
MAX_LINE_BYTES = 64 * 1024 * 1024

#: Deepest nesting of JSON arrays and objects accepted in a row (the row itself is level 1).
MAX_DEPTH = 100

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"

#: A JSON escape that may be half of a UTF-16 surrogate pair; only rows that contain one are searched for it.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")

#: Names of descriptors this process already holds open (``/dev/stdout``, ``>(cmd)`` becomes ``/dev/fd/63``).
_FD_PATH = re.compile(r"/dev/(?P<std>stdout|stderr)|/dev/fd/(?P<fd>\d+)|/proc/self/fd/(?P<pfd>\d+)")


class InputError(RewardlabError):
    """A problem in an input file, reported as ``file:line: field 'x': problem``."""

    def __init__(self, source: str, line: int | None, message: str, field: str | None = None) -> None:
        where = f"{source}:{line}" if line else source
        what = f"field '{field}': {message}" if field else message
        super().__init__(f"{where}: {what}")
        self.source = source
        self.line = line
        self.field = field


@dataclass
class Row:
    """One JSON object of a JSONL file and the line it came from."""

    line: int
    data: dict[str, Any]


def source_name(source: str | os.PathLike[str]) -> str:
    """Name of an input for messages: the path as given, or ``<stdin>``."""
    return "<stdin>" if str(source) == STDIO else str(source)


def iter_jsonl(source: str | os.PathLike[str]) -> Iterator[Row]:
    r"""Yield the rows of a JSONL file (``-`` reads standard input), skipping blank lines.

    A UTF-8 byte order mark before the first row is accepted; gzip-compressed input is decompressed.

    Raises:
        InputError: The file is missing, unreadable or empty, or a line is too long, not UTF-8, not JSON, not a
            JSON object, nested too deeply, or holds a lone UTF-16 surrogate (``"\ud800"``).

    """
    name = source_name(source)
    count = 0
    with _open_binary(source) as handle:
        number = 0
        while True:
            number += 1
            raw = _read_line(handle, name, number)
            if not raw:
                break
            if number == 1 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM) :]
            data = _parse_line(raw, name, number)
            if data is None:
                continue
            count += 1
            yield Row(number, data)
    if count == 0:
        raise InputError(name, None, "no rows: the file is empty")


def read_jsonl(source: str | os.PathLike[str]) -> list[Row]:
    """Read a whole JSONL file; see :func:`iter_jsonl`."""
    return list(iter_jsonl(source))


@contextlib.contextmanager
def _open_binary(source: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    name = source_name(source)
    if str(source) == STDIO:
        stdin = sys.stdin.buffer
        raw = getattr(stdin, "raw", None)
        yield _decompressed(_buffered(raw) if isinstance(raw, io.FileIO) else stdin, name)
        return
    path = Path(source)
    if path.is_dir():
        raise InputError(name, None, "is a directory, not a JSONL file")
    try:
        handle = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        raise InputError(name, None, "no such file") from None
    except OSError as error:
        raise InputError(name, None, f"cannot read: {error.strerror or error}") from None
    except ValueError as error:
        raise InputError(name, None, f"cannot read: {error}") from None
    with handle:
        yield _decompressed(_buffered(handle), name)


class _InterruptibleRaw(io.RawIOBase):
    """A file read through a Python method, so that Ctrl-C or SIGTERM arriving between two reads is acted on.

    CPython runs signal handlers only between bytecodes: inside one ``readline`` of a C buffered reader, a signal
    that arrives while a chunk is being copied is left pending while the next read blocks (a FIFO that a writer
    keeps open and silent). Calling back into Python for each chunk lets the handler run first. The file itself is
    closed by whoever opened it.
    """

    def __init__(self, file: io.FileIO) -> None:
        super().__init__()
        self._file = file

    def readable(self) -> bool:
        """Always: this is a reader."""
        return True

    def readinto(self, buffer: Any) -> int | None:
        """Read the next chunk from the file."""
        return self._file.readinto(buffer)


def _buffered(file: io.FileIO) -> io.BufferedReader:
    return io.BufferedReader(_InterruptibleRaw(file), buffer_size=1 << 20)


def _decompressed(handle: IO[bytes], name: str) -> IO[bytes]:
    """``handle`` itself, or a gzip reader over it when it starts with gzip's magic bytes."""
    buffered = handle if hasattr(handle, "peek") else io.BufferedReader(handle)  # type: ignore[arg-type]
    try:
        start = buffered.peek(len(GZIP_MAGIC))[: len(GZIP_MAGIC)]  # type: ignore[attr-defined]
    except OSError as error:
        raise InputError(name, None, f"cannot read: {error.strerror or error}") from None
    return gzip.GzipFile(fileobj=buffered, mode="rb") if start == GZIP_MAGIC else buffered


def _read_line(handle: IO[bytes], name: str, number: int) -> bytes:
    try:
        raw = handle.readline(MAX_LINE_BYTES + 1)
    except EOFError:
        raise InputError(name, number, "cannot read: the compressed data ends early (a truncated .gz?)") from None
    except (zlib.error, gzip.BadGzipFile) as error:
        raise InputError(name, number, f"cannot read: corrupt gzip data ({error})") from None
    except OSError as error:
        raise InputError(name, number, f"cannot read: {error.strerror or error}") from None
    if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
        raise InputError(name, number, f"line longer than {MAX_LINE_BYTES // 2**20} MiB; a JSONL row is one line")
    return raw


def _parse_line(raw: bytes, name: str, number: int) -> dict[str, Any] | None:
    """The JSON object of one line, or None for a blank line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(name, number, f"not valid UTF-8 (byte {error.start})") from None
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(name, number, f"malformed JSON: {error.msg} (column {error.colno})") from None
    except RecursionError:
        raise InputError(name, number, f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # an integer of more digits than Python converts; the rest is advice for coders
        raise InputError(name, number, f"malformed JSON: {str(error).partition(':')[0]}") from None
    if not isinstance(data, dict):
        raise InputError(name, number, f"expected a JSON object, got {type(data).__name__}")
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(data) > MAX_DEPTH:
        raise InputError(name, number, f"JSON nested deeper than {MAX_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(raw):
        for key, value in data.items():
            if _has_lone_surrogate(key) or _has_lone_surrogate(value):
                message = "holds a lone surrogate (a \\ud800-style escape of half a UTF-16 pair), which is not text"
                raise InputError(name, number, message, _SURROGATE.sub("\ufffd", key))
    return data


def _children(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    return value if isinstance(value, list) else ()


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, counted without recursion; stops once past :data:`MAX_DEPTH`."""
    deepest = 0
    stack = [(value, 1)]
    while stack and deepest <= MAX_DEPTH:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in _children(item))
    return deepest


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        else:
            stack.extend(_children(item))
    return False


def require_text(row: Row, field: str, source: str, *, allow_messages: bool = True) -> None:
    """Check that ``row`` has ``field`` as a string or (if allowed) a list of chat messages.

    Chat messages follow TRL's conversational format: ``{"role": str, "content": str}``, where ``content`` may also
    be a list of typed parts whose text parts carry ``"text"``. A message with other keys (ShareGPT's ``from`` and
    ``value``) or content of another type is refused, naming the message, rather than read as empty text.

    Raises:
        InputError: The field is missing or has another type.

    """
    if field not in row.data or row.data[field] is None:
        raise InputError(source, row.line, "missing", field)
    value = row.data[field]
    if isinstance(value, str):
        return
    if allow_messages and isinstance(value, list):
        for index, message in enumerate(value, start=1):
            problem = message_problem(message)
            if problem:
                raise InputError(source, row.line, f"message {index}: {problem}", field)
        return
    expected = "a string or a list of chat messages" if allow_messages else "a string"
    raise InputError(source, row.line, f"expected {expected}, got {type(value).__name__}", field)


def message_problem(message: Any) -> str | None:
    """What is wrong with one chat message, or None when it is ``{"role": str, "content": str | parts}``.

    Example:
        >>> message_problem({"from": "human", "value": "Hi"})
        "expected keys 'role' and 'content', got 'from', 'value'"

    """
    if not isinstance(message, dict):
        return f"expected an object with 'role' and 'content', got {type(message).__name__}"
    if "role" not in message or "content" not in message:
        return f"expected keys 'role' and 'content', got {', '.join(map(repr, message)) or 'none'}"
    if not isinstance(message["role"], str):
        return f"'role' must be a string, got {type(message['role']).__name__}"
    content = message["content"]
    if isinstance(content, str):
        return None
    if not isinstance(content, list):
        return f"'content' must be a string or a list of parts, got {type(content).__name__}"
    for index, part in enumerate(content, start=1):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            return f"content part {index}: expected an object with 'type', got {_describe(part)}"
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            return f"content part {index}: a text part needs 'text' as a string, got {_describe(part.get('text'))}"
    return None


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "an object with keys " + (", ".join(map(repr, value)) or "none")
    return "nothing" if value is None else type(value).__name__


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
        _discard_stdout()
        raise


def _discard_stdout() -> None:
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


def columns_of(rows: Sequence[Row]) -> dict[str, list[Any]]:
    """Turn rows into TRL-style column lists (every key of any row, None where a row lacks it)."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row.data))
    return {key: [row.data.get(key) for row in rows] for key in keys}
