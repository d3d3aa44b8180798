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

from rewardlab import _moved

if TYPE_CHECKING:
    from rewardlab.combine import WeightedSum
    from rewardlab.errors import ConfigError, RewardlabError, RowError
    from rewardlab.registry import available, build, get, register
    from rewardlab.reward import Reward, Score
    from rewardlab.text import prompt_text, split_think, strip_think, to_text
    from rewardlab.user import FunctionReward

__version__ = "0.1.0"

_moved.install()

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

#: Where each public name is defined; it is imported from there on first use.
_HOMES = {
    "ConfigError": "rewardlab.errors",
    "FunctionReward": "rewardlab.user",
    "Reward": "rewardlab.reward",
    "RewardlabError": "rewardlab.errors",
    "RowError": "rewardlab.errors",
    "Score": "rewardlab.reward",
    "WeightedSum": "rewardlab.combine",
    "available": "rewardlab.registry",
    "build": "rewardlab.registry",
    "get": "rewardlab.registry",
    "prompt_text": "rewardlab.text",
    "register": "rewardlab.registry",
    "split_think": "rewardlab.text",
    "strip_think": "rewardlab.text",
    "to_text": "rewardlab.text",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'rewardlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
