"""Progress of long work on standard error: a bar redrawn in place on a terminal, a plain line every N items else.

Logs and CI capture standard error, where a redrawn bar becomes thousands of lines; there a line is printed only
each time another ``every`` items are done. Standard output stays free for the results.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO

#: Seconds between redraws of a terminal bar.
REDRAW_SECONDS = 0.2
BAR_WIDTH = 24


class Progress:
    """Count done items of one task and show it.

    Args:
        label: What is being done (``reading grpo``).
        total: Items in all, when known (a bar and a percentage are then shown).
        every: Without a terminal, a line is printed each time this many more items are done.
        unit: What an item is, for the messages.
        stream: Where to write; standard error by default.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> with Progress("scoring", total=5, every=2, stream=out) as progress:
        ...     for _ in range(5):
        ...         progress.update(1)
        >>> print(out.getvalue(), end="")
        scoring: 2/5 rows (40%)
        scoring: 4/5 rows (80%)

    """

    def __init__(
        self, label: str, total: int | None = None, *, every: int, unit: str = "rows", stream: IO[str] | None = None
    ) -> None:
        self.label = label
        self.total = total
        self.every = max(1, every)
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self._terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self._drawn = 0.0

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def update(self, count: int) -> None:
        """Record ``count`` more items done."""
        before, self.done = self.done, self.done + count
        if self._terminal:
            now = time.monotonic()
            if now - self._drawn >= REDRAW_SECONDS:
                self._drawn = now
                self.stream.write(f"\r{self._bar()}")
                self.stream.flush()
        elif self.done // self.every > before // self.every:
            self.stream.write(f"{self.label}: {self._count()}\n")
            self.stream.flush()

    def close(self) -> None:
        """Clear a terminal bar, so the results that follow start on a clean line."""
        if self._terminal and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def _count(self) -> str:
        if self.total is None:
            return f"{self.done:,} {self.unit}"
        share = self.done / self.total if self.total else 1.0
        return f"{self.done:,}/{self.total:,} {self.unit} ({share:.0%})"

    def _bar(self) -> str:
        if self.total is None:
            return f"{self.label}: {self._count()}"
        filled = round(BAR_WIDTH * min(1.0, self.done / self.total)) if self.total else BAR_WIDTH
        return f"{self.label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self._count()}"
