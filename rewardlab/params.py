"""Constructor parameters: check the names a user gave against what a reward accepts, then build it.

A misspelt parameter is an error naming the closest accepted names, never silently ignored.
"""

from __future__ import annotations

import difflib
import inspect
import math
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

from rewardlab.errors import ConfigError


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """A hint naming the options closest to a mistyped ``word`` (difflib's ratio), or an empty string.

    Example:
        >>> did_you_mean("engagment", ["engagement", "math"])
        " (did you mean 'engagement'?)"

    """
    close = difflib.get_close_matches(word, list(options), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""


def construct(label: str, factory: Callable[..., Any], params: dict[str, Any]) -> Any:
    """Call ``factory`` with ``params`` after checking their names; ``label`` names it in errors.

    Raises:
        ConfigError: A parameter it does not take (with the closest names), or the value it refused.

    """
    accepted = accepted_parameters(factory)
    unknown = sorted(set(params) - accepted) if accepted is not None else []
    if unknown:
        takes = ", ".join(sorted(accepted)) if accepted else "no parameters"
        hint = did_you_mean(unknown[0], accepted or ())
        raise ConfigError(
            f"reward '{label}' has no parameter {', '.join(map(repr, unknown))}{hint}; it takes: {takes}"
        )
    try:
        return factory(**{name: typed_value(factory, name, value) for name, value in params.items()})
    except (TypeError, ValueError) as error:
        raise ConfigError(f"reward '{label}': {error}") from None


#: The annotations :func:`typed_value` checks, and how a value of each is described in an error.
_SIMPLE_TYPES = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}


def typed_value(factory: Callable[..., Any], name: str, value: Any) -> Any:
    """``value`` for parameter ``name`` as its plain annotation asks, or a ValueError saying what is wrong.

    Only plain annotations are checked (``int``, ``float``, ``bool``, ``str``, each optionally ``| None``): enough
    that ``-p batch_size=1.5`` is refused when the reward is built, not later by an internal error. Text that reads
    as the annotated type is converted (``"3"`` for an int, ``"true"`` for a bool: values from YAML files or
    environment variables often arrive as text); an int counts as a float; ``True`` counts as no number. Other
    annotations are left to the reward's own checks.

    Example:
        >>> def reward(batch_size: int = 64, scale: float | None = None, strict: bool = False): ...
        >>> typed_value(reward, "batch_size", "32"), typed_value(reward, "scale", None)
        (32, None)
        >>> typed_value(reward, "strict", "TRUE"), typed_value(reward, "scale", 2)
        (True, 2)
        >>> typed_value(reward, "batch_size", 1.5)
        Traceback (most recent call last):
        ...
        ValueError: batch_size must be a whole number, got 1.5

    """
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        annotation = typing.get_type_hints(target).get(name)
    except Exception:  # an annotation that does not evaluate (a name only imported for type checkers): not checked
        return value
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    kinds = [kind for kind in options if kind is not type(None)]
    if len(kinds) != 1 or kinds[0] not in _SIMPLE_TYPES:
        return value
    kind = kinds[0]
    if value is None and type(None) in options:
        return None
    converted = _as_type(kind, value)
    if converted is None:
        raise ValueError(f"{name} must be {_SIMPLE_TYPES[kind]}, got {value!r}")
    return converted


def _as_type(kind: type, value: Any) -> Any:
    """``value`` as ``kind`` (one of :data:`_SIMPLE_TYPES`), or None when it is not one."""
    if isinstance(value, str) and kind is not str:
        text = value.strip().lower()
        if kind is bool:
            return {"true": True, "false": False}.get(text)
        try:
            return kind(text)
        except ValueError:
            return None
    if kind is bool:
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):
        return None
    if kind is int:
        return value if isinstance(value, int) else None
    if kind is float:
        return value if isinstance(value, (int, float)) else None
    return value if isinstance(value, str) else None


def accepted_parameters(factory: Callable[..., Any]) -> set[str] | None:
    """Names ``factory`` accepts as keywords, or None when it takes ``**kwargs``."""
    if inspect.isclass(factory) and factory.__init__ is object.__init__:
        return set()
    target = factory.__init__ if inspect.isclass(factory) else factory
    parameters = inspect.signature(target).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def require_positive(name: str, value: float) -> float:
    """Check a constructor argument that must be a positive finite number (bools are refused)."""
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return value


def require_finite(name: str, value: float) -> float:
    """Check a constructor argument that must be a finite number; return it as a float."""
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return float(value)


def require_bool(name: str, value: bool) -> bool:
    """Check a constructor argument that must be true or false (1 and "yes" are refused: say what you mean)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value


def parse_weights(value: str | Iterable[Any] | None) -> list[float] | None:
    """Read reward weights as given on a command line (``"1,0.5"``) or in YAML (a list); None when not given.

    Example:
        >>> parse_weights("1, 0.5")
        [1.0, 0.5]

    """
    if value is None:
        return None
    try:
        parts = [part for part in value.split(",") if part.strip()] if isinstance(value, str) else list(value)
        return [float(part) for part in parts]
    except (TypeError, ValueError):
        raise ConfigError(f"--weights must be comma-separated numbers, got {value!r}") from None
