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
    for name, value in params.items():
        problem = type_problem(factory, name, value)
        if problem:
            raise ConfigError(f"reward '{label}': parameter '{name}' {problem}")
    try:
        return factory(**params)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"reward '{label}': {error}") from None


#: The annotations :func:`type_problem` checks, and how a value of each is described in an error.
_SIMPLE_TYPES = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}


def type_problem(factory: Callable[..., Any], name: str, value: Any) -> str | None:
    """What is wrong with ``value`` for parameter ``name`` by its annotation, or None (also for unchecked types).

    Only plain annotations are checked (``int``, ``float``, ``bool``, ``str``, each optionally ``| None``): enough
    that ``-p batch_size=1.5`` is refused when the reward is built, not later by an internal error. A whole float
    such as ``2.0`` counts as an int, and an int as a float; ``True`` counts as neither.

    Example:
        >>> def reward(batch_size: int = 64, scale: float | None = None): ...
        >>> type_problem(reward, "batch_size", 1.5), type_problem(reward, "scale", None)
        ('must be a whole number, got 1.5', None)

    """
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        annotation = typing.get_type_hints(target).get(name)
    except Exception:  # an annotation that does not evaluate (a name only imported for type checkers): not checked
        return None
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    kinds = [kind for kind in options if kind is not type(None)]
    if len(kinds) != 1 or kinds[0] not in _SIMPLE_TYPES:
        return None
    kind = kinds[0]
    if value is None:
        return None if type(None) in options else f"must be {_SIMPLE_TYPES[kind]}, got null"
    if kind is bool:
        fits = isinstance(value, bool)
    elif kind is int:
        fits = not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        )
    elif kind is float:
        fits = not isinstance(value, bool) and isinstance(value, (int, float))
    else:
        fits = isinstance(value, str)
    return None if fits else f"must be {_SIMPLE_TYPES[kind]}, got {value!r}"


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
