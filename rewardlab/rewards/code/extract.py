"""Find the program in a completion: the last fenced block of the language, or the whole text when it parses."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import Any

from rewardlab.text import split_think, to_text

LANGUAGE_TAGS = {"python": ("python", "python3", "py")}


def fence(tags: Sequence[str]) -> re.Pattern[str]:
    """A pattern for a fenced code block whose info string names one of ``tags``; group 1 is the code."""
    names = "|".join(re.escape(tag) for tag in tags)
    return re.compile(
        rf"```[ \t]*(?:{names})(?![\w+#-])[^\n]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE | re.IGNORECASE
    )


PYTHON_FENCE = fence(LANGUAGE_TAGS["python"])


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def extract_code(completion: Any, fallback_to_text: bool = False) -> str | None:
    r"""Return the program in a completion: the last fenced ```python (or ```py) block outside ``<think>``.

    Args:
        completion: A string or chat messages.
        fallback_to_text: With no fenced block, use the whole answer when it parses as Python.

    Returns:
        The code, or None when there is none (an empty block counts as none).

    Example:
        >>> text = "<think>```python\nprint(0)\n```</think>First:\n```py\nx = 1\n```\nThen:\n```python\nx = 2\n```"
        >>> extract_code(text)
        'x = 2\n'
        >>> extract_code("x = 3", fallback_to_text=True)
        'x = 3'

    """
    answer = split_think(to_text(completion))[1]
    blocks = [block for block in PYTHON_FENCE.findall(answer) if block.strip()]
    if blocks:
        return blocks[-1]
    if fallback_to_text and answer.strip() and "```" not in answer and _parses(answer):
        return answer
    return None
