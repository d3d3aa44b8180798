"""Where a math completion's answer is, and how long a completion is (tokens or characters)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rewardlab.errors import RewardlabError, RowError
from rewardlab.text import split_think, to_text

THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE = "<think>", "</think>", "<answer>", "</answer>"
ANSWER_BLOCK_RE = re.compile(r"<answer>.*?</answer>", re.DOTALL)
TAGS = (THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE)


UNITS = ("auto", "tokens", "chars")


#: Default seconds for one answer's parse and verify (math-verify's own default per operation).
DEFAULT_TIMEOUT = 5.0


#: Longest answer text shown in a score's details.
SHOWN_ANSWER_CHARS = 300


def completion_texts(completions: Sequence[Any]) -> list[str]:
    """Return each completion's text (strings or chat messages), naming the row of one that is neither.

    Raises:
        RowError: A completion is neither a string nor a list of chat messages.

    """
    texts = []
    for index, completion in enumerate(completions):
        try:
            texts.append(to_text(completion))
        except TypeError as error:
            raise RowError(index, "completion", str(error)) from None
    return texts


def answer_region(text: str, think_prefilled: bool = False) -> str:
    r"""Return the part of a completion that holds its final answer, never the reasoning.

    The first ``<answer>…</answer>`` block after the reasoning (tags included, so math-verify's "answer" anchor
    sees them as it does in open-r1), else the text after ``</think>``, else the whole completion. A ``<think>``
    that is never closed (generation cut off) leaves only what came before it; with ``think_prefilled`` (the chat
    template opened ``<think>`` in the prompt) a completion without ``</think>`` is all reasoning and has no answer.

    Example:
        >>> answer_region("<think>\nmaybe <answer>5</answer>\n</think>\n<answer>\n$4$\n</answer>")
        '<answer>\n$4$\n</answer>'
        >>> answer_region("<think>\nit is 5\n</think>\nThe answer is $4$.")
        '\nThe answer is $4$.'
        >>> answer_region("so it is \\boxed{12}", think_prefilled=True)
        ''

    """
    if think_prefilled:
        text = THINK_OPEN + text
    _, rest = split_think(text)
    block = ANSWER_BLOCK_RE.search(rest)
    return block.group(0) if block else rest


def check_unit(unit: str) -> str:
    """Validate a ``unit=`` parameter."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    return unit


def lengths(texts: Sequence[str], completion_ids: Sequence[Any] | None, unit: str) -> tuple[list[int], str]:
    """Return each completion's length and the unit counted: tokens when ``completion_ids`` are given, else chars.

    Raises:
        RewardlabError: ``unit="tokens"`` without ``completion_ids``.
        RowError: A row's ``completion_ids`` is missing or not a sequence.

    """
    if unit == "chars" or (unit == "auto" and completion_ids is None):
        return [len(t) for t in texts], "chars"
    if completion_ids is None:
        raise RewardlabError("unit='tokens' needs the completion_ids column")
    counted = []
    for index, ids in enumerate(completion_ids):
        try:
            counted.append(len(ids))
        except TypeError:
            raise RowError(
                index, "completion_ids", f"expected a list of token ids, got {type(ids).__name__}"
            ) from None
    return counted, "tokens"


#: Characters of scripts written without spaces: CJK punctuation, kana, CJK ideographs, full-width forms.
CJK_CHARS = (
    "\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff"
)


#: One CJK character, or a run of other characters up to whitespace or a CJK character.
UNITS_RE = re.compile(f"[{CJK_CHARS}]|[^\\s{CJK_CHARS}]+")


def split_units(text: str, language: str = "auto") -> tuple[list[str], str]:
    """Split a lower-cased text into the units ``math-repetition`` counts n-grams of, and say how it was split.

    Example:
        >>> split_units("所以 x = 5")
        (['所', '以', 'x', '=', '5'], 'characters')
        >>> split_units("So x = 5")
        (['so', 'x', '=', '5'], 'words')

    """
    text = text.lower()
    if language == "en":
        return text.split(), "words"
    if language == "zh":
        try:
            import jieba
        except ImportError:
            pass
        else:
            return [word for word in jieba.cut(text) if word.strip()], "jieba"
    units = UNITS_RE.findall(text)
    cjk = re.search(f"[{CJK_CHARS}]", text) is not None
    return units, "characters" if cjk else "words"


def token_ids(completion_ids: Sequence[Any] | None) -> list[list[Any]]:
    """Each row's token ids as a list (TRL passes lists; arrays and tensors give theirs with ``tolist``)."""
    if completion_ids is None:
        raise RewardlabError("unit='tokens' needs the completion_ids column")
    rows = []
    for index, ids in enumerate(completion_ids):
        ids = ids.tolist() if hasattr(ids, "tolist") else ids
        if not isinstance(ids, (list, tuple)):
            raise RowError(index, "completion_ids", f"expected a list of token ids, got {type(ids).__name__}")
        rows.append(list(ids))
    return rows
