r"""The math-verify worker (``python -m rewardlab.rewards.math._verify_worker FD``): parse and verify under a timer.

It is started by :mod:`rewardlab.rewards.math.verify` as a fresh interpreter that imports only this module and
math-verify, never the caller's ``__main__`` (multiprocessing's spawn and forkserver re-run the user's script in each
child, which re-runs a training script that has no ``if __name__ == "__main__":`` guard). It talks over one socket,
inherited as file descriptor ``FD``, with :class:`multiprocessing.connection.Connection` messages: it sends
``("ready",)`` (or ``("fatal", message)``), then for each ``(timeout, tasks)`` it receives, one result per task, in
order.

How golds and answers are read (math-verify extraction, LaTeX first, then plain expressions):

- A gold with math delimiters (``$…$``, ``\(…\)``, ``\[…\]``, ``\boxed{}``) is normalised as answers are and read
  by LaTeX extraction.
- A bare gold, as MATH and GSM-style datasets store them (``2^{10}``, ``\frac{\sqrt{2}}{2}``, ``[1,2)``, ``1,018``),
  is normalised (:func:`rewardlab.rewards.math.extract.normalise`) and read whole as LaTeX; math-verify's default
  would read a number out of it (``2^{10}`` as 2).
- A gold that is prose (words, not math) gives a value only when it holds exactly one number; otherwise none.
- An answer arrives already found and normalised by :mod:`rewardlab.rewards.math.extract` (the caller applies the
  one extraction rule) and is read whole, as a bare gold is.
"""

from __future__ import annotations

import collections
import re
import signal
import sys
from typing import Any

from rewardlab.rewards.math.extract import DELIMITED_RE, is_prose, normalise

#: Longest text kept of each parsed expression in a verdict's details.
SHOWN_CHARS = 200
#: Parsed golds a worker remembers.
GOLD_MEMORY = 4096

NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
#: A text that is nothing but a plain expression: digits, separators and arithmetic operators.
PLAIN_RE = re.compile(r"[-+(]*\d[\d\s.,+\-*/×÷^()%]*")
#: Unicode minus, no-break space and full-width digits (Chinese and Japanese text) as math-verify reads them.
UNICODE_MATH = str.maketrans({"\u2212": "-", "\u00a0": " ", **{chr(0xFF10 + d): str(d) for d in range(10)}})


def is_plain(text: str) -> bool:
    """Whether ``text`` is nothing but a plain expression (``-5``, ``1/2``, ``23.0``, ``1,234``)."""
    return PLAIN_RE.fullmatch(text.strip()) is not None


class Worker:
    """The worker process's state: math-verify, its extraction configs and the golds it has parsed."""

    def __init__(self) -> None:
        import logging

        import math_verify
        from math_verify import ExprExtractionConfig, LatexExtractionConfig

        # Timeouts are ours; math-verify's "timeout is disabled" and per-parse warnings would only be noise.
        logging.getLogger("math_verify").setLevel(logging.ERROR)
        self._parse = math_verify.parse
        self.verify = math_verify.verify
        self.latex = [LatexExtractionConfig()]
        self.expr = [ExprExtractionConfig()]
        self.golds: collections.OrderedDict[str, list[Any]] = collections.OrderedDict()
        # Pay the parsers' first-use set-up now, not inside the first task's time limit.
        self.verify(self.read_gold("\\frac{1}{2}"), self.read_whole("0.5"), timeout_seconds=None)

    def parse(self, text: str, config: list[Any]) -> list[Any]:
        """math-verify's parse of ``text``, kept only when it holds a math value (not just the matched string)."""
        parsed = self._parse(text, extraction_config=config, extraction_mode="first_match", parsing_timeout=None)
        return parsed if parsed and not isinstance(parsed[0], str) else []

    def gold(self, text: str) -> list[Any]:
        """Parse a gold solution (cached): delimited LaTeX, bare LaTeX read whole, or prose holding one number."""
        if text in self.golds:
            self.golds.move_to_end(text)
            return self.golds[text]
        parsed = self.read_gold(text)
        self.golds[text] = parsed
        if len(self.golds) > GOLD_MEMORY:
            self.golds.popitem(last=False)
        return parsed

    def read_gold(self, text: str) -> list[Any]:
        """Parse one gold, uncached (see the module docstring for the three kinds of gold)."""
        text = text.translate(UNICODE_MATH).strip()
        if DELIMITED_RE.search(text):
            return self.parse(normalise(text), self.latex)
        if is_prose(text):
            return self.parse(text, self.expr) if len(NUMBER_RE.findall(text)) == 1 else []
        return self.read_whole(normalise(text))

    def read_whole(self, text: str) -> list[Any]:
        """Read a text that is all math as one bare-LaTeX expression, else as one plain expression."""
        bare = " ".join(text.split())
        return self.parse(f"${bare}$", self.latex) or (self.parse(bare, self.expr) if is_plain(bare) else [])

    def run(self, kind: str, *args: str) -> tuple[Any, ...]:
        """Run one task: ``("gold", text)`` or ``("answer", gold, answer)`` (the answer found and normalised)."""
        if kind == "gold":
            return ("ok", shown(self.gold(args[0])))
        answer = self.read_whole(args[1]) if args[1] else []
        correct = bool(self.verify(self.gold(args[0]), answer, timeout_seconds=None))
        return ("ok", correct, shown(answer))


def shown(parsed: list[Any]) -> list[str]:
    """Parsed expressions as text for a verdict's details."""
    return [str(item)[:SHOWN_CHARS] for item in parsed]


class OutOfTime(BaseException):
    """Raised by the worker's timer; a BaseException so math-verify's ``except Exception`` lets it through."""


def _out_of_time(signum: int, frame: Any) -> None:
    raise OutOfTime


def timed(worker: Worker, task: tuple[str, ...], timeout: float) -> tuple[Any, ...]:
    """Run one task under a ``timeout``-second timer: ``("timeout",)`` when slow, ``("error", …)`` when it fails."""
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return worker.run(*task)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except OutOfTime:
        return ("timeout",)
    except Exception as error:  # math-verify catches its own; anything else is reported for this task only
        return ("error", f"{type(error).__name__}: {str(error)[:SHOWN_CHARS]}")


def serve(conn: Any) -> None:
    """Worker main loop: for each ``(timeout, tasks)`` received, send one result per task, in order."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle; it then kills us
    try:
        worker = Worker()
    except BaseException as error:  # any failure to start is reported, then the worker exits
        conn.send(("fatal", f"{type(error).__name__}: {error}"))
        return
    signal.signal(signal.SIGALRM, _out_of_time)
    conn.send(("ready",))
    while True:
        try:
            timeout, tasks = conn.recv()
        except (EOFError, OSError):
            return
        for task in tasks:
            conn.send(timed(worker, task, timeout))


def main(argv: list[str]) -> None:
    """Serve on the socket whose file descriptor is ``argv[0]``."""
    from multiprocessing.connection import Connection

    try:
        serve(Connection(int(argv[0])))
    except (BrokenPipeError, ConnectionResetError):
        return  # the caller is gone (stopped, or killed us mid-reply): nothing is left to tell


if __name__ == "__main__":
    main(sys.argv[1:])
