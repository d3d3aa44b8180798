"""Group a run's rows by prompt in bounded memory, whatever their order in the file.

One pass sends each row to one of B buckets chosen by a hash of its ``prompt_id``, so a bucket holds every row of
its prompts; each bucket is then read back alone. B is the file's size over :data:`BUCKET_BYTES`, so a bucket holds
about that much of the file: memory is bounded by one bucket (plus :data:`FLUSH_RECORDS` rows waiting to be
written), not by the run. A file that fits in one bucket is kept in memory and nothing is written to disk; larger
ones are spooled as pickles to a temporary directory (``$TMPDIR``), removed as soon as each bucket is read.
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
import stat
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Bytes of the input file per bucket.
BUCKET_BYTES = 16 * 2**20
#: Buckets for an input whose size is unknown (standard input, a pipe).
UNKNOWN_SIZE_BUCKETS = 64
#: Rows held before the waiting rows of every bucket are appended to its file.
FLUSH_RECORDS = 20_000


def bucket_count(source: str | os.PathLike[str]) -> int:
    """Buckets for an input: one per :data:`BUCKET_BYTES` of a regular file, :data:`UNKNOWN_SIZE_BUCKETS` else.

    Example:
        >>> bucket_count(__file__)
        1

    """
    try:
        info = os.stat(source)
    except OSError:
        return UNKNOWN_SIZE_BUCKETS
    if not stat.S_ISREG(info.st_mode):
        return UNKNOWN_SIZE_BUCKETS
    return max(1, math.ceil(info.st_size / BUCKET_BYTES))


class PromptBuckets:
    """Records filed by prompt key; iterating yields each bucket's records in the order they were added.

    Args:
        count: Number of buckets; with one, records stay in memory.

    Example:
        >>> with PromptBuckets(3) as buckets:
        ...     for key, value in [("a", 1), ("b", 2), ("a", 3)]:
        ...         buckets.add(key, value)
        ...     sorted(sorted(bucket) for bucket in buckets)
        [[1, 3], [2]]

    """

    def __init__(self, count: int) -> None:
        self.count = max(1, count)
        self._waiting: list[list[Any]] = [[] for _ in range(self.count)]
        self._held = 0
        self._directory = Path(tempfile.mkdtemp(prefix="evalkit-")) if self.count > 1 else None

    def __enter__(self) -> PromptBuckets:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, key: str, record: Any) -> None:
        """File ``record`` in the bucket of ``key`` (the same key always goes to the same bucket)."""
        index = zlib.crc32(key.encode("utf-8", "surrogatepass")) % self.count if self.count > 1 else 0
        self._waiting[index].append(record)
        self._held += 1
        if self._directory is not None and self._held >= FLUSH_RECORDS:
            self._flush()

    def __iter__(self) -> Iterator[list[Any]]:
        """Each non-empty bucket's records; a spooled bucket's file is removed once read."""
        if self._directory is None:
            if self._waiting[0]:
                yield self._waiting[0]
            return
        self._flush()
        for index in range(self.count):
            path = self._path(index)
            if not path.exists():
                continue
            records: list[Any] = []
            with path.open("rb") as handle:
                while True:
                    try:
                        records.extend(pickle.load(handle))
                    except EOFError:
                        break
            path.unlink()
            yield records

    def close(self) -> None:
        """Remove the spooled files."""
        self._waiting = [[] for _ in range(self.count)]
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    def _flush(self) -> None:
        assert self._directory is not None
        for index, records in enumerate(self._waiting):
            if records:
                with self._path(index).open("ab") as handle:
                    pickle.dump(records, handle, protocol=pickle.HIGHEST_PROTOCOL)
                self._waiting[index] = []
        self._held = 0

    def _path(self, index: int) -> Path:
        assert self._directory is not None
        return self._directory / f"{index}.pickle"
