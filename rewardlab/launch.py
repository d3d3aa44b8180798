"""Entry points of the toolkit's four commands: a Ctrl-C or SIGTERM while a command is still starting ends in one line.

Importing a command (click, numpy, torch, transformers) takes from a fraction of a second to several seconds, and a
signal in that time would end in Python's traceback, or a silent kill. Each entry point imports its command under
a guard that turns either signal into one line and exit status 128 + the signal's number, as the commands
themselves do once running (:mod:`rewardlab.clierrors`). Nothing has been read or written at that point.
"""

from __future__ import annotations

import importlib
import signal
import sys
from types import FrameType

from rewardlab.errors import Terminated


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


def _start(module: str) -> None:
    """Import ``module`` with SIGINT and SIGTERM ending in one line, then run its ``main``."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        command = importlib.import_module(module).main
    except KeyboardInterrupt as error:
        signum = signal.SIGTERM if isinstance(error, Terminated) else signal.SIGINT
        sys.stderr.write(f"Error: interrupted by {signum.name} while starting; nothing was read or written\n")
        sys.exit(128 + signum)
    finally:
        signal.signal(signal.SIGTERM, previous)
    command()


def rewardlab() -> None:
    """``rewardlab``: score JSONL files with the registered rewards."""
    _start("rewardlab.cli.commands")


def evalkit() -> None:
    """``evalkit``: pass@k, Self-BLEU, accuracy and run comparisons."""
    _start("eval.cli")


def grpo_train() -> None:
    """``grpo-train``: GRPO on TRL with a rewardlab reward."""
    _start("grpo_plugin.cli")


def sft_train() -> None:
    """``sft-train``: the SFT warm start for GRPO."""
    _start("grpo_plugin.sft_cli")
