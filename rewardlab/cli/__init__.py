"""The command framework the toolkit's four commands share, and the ``rewardlab`` command itself.

:mod:`.framework` (how a command starts and ends) and :mod:`.options` (the reward options) are imported by
``evalkit``, ``grpo-train`` and ``sft-train`` too; ``rewardlab``'s group is :data:`main` (in :mod:`.commands`),
loaded on first use so that those commands do not import ``rewardlab``'s subcommands.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name == "main":
        return importlib.import_module("rewardlab.cli.commands").main
    raise AttributeError(f"module 'rewardlab.cli' has no attribute {name!r}")
