"""The ``math`` preset: the rewards most GRPO math runs combine."""

from __future__ import annotations

from rewardlab.combine import WeightedSum
from rewardlab.registry import register
from rewardlab.reward import Reward
from rewardlab.rewards.math.accuracy import MathAccuracy
from rewardlab.rewards.math.answers import DEFAULT_TIMEOUT
from rewardlab.rewards.math.format import MathFormat, MathTags


@register("math")
class MathPreset(WeightedSum):
    r"""The usual math reward: ``math-accuracy`` + ``math-format`` + ``math-tags``, weight 1 each (0 to 3).

    Components are each part's value, so a log shows which part moved.

    Args:
        timeout: Seconds for one parse and verify, as in ``math-accuracy``.
        think_prefilled: The chat template ends the prompt with ``<think>\n``; passed to every part.

    Example:
        >>> reward = MathPreset()
        >>> reward(completions=["<think>\n3*4\n</think>\n<answer>\n\\boxed{12}\n</answer>"], solution=["12"])
        [3.0]

    """

    columns = ("solution",)

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, think_prefilled: bool = False) -> None:
        parts = [MathAccuracy(timeout, think_prefilled), MathFormat(think_prefilled), MathTags(think_prefilled)]
        super().__init__(parts, [1.0, 1.0, 1.0])
        self.name = type(self).name
        self.timeout = self.rewards[0].timeout
        self.think_prefilled = self.rewards[1].think_prefilled

    settings = Reward.settings
