r"""rewardlab: reward functions for GRPO that you can trust, inspect and hand to TRL unchanged.

Example:
    >>> import rewardlab
    >>> reward = rewardlab.get("math-format")
    >>> reward(completions=["<think>\n2+2\n</think>\n<answer>\n4\n</answer>"])
    [1.0]

"""

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
