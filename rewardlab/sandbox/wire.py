"""The narrow interface between a program and its tests: plain data as tagged JSON, bounded and decoded totally.

Standard library only and free of package-relative imports: the fork server loads this file by path inside the
sandbox; the host imports it to decode the values the tests process reports.

A value crosses as nested ``[tag, ...]`` lists: ``N`` None, ``b`` bool, ``i`` int (hex), ``f`` float (repr), ``c``
complex, ``s`` str, ``y`` bytes (hex), ``l``/``t``/``S``/``F`` list, tuple, set, frozenset, ``d`` dict (pairs), and
``R`` a handle to an object that stays in the program's process (its functions, classes and the instances of its
classes). Decoding builds fresh builtin objects only; it never evaluates anything, and any input that is not a
well-formed value within the limits (:data:`MAX_FRAME` bytes, :data:`MAX_DEPTH` levels, :data:`MAX_NODES` nodes)
raises :class:`ProtocolError` and nothing else.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from collections.abc import Callable
from typing import Any

HEADER = struct.Struct(">I")
#: Largest message either side of the program/tests link accepts.
MAX_FRAME = 16 * 1024 * 1024
#: How deep a value may nest, and how many nodes it may hold.
MAX_DEPTH = 100
MAX_NODES = 1_000_000
NUMBERS = frozenset({int, float, complex, bool})
ATOMS = frozenset({str, bytes, type(None)})
PLAIN = NUMBERS | ATOMS | {list, tuple, dict, set, frozenset}


class ProtocolError(BaseException):
    """A message that is not a well-formed value within the limits, or a link that broke mid-call.

    A BaseException, so that a test's ``except Exception`` cannot swallow it: the test it happens in fails.
    """


class Gone(ProtocolError):
    """The other end of the link closed it (its process ended)."""


def _complex(value: complex) -> complex:
    return complex(complex.real.__get__(value), complex.imag.__get__(value))


#: Builtin types whose subclasses cross as the value they hold, read through the base type's own slots (an override
#: of ``__int__``, ``__str__``, ``__iter__`` or ``items`` in the subclass plays no part).
BASES = (
    (int, int.__index__),
    (float, float.__float__),
    (complex, _complex),
    (str, str.__str__),
    (bytes, bytes.__bytes__),
    (list, lambda value: list(list.__iter__(value))),
    (tuple, lambda value: tuple(tuple.__iter__(value))),
    (dict, lambda value: dict(dict.items(value))),
    (set, lambda value: set(set.__iter__(value))),
    (frozenset, lambda value: frozenset(frozenset.__iter__(value))),
)


def plain(value: Any) -> Any:
    """The plain value ``value`` holds, at its top level; a value of any other type comes back unchanged.

    numpy scalars and arrays give the Python numbers and (nested) lists they hold; a value of a subclass of a builtin
    type gives a value of that builtin type, read through the base type. Items of containers are left to the caller.
    """
    kind = type(value)
    if kind in PLAIN:
        return value
    numpy = sys.modules.get("numpy")
    if numpy is not None and issubclass(kind, numpy.ndarray):
        return numpy.ndarray.tolist(value)
    if numpy is not None and issubclass(kind, numpy.generic):
        return numpy.generic.tolist(value)
    for base, read in BASES:
        if issubclass(kind, base):
            return read(value)
    return value


SEQUENCES = {list: "l", tuple: "t", set: "S", frozenset: "F"}


def encode(value: Any, other: Callable[[Any], Any] | None = None) -> Any:
    """Encode ``value`` as tagged JSON; each item is first read as the plain data it holds (:func:`plain`).

    ``other`` encodes what is not plain data (a handle); without it, or when it raises, such a value is a TypeError.

    Raises:
        TypeError: A value that is not plain data and that ``other`` does not take.
        ValueError: The value is deeper or larger than the limits.

    """
    budget = [MAX_NODES]

    def enc(x: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_DEPTH:
            raise ValueError(f"the value is too large or too deep to cross (over {MAX_DEPTH} levels)")
        x = plain(x)
        t = type(x)
        if x is None:
            return ["N"]
        if t is bool:
            return ["b", x]
        if t is int:
            return ["i", hex(x)]
        if t is float:
            return ["f", repr(x)]
        if t is complex:
            return ["c", repr(x.real), repr(x.imag)]
        if t is str:
            return ["s", x]
        if t is bytes:
            return ["y", x.hex()]
        if t in SEQUENCES:
            return [SEQUENCES[t], [enc(item, depth + 1) for item in x]]
        if t is dict:
            return ["d", [[enc(k, depth + 1), enc(v, depth + 1)] for k, v in x.items()]]
        if other is not None:
            return other(x)
        raise TypeError(f"a value of type {t.__qualname__} cannot cross between the program and its tests")

    return enc(value, 0)


def decode(encoded: Any, resolve: Callable[[list[Any]], Any] | None = None) -> Any:
    """Rebuild a value :func:`encode` wrote, from builtin types only; ``resolve`` turns an ``R`` handle into an object.

    Raises:
        ProtocolError: Anything that is not a well-formed value within the limits (or a handle without ``resolve``).

    """
    budget = [MAX_NODES]

    def dec(x: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_DEPTH:
            raise ProtocolError(f"a value larger or deeper than the limits ({MAX_DEPTH} levels)")
        if type(x) is not list or not x or type(x[0]) is not str:
            raise ProtocolError("a value that is not a tagged list")
        tag, n = x[0], len(x)
        if tag == "N" and n == 1:
            return None
        if n == 2 and tag in ATOM_TAGS and type(x[1]) is ATOM_TAGS[tag][0]:
            return ATOM_TAGS[tag][1](x[1])
        if tag == "c" and n == 3 and type(x[1]) is str and type(x[2]) is str:
            return complex(float(x[1]), float(x[2]))
        if tag in SEQUENCE_TAGS and n == 2 and type(x[1]) is list:
            return SEQUENCE_TAGS[tag](dec(item, depth + 1) for item in x[1])
        if tag == "d" and n == 2 and type(x[1]) is list:
            pairs = [(dec(p[0], depth + 1), dec(p[1], depth + 1)) for p in x[1] if type(p) is list and len(p) == 2]
            if len(pairs) != len(x[1]):
                raise ProtocolError("a dict entry that is not a pair")
            return dict(pairs)
        if tag == "R" and resolve is not None:
            return resolve(x)
        raise ProtocolError(f"an unknown or malformed value tagged {tag[:20]!r}")

    try:
        return dec(encoded, 0)
    except ProtocolError:
        raise
    except Exception as error:  # unhashable keys, bad hex or float text, MemoryError, RecursionError
        raise ProtocolError(f"a malformed value ({type(error).__name__})") from None


def _int(text: str) -> int:
    if len(text) > 2 * MAX_FRAME:
        raise ValueError("int too long")
    return int(text, 16)


ATOM_TAGS: dict[str, tuple[type, Callable[[Any], Any]]] = {
    "b": (bool, bool),
    "i": (str, _int),
    "f": (str, float),
    "s": (str, str),
    "y": (str, bytes.fromhex),
}
SEQUENCE_TAGS: dict[str, Callable[[Any], Any]] = {"l": list, "t": tuple, "S": set, "F": frozenset}


def loads(data: bytes) -> Any:
    """JSON within :data:`MAX_FRAME` bytes and Python's nesting limit; anything else is a ProtocolError."""
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"a message of {len(data)} bytes, over the limit of {MAX_FRAME}")
    try:
        return json.loads(data)
    except Exception as error:  # ValueError, RecursionError (deep nesting), MemoryError
        raise ProtocolError(f"a message that is not valid JSON within the limits ({type(error).__name__})") from None


def describe(error: BaseException) -> str:
    """An exception as the one line of text that crosses the wire in its place, shortened; never raises."""
    try:
        text = " ".join(str(error).split())
    except BaseException:
        text = "<unprintable>"
    name = type(error).__name__
    return f"{name}: {text[:300]}" if text else name


def send(fd: int, message: Any) -> None:
    """Write ``message`` to ``fd`` as one length-prefixed JSON frame.

    Raises:
        ProtocolError: The other side has gone.

    """
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=True).encode()
    view = memoryview(HEADER.pack(len(body)) + body)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError as error:
        raise Gone(f"the other side has gone ({error.strerror})") from None


def receive(fd: int) -> Any:
    """Read one frame from ``fd`` and parse it with :func:`loads`.

    Raises:
        ProtocolError: End of file, a frame over the limit, or a body that is not JSON within the limits.

    """
    (size,) = HEADER.unpack(_read(fd, HEADER.size))
    if size > MAX_FRAME:
        raise ProtocolError(f"a message of {size} bytes, over the limit of {MAX_FRAME}")
    return loads(_read(fd, size))


def _read(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        try:
            chunk = os.read(fd, min(size, 1 << 20))
        except OSError as error:
            raise ProtocolError(f"the link failed ({error.strerror})") from None
        if not chunk:
            raise Gone("the other side has gone")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
