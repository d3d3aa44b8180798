"""Check rows before any scoring: the text fields and the columns a reward needs, so bad input fails fast."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from rewardlab.engine.read import InputError, Row
from rewardlab.reward import Reward


def require_text(row: Row, field: str, source: str, *, allow_messages: bool = True) -> None:
    """Check that ``row`` has ``field`` as a string or (if allowed) a list of chat messages.

    Chat messages follow TRL's conversational format: ``{"role": str, "content": str}``, where ``content`` may also
    be a list of typed parts whose text parts carry ``"text"``. A message with other keys (ShareGPT's ``from`` and
    ``value``) or content of another type is refused, naming the message, rather than read as empty text.

    Raises:
        InputError: The field is missing or has another type.

    """
    if field not in row.data or row.data[field] is None:
        raise InputError(source, row.line, "missing", field)
    value = row.data[field]
    if isinstance(value, str):
        return
    if allow_messages and isinstance(value, list):
        for index, message in enumerate(value, start=1):
            problem = message_problem(message)
            if problem:
                raise InputError(source, row.line, f"message {index}: {problem}", field)
        return
    expected = "a string or a list of chat messages" if allow_messages else "a string"
    raise InputError(source, row.line, f"expected {expected}, got {type(value).__name__}", field)


def message_problem(message: Any) -> str | None:
    """What is wrong with one chat message, or None when it is ``{"role": str, "content": str | parts}``.

    Example:
        >>> message_problem({"from": "human", "value": "Hi"})
        "expected keys 'role' and 'content', got 'from', 'value'"

    """
    if not isinstance(message, dict):
        return f"expected an object with 'role' and 'content', got {type(message).__name__}"
    if "role" not in message or "content" not in message:
        return f"expected keys 'role' and 'content', got {', '.join(map(repr, message)) or 'none'}"
    if not isinstance(message["role"], str):
        return f"'role' must be a string, got {type(message['role']).__name__}"
    content = message["content"]
    if isinstance(content, str):
        return None
    if not isinstance(content, list):
        return f"'content' must be a string or a list of parts, got {type(content).__name__}"
    for index, part in enumerate(content, start=1):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            return f"content part {index}: expected an object with 'type', got {_describe(part)}"
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            return f"content part {index}: a text part needs 'text' as a string, got {_describe(part.get('text'))}"
    return None


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "an object with keys " + (", ".join(map(repr, value)) or "none")
    return "nothing" if value is None else type(value).__name__


def validate_row(row: Row, reward: Reward, source: str) -> None:
    """Check one row for ``reward``: its text fields and every column the reward needs.

    Raises:
        InputError: The row lacks ``completion`` or a column the reward needs, or has a text field of the wrong type.

    """
    require_text(row, "completion", source)
    if "prompt" in row.data or "prompt" in reward.columns:
        require_text(row, "prompt", source)
    missing = reward.missing_columns(row.data)
    if missing:
        raise InputError(source, row.line, "missing (the reward needs it)", missing[0])


def validate_rows(rows: Sequence[Row], reward: Reward, source: str) -> None:
    """Check every row of a list before any of them is scored, so bad input fails fast and nothing is written."""
    for row in rows:
        validate_row(row, reward, source)


def checked(rows: Iterable[Row], reward: Reward, source: str) -> Iterator[Row]:
    """Pass rows on as they come, each checked by :func:`validate_row` first."""
    for row in rows:
        validate_row(row, reward, source)
        yield row
