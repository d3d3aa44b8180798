"""The ``math`` preset: the rewards most GRPO math runs combine."""

from __future__ import annotations

from rewardlab.combine import WeightedSum
from rewardlab.registry import register
from rewardlab.reward import Reward
from rewardlab.rewards.math.accuracy import MathAccuracy
from rewardlab.rewards.math.answers import DEFAULT_TIMEOUT
from rewardlab.rewards.math.format import MathFormat, MathTags

#: Weights of accuracy, format and tags: layout at most 0.5 in all, half of what a correct answer earns.
WEIGHTS = (1.0, 0.25, 0.25)


@register("math")
class MathPreset(WeightedSum):
    r"""Correctness first: ``math-accuracy`` + 0.25 × ``math-format`` + 0.25 × ``math-tags`` (0 to 1.5).

    Every correct answer scores above every wrong one, whatever its layout: a correct answer gets 1.0 to 1.5, a wrong
    one 0 to 0.5, and empty tags earn nothing (``math-format`` and ``math-tags`` pay only for a think block and an
    answer block with something in them). The peers weigh layout as much as the answer, or nearly: open-r1's
    ``recipes/DeepSeek-R1-Distill-Qwen-1.5B/grpo/config_demo.yaml`` sums accuracy and format with TRL's default
    ``reward_weights`` of 1.0 each, and ``recipes/Qwen2.5-Math-7B/grpo/config_simple_rl.yaml`` weighs them 1.0 and
    0.5; there a well-laid-out wrong answer earns what a correct answer without tags earns, or more with tag points
    added. A row is correct when its ``math-accuracy`` part is 1 (``evalkit --reward math``).

    Components are each part's value, so a log shows which part moved.

    Args:
        timeout: Seconds for one parse and verify, as in ``math-accuracy``.
        think_prefilled: The chat template ends the prompt with ``<think>\n``; passed to every part.

    Example:
        >>> reward = MathPreset()
        >>> reward(completions=["<think>\n3*4\n</think>\n<answer>\n\\boxed{12}\n</answer>"], solution=["12"])
        [1.5]
        >>> wrong = "<think>\n3*4\n</think>\n<answer>\n\\boxed{13}\n</answer>"
        >>> reward(completions=[wrong, "#### 12"], solution=["12", "12"])
        [0.5, 1.0]

    """

    columns = ("solution",)

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, think_prefilled: bool = False) -> None:
        parts = [MathAccuracy(timeout, think_prefilled), MathFormat(think_prefilled), MathTags(think_prefilled)]
        super().__init__(parts, list(WEIGHTS))
        self.name = type(self).name
        self.timeout = self.rewards[0].timeout
        self.think_prefilled = self.rewards[1].think_prefilled

    settings = Reward.settings
