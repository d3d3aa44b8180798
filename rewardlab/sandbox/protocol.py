"""Length-prefixed JSON frames between the host and the fork server inside the sandbox.

Standard library only and free of package-relative imports: the server loads this file by path inside the
sandbox, where ``rewardlab`` itself is not importable.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any

HEADER = struct.Struct(">I")
#: Largest frame either side accepts; a request carries programs and tests, a response capped outputs.
MAX_FRAME = 256 * 1024 * 1024


class ChannelClosed(Exception):
    """The other side closed the pipe (the server died, or the host went away)."""


class ChannelTimeout(Exception):
    """No complete frame arrived before the deadline."""


def encode(message: Any) -> bytes:
    """Return ``message`` as one frame: a 4-byte big-endian length, then compact UTF-8 JSON."""
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=True).encode()
    return HEADER.pack(len(body)) + body


def write_frame(fd: int, message: Any) -> None:
    """Write one frame to ``fd`` completely (blocking)."""
    view = memoryview(encode(message))
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_frame(fd: int, deadline: float | None = None) -> Any:
    """Read one frame from ``fd``; ``deadline`` is a :func:`time.monotonic` time, None waits for ever.

    Raises:
        ChannelClosed: End of file before a complete frame.
        ChannelTimeout: The deadline passed first.

    """
    header = _read_exactly(fd, HEADER.size, deadline)
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ChannelClosed(f"frame of {size} bytes exceeds the limit")
    try:
        return json.loads(_read_exactly(fd, size, deadline))
    except (ValueError, RecursionError, MemoryError) as error:
        raise ChannelClosed(f"a frame that is not JSON within the limits ({type(error).__name__})") from None


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks = []
    while size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise ChannelTimeout()
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise ChannelClosed("end of file")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
