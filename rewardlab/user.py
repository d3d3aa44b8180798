"""Rewards given by the user as ``module:function`` or ``path/to/file.py:function``, checked row by row.

A user's function runs as the user wrote it; what it returns is checked (one finite number or None per
completion) and a failure names the first row it fails on alone, so a long run never carries a silently wrong value.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rewardlab.errors import ConfigError, RewardlabError, RowError, UserRewardError, first_line
from rewardlab.params import construct
from rewardlab.reward import Reward, Score


def load_object(spec: str) -> Any:
    """Import the object named by ``module:attr`` or ``path/to/file.py:attr``.

    Raises:
        ConfigError: The module, file or attribute does not exist, or importing it fails.

    """
    target, _, attr = spec.rpartition(":")
    if not target or not attr:
        raise ConfigError(f"'{spec}' is not of the form module:function or path/to/file.py:function")
    try:
        if target.endswith(".py") or "/" in target:
            path = Path(target).expanduser().resolve()
            if not path.is_file():
                raise ConfigError(f"reward file not found: {target}")
            module_name = "rewardlab_user_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
            module = sys.modules.get(module_name)
            if module is None:
                module_spec = importlib.util.spec_from_file_location(module_name, path)
                module = importlib.util.module_from_spec(module_spec)
                sys.modules[module_name] = module
                try:
                    module_spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[module_name]
                    raise
        else:
            module = importlib.import_module(target)
    except ConfigError:
        raise
    except Exception as error:
        raise ConfigError(f"cannot import '{target}': {type(error).__name__}: {error}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ConfigError(f"'{target}' has no attribute '{attr}'") from None


class FunctionReward(Reward):
    """A user's reward given as ``module:function`` or ``path/to/file.py:function``.

    The object may be a plain TRL-style reward function, a :class:`Reward` subclass, or a factory: when
    parameters are given, the object is called with them and what it returns is the reward. Pickling stores the
    spec and parameters and re-imports on load, so rewards defined in a file work in TRL's reward workers too.
    An object whose ``group_level`` attribute is true gets whole prompt groups, as the built-in group rewards do.
    """

    def __init__(self, spec: str, **params: Any) -> None:
        self.spec = spec
        self.params = params
        target = load_object(spec)
        if inspect.isclass(target) and issubclass(target, Reward):
            self._inner: Any = construct(spec, target, params)
        elif params:
            self._inner = construct(spec, target, params)
        else:
            self._inner = target
        if not callable(self._inner):
            raise ConfigError(f"'{spec}' is not callable")
        attribute = spec.rpartition(":")[2]
        inherited = isinstance(self._inner, Reward) and self._inner.name == Reward.name
        self.name = attribute if inherited else getattr(self._inner, "__name__", None) or attribute
        if inherited:
            self._inner.name = self.name  # so its rule of correctness reads with the name the user gave
        self.columns = tuple(getattr(self._inner, "columns", ()))
        self.group_level = bool(getattr(self._inner, "group_level", False))

    def __getstate__(self) -> dict[str, Any]:
        return {"spec": self.spec, "params": self.params}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["spec"], **state["params"])

    def settings(self) -> dict[str, Any]:
        """Return the spec and the parameters the user gave."""
        return {"spec": self.spec, **self.params}

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Call the user's function and check what it returns: one float or None per completion.

        Raises:
            UserRewardError: The function raised (naming the first row it raises on alone) or returned a value
                that is not a number or None.

        """
        try:
            raw = self._call(prompts, completions, columns)
        except RowError:
            raise
        except Exception as error:
            index, cause = self._first_failing_row(prompts, completions, columns, error)
            alone = "" if cause is not error or len(completions) == 1 else f" on a batch of {len(completions)} rows"
            message = f"reward '{self.spec}' raised {type(cause).__name__}{alone}: {first_line(cause)}"
            raise UserRewardError(index, message) from cause
        self._check_count(raw, completions)
        if isinstance(self._inner, Reward):
            if not all(isinstance(s, Score) for s in raw):
                raise RewardlabError(f"reward '{self.spec}': score() must return Score objects")
            return [Score(as_reward_value(self.spec, i, s.value), s.components, s.details) for i, s in enumerate(raw)]
        return [Score(as_reward_value(self.spec, i, v)) for i, v in enumerate(raw)]

    def _call(self, prompts: Sequence[Any], completions: Sequence[Any], columns: dict[str, Any]) -> list[Any]:
        if isinstance(self._inner, Reward):
            return list(self._inner.score(prompts, completions, **columns))
        return list(self._inner(prompts=list(prompts), completions=list(completions), **columns))

    def _first_failing_row(
        self, prompts: Sequence[Any], completions: Sequence[Any], columns: dict[str, Any], error: Exception
    ) -> tuple[int, Exception]:
        """Call the function on each row alone until one raises: the row to name in the error.

        When every row passes alone, the batch's first row and the batch's own exception are returned.
        """
        if len(completions) > 1:
            for index in range(len(completions)):
                row_columns = {key: [values[index]] for key, values in columns.items()}
                try:
                    self._call(prompts[index : index + 1], completions[index : index + 1], row_columns)
                except Exception as cause:
                    cause.__context__ = None  # the batch's failure, already told by this row's
                    return index, cause
        return 0, error

    def correct(self, score: Score) -> bool | None:
        """The rule of the user's :class:`Reward` subclass, if it has one; a plain function has none."""
        return self._inner.correct(score) if isinstance(self._inner, Reward) else None

    def correct_rule(self) -> str | None:
        """The user's reward class's rule in words, or None."""
        return self._inner.correct_rule() if isinstance(self._inner, Reward) else None

    def _check_count(self, values: Sequence[Any], completions: Sequence[Any]) -> None:
        if len(values) != len(completions):
            raise RewardlabError(
                f"reward '{self.spec}' returned {len(values)} values for {len(completions)} completions"
            )


def as_reward_value(spec: str, index: int, value: Any) -> float | None:
    """A user's value as TRL takes it: a float, or None for NaN and None; infinities are an error."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UserRewardError(index, f"reward '{spec}' returned {value!r}, not a number or None") from None
    if math.isinf(number):
        raise UserRewardError(index, f"reward '{spec}' returned {value!r}; rewards must be finite numbers or None")
    return None if math.isnan(number) else number
