"""Layout rewards: the think/answer format, its tags, a think block, and numbered reasoning steps."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rewardlab.params import require_bool
from rewardlab.registry import register
from rewardlab.reward import Reward, Score
from rewardlab.rewards.math.answers import (
    ANSWER_CLOSE,
    ANSWER_OPEN,
    TAGS,
    THINK_CLOSE,
    THINK_OPEN,
    completion_texts,
)

#: The one layout ``math-format`` accepts; ``\Z`` (not open-r1's MULTILINE ``$``) so nothing may follow.
FORMAT_RE = re.compile(r"<think>\n(.*?)\n</think>\n<answer>\n(.*?)\n</answer>\Z", re.DOTALL)
#: What a think block and an answer block hold (tags without their newlines).
THINK_BODY_RE = re.compile(r"<think>(.*?)</think>", re.DOTALL)
ANSWER_BODY_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


#: ``math-steps`` markers; MULTILINE so ``^`` starts every line (open-r1's ``^`` only matches the text's start).
STEP_RE = re.compile(r"Step \d+:|^[ \t]*\d+\.(?!\d)|^[ \t]*[-*][ \t]|First,|Second,|Next,|Finally,", re.MULTILINE)


@register("math-format")
class MathFormat(Reward):
    r"""1.0 if the completion is exactly ``<think>\n…\n</think>\n<answer>\n…\n</answer>``, else 0.0.

    Trailing whitespace is ignored; each of the four tags must occur exactly once and nothing may follow
    ``</answer>`` (open-r1's MULTILINE ``$`` lets text after ``</answer>`` through: a known reward hack). Both blocks
    must hold something: empty tags are no layout of a solution (open-r1 pays them in full).

    Args:
        think_prefilled: The chat template ends the prompt with ``<think>\n`` (Qwen3 with thinking on), so the
            completion is checked as if it began with it.

    Example:
        >>> reward = MathFormat()
        >>> reward(completions=["<think>\n2+2\n</think>\n<answer>\n4\n</answer>\n", "<answer>\n4\n</answer>"])
        [1.0, 0.0]

    """

    def __init__(self, think_prefilled: bool = False) -> None:
        self.think_prefilled = require_bool("think_prefilled", think_prefilled)

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Check each completion's layout; details say what is wrong with one that fails."""
        scores = []
        for text in _layouts(completions, self.think_prefilled):
            problem = format_problem(text.rstrip())
            scores.append(Score(0.0 if problem else 1.0, details={"problem": problem} if problem else {}))
        return scores


def format_problem(text: str) -> str | None:
    r"""Say why ``text`` is not in the ``math-format`` layout, or None when it is.

    Example:
        >>> format_problem("<think>\nx\n</think>\n<answer>\n4\n</answer>\nAlso 5.")
        'text after </answer>'

    """
    for tag in TAGS:
        count = text.count(tag)
        if count != 1:
            return f"{tag} occurs {count} times"
    layout = FORMAT_RE.match(text)
    if layout:
        if not layout.group(1).strip():
            return "empty <think> block"
        return None if layout.group(2).strip() else "empty <answer> block"
    if not text.endswith(ANSWER_CLOSE):
        return "text after </answer>"
    return "not laid out as <think>\\n…\\n</think>\\n<answer>\\n…\\n</answer>"


@register("math-tags")
class MathTags(Reward):
    r"""0.25 for each of ``<think>\n``, ``\n</think>\n``, ``\n<answer>\n``, ``\n</answer>`` occurring exactly once.

    A partial-credit companion of ``math-format`` (open-r1's ``tag_count_reward``), except that the two tags of a
    block that holds nothing earn nothing: open-r1 pays ``<think>\n\n</think>\n<answer>\n\n</answer>`` in full.

    Args:
        think_prefilled: The chat template ends the prompt with ``<think>\n`` (Qwen3 with thinking on), so the
            completion is counted as if it began with it (without this, such completions score at most 0.75).

    Example:
        >>> MathTags()(completions=["<think>\nhm\n</think>\n<answer>\n4\n</answer>", "<answer>\n4\n</answer>"])
        [1.0, 0.25]
        >>> MathTags(think_prefilled=True)(completions=["hm\n</think>\n<answer>\n4\n</answer>"])
        [1.0]
        >>> empty = "<think>\n\n</think>\n<answer>\n\n</answer>"
        >>> MathTags()(completions=[empty, "<think>\nhm\n</think>\n<answer>\n</answer>"])
        [0.0, 0.5]

    """

    PARTS = (
        ("think_open", THINK_OPEN + "\n"),
        ("think_close", "\n" + THINK_CLOSE + "\n"),
        ("answer_open", "\n" + ANSWER_OPEN + "\n"),
        ("answer_close", "\n" + ANSWER_CLOSE),
    )

    ANSWER = ("answer_open", "answer_close")

    def __init__(self, think_prefilled: bool = False) -> None:
        self.think_prefilled = require_bool("think_prefilled", think_prefilled)

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Count the four tags in each completion; details give each tag's 0.25 or 0."""
        scores = []
        for text in _layouts(completions, self.think_prefilled):
            parts = {name: 0.25 if text.count(tag) == 1 else 0.0 for name, tag in self.PARTS}
            for block, names in ((THINK_BODY_RE, ("think_open", "think_close")), (ANSWER_BODY_RE, self.ANSWER)):
                if any(not body.strip() for body in block.findall(text)):
                    parts.update(dict.fromkeys(names, 0.0))
            scores.append(Score(sum(parts.values()), details=parts))
        return scores


@register("think-format")
class ThinkFormat(Reward):
    r"""1.0 if the completion opens with ``<think>`` and closes it once with ``</think>``, else 0.0.

    TRL's ``think_format_reward``: the reasoning is enclosed in one ``<think>…</think>`` block at the very start;
    anything may follow it, newlines are optional, other tags may appear inside it. A second ``<think>`` (nested or
    later) fails, as in TRL; so does a second ``</think>``, which TRL lets through although the reasoning then ran on
    past its end.

    Args:
        think_prefilled: The chat template ends the prompt with ``<think>`` (Qwen3 with thinking on), so the
            completion is checked as if it began with it.

    Example:
        >>> ThinkFormat()(completions=["<think>\nI add.\n</think>\nIt is 4.", "<think>\nI add. It is 4."])
        [1.0, 0.0]
        >>> ThinkFormat(think_prefilled=True)(completions=["my reasoning\n</think>\nmy answer"])
        [1.0]

    """

    def __init__(self, think_prefilled: bool = False) -> None:
        self.think_prefilled = require_bool("think_prefilled", think_prefilled)

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Check each completion's reasoning block; details say what is wrong with one that fails."""
        scores = []
        for text in completion_texts(completions):
            if self.think_prefilled:
                text = THINK_OPEN + text
            problem = think_problem(text)
            scores.append(Score(0.0 if problem else 1.0, details={"problem": problem} if problem else {}))
        return scores


def think_problem(text: str) -> str | None:
    """Say why ``text`` does not open with one ``<think>…</think>`` block, or None when it does.

    Example:
        >>> think_problem("I think</think> it is 4")
        'does not start with <think>'

    """
    if not text.startswith(THINK_OPEN):
        return "does not start with <think>"
    for tag in (THINK_OPEN, THINK_CLOSE):
        count = text.count(tag)
        if count != 1:
            return f"{tag} occurs {count} times"
    return None


@register("math-steps")
class MathSteps(Reward):
    r"""min(1, count / 3) for step markers: ``Step N:``, numbered lines, bullets, First/Second/Next/Finally.

    Numbered lines (``1.``) and bullets (``-`` or ``*`` then a space) are matched at the start of every line;
    open-r1's ``reasoning_steps_reward`` anchors ``^`` only at the start of the whole text, so it counts a numbered
    list as one step.

    Example:
        >>> MathSteps()(completions=["1. add\n2. multiply\n3. check", "Step 1: add", "It is 4."])
        [1.0, 0.3333333333333333, 0.0]

    """

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Count each completion's step markers; details give the count."""
        scores = []
        for text in completion_texts(completions):
            count = len(STEP_RE.findall(text))
            scores.append(Score(min(1.0, count / 3), details={"steps": count}))
        return scores


def _layouts(completions: Sequence[Any], think_prefilled: bool) -> list[str]:
    """The completions' texts as the layout checks read them: after the prompt's ``<think>`` when it opens one."""
    prefix = THINK_OPEN + "\n" if think_prefilled else ""
    return [prefix + text for text in completion_texts(completions)]
