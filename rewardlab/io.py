"""JSONL in, JSONL out: the one data path of the toolkit.

Reading names the file, the line and the field of every problem; writing goes to a temporary file beside the
target and is renamed into place only when complete, so a failed run never leaves half a file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rewardlab.core import RewardlabError

STDIO = "-"


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
    """Yield the rows of a JSONL file (``-`` reads standard input), skipping blank lines.

    Raises:
        InputError: The file is missing or empty, a line is not UTF-8, not JSON, or not a JSON object.

    """
    name = source_name(source)
    count = 0
    with _open_binary(source) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InputError(name, number, f"not valid UTF-8 (byte {error.start})") from None
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as error:
                raise InputError(name, number, f"malformed JSON: {error.msg} (column {error.colno})") from None
            if not isinstance(data, dict):
                raise InputError(name, number, f"expected a JSON object, got {type(data).__name__}")
            count += 1
            yield Row(number, data)
    if count == 0:
        raise InputError(name, None, "no rows: the file is empty")


def read_jsonl(source: str | os.PathLike[str]) -> list[Row]:
    """Read a whole JSONL file; see :func:`iter_jsonl`."""
    return list(iter_jsonl(source))


@contextlib.contextmanager
def _open_binary(source: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    if str(source) == STDIO:
        yield sys.stdin.buffer
        return
    path = Path(source)
    if path.is_dir():
        raise InputError(str(source), None, "is a directory, not a JSONL file")
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InputError(str(source), None, "no such file") from None
    except OSError as error:
        raise InputError(str(source), None, f"cannot read: {error.strerror}") from None
    with handle:
        yield handle


def require_text(row: Row, field: str, source: str, *, allow_messages: bool = True) -> None:
    """Check that ``row`` has ``field`` as a string or (if allowed) a list of chat messages.

    Raises:
        InputError: The field is missing or has another type.

    """
    if field not in row.data or row.data[field] is None:
        raise InputError(source, row.line, "missing", field)
    value = row.data[field]
    if isinstance(value, str):
        return
    if (
        allow_messages
        and isinstance(value, list)
        and all(isinstance(m, dict) and isinstance(m.get("content"), (str, list)) for m in value)
    ):
        return
    expected = "a string or a list of chat messages" if allow_messages else "a string"
    raise InputError(source, row.line, f"expected {expected}, got {type(value).__name__}", field)


class OutputError(RewardlabError):
    """An output file that cannot be written (no such directory, no permission, a directory in the way)."""


def _read_umask() -> int:
    # Setting the umask is the only portable way to read it; done once, at import, before threads exist.
    current = os.umask(0)
    os.umask(current)
    return current


UMASK = _read_umask()


@contextlib.contextmanager
def atomic_writer(target: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """Open a text file that replaces ``target`` only if the ``with`` block ends without an error.

    ``-`` writes to standard output, which is buffered in a temporary file and copied out at the end, so a
    failure part way prints nothing.

    Raises:
        OutputError: The file cannot be written.

    """
    to_stdout = str(target) == STDIO
    directory = None if to_stdout else (Path(target).parent if str(Path(target).parent) else Path("."))
    try:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=directory, prefix=".rewardlab-", suffix=".tmp", delete=False
        )
    except OSError as error:
        raise OutputError(f"cannot write {target}: {error.strerror or error}") from None
    try:
        with handle:
            yield handle
        if to_stdout:
            with open(handle.name, encoding="utf-8") as written:
                for chunk in iter(lambda: written.read(1 << 20), ""):
                    sys.stdout.write(chunk)
            sys.stdout.flush()
        else:
            os.chmod(handle.name, 0o666 & ~UMASK)
            os.replace(handle.name, target)
    except OSError as error:
        raise OutputError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)


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
