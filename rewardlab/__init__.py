r"""rewardlab: reward functions for GRPO that you can trust, inspect and hand to TRL unchanged.

The public names are loaded on first use (PEP 562), so that ``import rewardlab`` is nearly free: the commands start
through :mod:`rewardlab.launch`, whose guard against an early Ctrl-C is only in place once this package is imported.

Example:
    >>> import rewardlab
    >>> reward = rewardlab.get("math-format")
    >>> reward(completions=["<think>\n2+2\n</think>\n<answer>\n4\n</answer>"])
    [1.0]

"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rewardlab.core import (
        ConfigError,
        FunctionReward,
        Reward,
        RewardlabError,
        RowError,
        Score,
        WeightedSum,
        available,
        build,
        get,
        register,
    )
    from rewardlab.text import prompt_text, split_think, strip_think, to_text

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "FunctionReward",
    "Reward",
    "RewardlabError",
    "RowError",
    "Score",
    "WeightedSum",
    "__version__",
    "available",
    "build",
    "get",
    "prompt_text",
    "register",
    "split_think",
    "strip_think",
    "to_text",
]

_TEXT = {"prompt_text", "split_think", "strip_think", "to_text"}
_HOMES = {name: "rewardlab.text" if name in _TEXT else "rewardlab.core" for name in __all__ if name != "__version__"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'rewardlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
