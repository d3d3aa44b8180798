"""Read JSONL rows: the first step of the one data path, naming the file and line of every problem.

Reading refuses what no JSONL file holds (lines longer than :data:`MAX_LINE_BYTES`, JSON nested deeper than
:data:`MAX_DEPTH`, text that is not Unicode, an object with the same key twice) before it can exhaust memory or the
stack or silently keep one of two values. ``.gz`` inputs are recognised by their first bytes and decompressed.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rewardlab.errors import RewardlabError

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


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's keys and values, refused when a key repeats (JSON parsers keep one of the values silently)."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(key for key, _ in pairs if key in seen or seen.add(key)))
    return data


#: One decoder for every line: with the hook it is as fast as ``json.loads`` (which builds a decoder per call).
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)


def _parse_line(raw: bytes, name: str, number: int) -> dict[str, Any] | None:
    """The JSON object of one line, or None for a blank line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(name, number, f"not valid UTF-8 (byte {error.start})") from None
    if not text.strip():
        return None
    try:
        data = _DECODER.decode(text)
    except _DuplicateKey as error:
        raise InputError(name, number, f"the key '{error.key}' appears twice in one object") from None
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
