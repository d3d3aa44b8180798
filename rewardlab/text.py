"""Turn prompts and completions (strings or chat messages) into text, and handle Qwen3 ``<think>`` blocks."""

from __future__ import annotations

from typing import Any

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


def to_text(value: Any, role: str | None = None) -> str:
    """Return the text of a string or of a list of chat messages.

    Chat messages (``[{"role": ..., "content": ...}]``, TRL's conversational format) are joined with newlines;
    with ``role`` only messages of that role count, which picks the post out of a prompt that also carries a
    system message. Content given as a list of typed parts keeps only its ``text`` parts.

    Args:
        value: A string, a list of messages, or None (treated as empty).
        role: Keep only messages with this role (``"user"``, ``"assistant"``); None keeps all.

    Returns:
        The text.

    Example:
        >>> to_text("hello")
        'hello'
        >>> to_text([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}], role="user")
        'Hi!'

    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, (list, tuple)):
        parts = []
        for message in value:
            if not isinstance(message, dict):
                raise TypeError(f"expected a chat message (a dict with 'content'), got {type(message).__name__}")
            if role is not None and message.get("role") != role:
                continue
            parts.append(_content_text(message.get("content")))
        return "\n".join(parts)
    raise TypeError(f"expected a string or a list of chat messages, got {type(value).__name__}")


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    raise TypeError(f"message content must be a string or a list of parts, got {type(content).__name__}")


def prompt_text(prompt: Any) -> str:
    """Return the user's words of a prompt: the last user message of a chat, or the string itself.

    Example:
        >>> prompt_text([{"role": "system", "content": "Reply kindly."}, {"role": "user", "content": "Rain again."}])
        'Rain again.'

    """
    if isinstance(prompt, (list, tuple)):
        users = [m for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
        if users:
            return _content_text(users[-1].get("content"))
    return to_text(prompt)


def split_think(text: str) -> tuple[str, str]:
    r"""Split a Qwen3 completion into its reasoning and its answer.

    Handles the three shapes Qwen3 produces: a full ``<think>…</think>`` block; only ``</think>`` (the chat
    template pre-filled ``<think>`` in the prompt), where everything before it is reasoning; and an unclosed
    ``<think>`` (generation was cut off), where everything after it is reasoning and the answer is empty.

    Returns:
        ``(think, answer)``; ``think`` is empty when there is no reasoning.

    Example:
        >>> split_think("<think>\n2+2\n</think>\nIt is 4.")
        ('\n2+2\n', '\nIt is 4.')
        >>> split_think("no reasoning here")
        ('', 'no reasoning here')

    """
    close = text.rfind(THINK_CLOSE)
    if close >= 0:
        think = text[:close].split(THINK_OPEN, 1)[-1]
        return think, text[close + len(THINK_CLOSE) :]
    open_at = text.find(THINK_OPEN)
    if open_at >= 0:
        return text[open_at + len(THINK_OPEN) :], text[:open_at]
    return "", text


def strip_think(text: str) -> str:
    """Return the completion without its reasoning, stripped of surrounding whitespace.

    Example:
        >>> strip_think("<think>plan a reply</think> Great point!")
        'Great point!'

    """
    return split_think(text)[1].strip()
