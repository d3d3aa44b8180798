"""The reward interface, the one registry, user rewards by path, and weighted combinations.

A reward follows TRL's reward-function convention, ``reward(prompts, completions, **columns) -> list[float | None]``,
so any :class:`Reward` can be handed to ``trl.GRPOTrainer(reward_funcs=...)`` unchanged. ``None`` means the reward
does not apply to that row (TRL then leaves it out of the weighted sum).
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import inspect
import math
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rewardlab.text import to_text

#: Keyword arguments TRL's GRPOTrainer passes that are not dataset columns.
TRAINER_KWARGS = ("trainer_state", "log_extra", "log_metric", "environments")

#: Modules whose ``@register`` decorators fill the registry; imported on first look-up so ``import rewardlab``
#: stays cheap.
BUILTIN_MODULES = (
    "rewardlab.engagement",
    "rewardlab.reward_model",
    "rewardlab.math",
    "rewardlab.code",
    "rewardlab.polychromic",
)

#: :attr:`Reward.correct_when` of the built-in rewards that judge right and wrong, set when they register (a reward
#: class may set the attribute itself instead). ``math-accuracy``: the answer equals the gold; ``math-cosine`` and
#: ``math-length``: their ``correct`` component; ``code`` and ``code-binary``: 1.0 only when every test passes.
#: The ``math`` preset is a :class:`WeightedSum`, correct when its ``math-accuracy`` part is.
BUILTIN_CORRECT_WHEN = {
    "math-accuracy": "value",
    "math-cosine": "correct",
    "math-length": "correct",
    "code": "value",
    "code-binary": "value",
}


class RewardlabError(Exception):
    """An error the user can fix (bad input, unknown reward, invalid parameter); its message is one line."""


class ConfigError(RewardlabError, ValueError):
    """A reward name, parameter or weight that cannot be used; also a ValueError, as the peers raise for these."""


class RowError(RewardlabError):
    """A row whose column has the wrong type or value; ``index`` is its position in the batch."""

    def __init__(self, index: int, field: str, message: str) -> None:
        super().__init__(f"field '{field}': {message}")
        self.index = index
        self.field = field
        self.message = message


class UserRewardError(RowError):
    """A user's reward function raised or returned something that is not a reward, at the row ``index``.

    The original exception is the ``__cause__``; the CLIs show its traceback with ``--traceback``.
    """

    def __init__(self, index: int, message: str) -> None:
        RewardlabError.__init__(self, message)
        self.index = index
        self.field = None  # type: ignore[assignment]
        self.message = message


@dataclass
class Score:
    """One row's reward with the parts it came from.

    Attributes:
        value: The reward, or None when the reward does not apply to the row.
        components: Named sub-scores (for ``engagement``: relevance, length, …).
        details: What the reward extracted or observed (the parsed answer, the failed tests), so a reader can see
            why the row got its value.

    """

    value: float | None
    components: dict[str, float | None] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


class Reward:
    """Base class of every reward: subclasses implement :meth:`score`; calling the reward follows TRL.

    Constructor arguments are stored as attributes of the same name, which gives every reward its
    :meth:`settings` (for report signatures) and keeps it picklable for TRL's async reward workers.
    """

    name: ClassVar[str] = "reward"
    #: Dataset columns each row must carry; a tuple inside means "one of these".
    columns: ClassVar[tuple[str | tuple[str, ...], ...]] = ()
    #: Whether the reward compares completions of the same prompt with each other (it then needs whole groups).
    group_level: ClassVar[bool] = False
    #: Whether the reward runs its own parallelism (a sandbox pool, a model on a device): ``--workers`` then
    #: leaves it in the main process instead of copying it into each worker.
    own_parallelism: ClassVar[bool] = False
    #: What makes a row *correct* (for pass@k and accuracy): ``"value"`` (the reward is 1.0) or the name of a
    #: component that must be 1.0. None: the reward has no rule of its own; whoever counts correct rows then needs
    #: an explicit threshold on the value.
    correct_when: ClassVar[str | None] = None

    @property
    def __name__(self) -> str:
        """The name TRL gives this reward's metrics."""
        return self.name

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Score a batch; ``columns`` hold one list per dataset column, aligned with ``completions``."""
        raise NotImplementedError

    def __call__(
        self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any
    ) -> list[float | None]:
        """Score a batch the way TRL's GRPOTrainer calls a reward function, logging each component's mean."""
        log_metric = kwargs.get("log_metric")
        columns = {key: value for key, value in kwargs.items() if key not in TRAINER_KWARGS}
        completions = list(completions)
        prompts = [""] * len(completions) if prompts is None else list(prompts)
        scores = self.score(prompts, completions, **columns)
        if log_metric is not None:
            for component, mean in component_means(scores).items():
                log_metric(f"{self.name}/{component}", mean)
        return [s.value for s in scores]

    def correct(self, score: Score) -> bool | None:
        """Whether a row this reward scored is correct by its own rule (:attr:`correct_when`).

        Returns None when the reward has no rule (see :meth:`correct_rule`) or did not judge the row (value None).

        Example:
            >>> reward = get("math-accuracy")
            >>> reward.correct(Score(1.0)), reward.correct(Score(0.0)), reward.correct(Score(None))
            (True, False, None)

        """
        if self.correct_when is None:
            return None
        value = score.value if self.correct_when == "value" else score.components.get(self.correct_when)
        return None if value is None else value == 1.0

    def correct_rule(self) -> str | None:
        """The rule of :meth:`correct` in words (``math-accuracy = 1``), or None when the reward has none."""
        if self.correct_when is None:
            return None
        return f"{self.name} = 1" if self.correct_when == "value" else f"{self.name}/{self.correct_when} = 1"

    def settings(self) -> dict[str, Any]:
        """Return the constructor arguments this reward was built with."""
        parameters = inspect.signature(type(self).__init__).parameters
        return {
            name: getattr(self, name)
            for name, p in parameters.items()
            if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and hasattr(self, name)
        }

    def missing_columns(self, row: dict[str, Any]) -> list[str]:
        """Return the required columns ``row`` lacks, written as they should appear in an error."""
        missing = []
        for column in self.columns:
            options = column if isinstance(column, tuple) else (column,)
            if not any(option in row and row[option] is not None for option in options):
                missing.append(" or ".join(options))
        return missing

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({args})"


def component_means(scores: Sequence[Score]) -> dict[str, float]:
    """Mean of each component over the rows where it is defined (TRL logs one scalar per metric and step)."""
    sums: dict[str, list[float]] = {}
    for s in scores:
        for name, value in s.components.items():
            if value is not None and not math.isnan(value):
                sums.setdefault(name, []).append(value)
    return {name: sum(values) / len(values) for name, values in sums.items()}


_REGISTRY: dict[str, type[Reward]] = {}


def register(name: str) -> Callable[[type[Reward]], type[Reward]]:
    """Class decorator that makes a reward available by ``name`` to the CLI, the config and :func:`get`."""

    def decorate(cls: type[Reward]) -> type[Reward]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"reward name '{name}' is already registered to {_REGISTRY[name].__qualname__}")
        cls.name = name
        if "correct_when" not in vars(cls) and name in BUILTIN_CORRECT_WHEN:
            cls.correct_when = BUILTIN_CORRECT_WHEN[name]
        _REGISTRY[name] = cls
        return cls

    return decorate


def _load_builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


def available() -> dict[str, type[Reward]]:
    """Return every registered reward class by name, sorted by name."""
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))


def get(spec: str, **params: Any) -> Reward:
    r"""Build one reward from a registry name or a ``module:function`` / ``path/to/file.py:function`` spec.

    Args:
        spec: A registered name (see :func:`available`) or a user reward.
        **params: Constructor arguments.

    Returns:
        The reward, ready to call with TRL's convention.

    Raises:
        ConfigError: Unknown name, unknown parameter or invalid value.

    Example:
        >>> reward = get("math-tags")
        >>> reward(completions=["<think>\nhm\n</think>\n<answer>\n4\n</answer>"])
        [1.0]

    """
    spec = spec.strip()
    registry = available()
    if spec in registry:
        return _construct(spec, registry[spec], params)
    if ":" in spec:
        return FunctionReward(spec, **params)
    raise unknown_reward(spec, registry)


def unknown_reward(spec: str, registry: Iterable[str]) -> ConfigError:
    """The error for a name no reward has: the closest names, every known name, and how to give one's own."""
    names = list(registry)
    return ConfigError(
        f"unknown reward '{spec}'{did_you_mean(spec, names)}; known rewards: {', '.join(names)}; "
        "a reward of your own can be given as module:function or path/to/file.py:function"
    )


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """A hint naming the options closest to a mistyped ``word`` (difflib's ratio), or an empty string.

    Example:
        >>> did_you_mean("engagment", ["engagement", "math"])
        " (did you mean 'engagement'?)"

    """
    close = difflib.get_close_matches(word, list(options), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""


def _construct(label: str, factory: Callable[..., Any], params: dict[str, Any]) -> Any:
    accepted = _accepted_parameters(factory)
    unknown = sorted(set(params) - accepted) if accepted is not None else []
    if unknown:
        takes = ", ".join(sorted(accepted)) if accepted else "no parameters"
        hint = did_you_mean(unknown[0], accepted or ())
        raise ConfigError(
            f"reward '{label}' has no parameter {', '.join(map(repr, unknown))}{hint}; it takes: {takes}"
        )
    try:
        return factory(**params)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"reward '{label}': {error}") from None


def _accepted_parameters(factory: Callable[..., Any]) -> set[str] | None:
    """Names ``factory`` accepts as keywords, or None when it takes ``**kwargs``."""
    if inspect.isclass(factory) and factory.__init__ is object.__init__:
        return set()
    target = factory.__init__ if inspect.isclass(factory) else factory
    parameters = inspect.signature(target).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


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


def first_line(error: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none), for one-line errors."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


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
            self._inner: Any = _construct(spec, target, params)
        elif params:
            self._inner = _construct(spec, target, params)
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
            return [Score(_as_reward_value(self.spec, i, s.value), s.components, s.details) for i, s in enumerate(raw)]
        return [Score(_as_reward_value(self.spec, i, v)) for i, v in enumerate(raw)]

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


def _as_reward_value(spec: str, index: int, value: Any) -> float | None:
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


class WeightedSum(Reward):
    """Several rewards combined as TRL combines them: the weighted sum of the values that are not None.

    A row is None only when every reward returned None for it. Components are each reward's value under its own
    name, followed by its components as ``name/component``.
    """

    def __init__(self, rewards: Sequence[Reward], weights: Sequence[float] | None = None) -> None:
        self.rewards = list(rewards)
        self.weights = [1.0] * len(self.rewards) if weights is None else [float(w) for w in weights]
        if not self.rewards:
            raise ConfigError("no reward given")
        if len(self.weights) != len(self.rewards):
            raise ConfigError(f"{len(self.weights)} weights given for {len(self.rewards)} rewards")
        if any(not math.isfinite(w) for w in self.weights):
            raise ConfigError("weights must be finite numbers")
        names = [r.name for r in self.rewards]
        if len(set(names)) != len(names):
            raise ConfigError(f"a reward is named twice in {','.join(names)}")
        self.name = "+".join(names)
        self.columns = tuple(c for r in self.rewards for c in r.columns)
        self.group_level = any(r.group_level for r in self.rewards)
        self.own_parallelism = any(r.own_parallelism for r in self.rewards)

    def settings(self) -> dict[str, Any]:
        """Return each reward's settings with its weight."""
        return {r.name: {"weight": w, **r.settings()} for r, w in zip(self.rewards, self.weights)}

    def correct(self, score: Score) -> bool | None:
        """Correct when every part with a rule of its own is correct (the ``math`` preset: its accuracy part).

        None when no part has a rule, or a part did not judge the row.
        """
        verdicts = [r.correct(_part(score, r.name)) for r in self.rewards if r.correct_rule() is not None]
        if not verdicts or None in verdicts:
            return None
        return all(verdicts)

    def correct_rule(self) -> str | None:
        """The parts' rules joined by "and", or None when no part has one."""
        rules = [rule for rule in (r.correct_rule() for r in self.rewards) if rule is not None]
        return " and ".join(rules) or None

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Score the batch with every reward and add the weighted values."""
        per_reward = [r.score(prompts, completions, **columns) for r in self.rewards]
        combined = []
        for row_scores in zip(*per_reward):
            total, applies, components, details = 0.0, False, {}, {}
            for reward, weight, s in zip(self.rewards, self.weights, row_scores):
                components[reward.name] = s.value
                components.update({f"{reward.name}/{k}": v for k, v in s.components.items()})
                if s.details:
                    details[reward.name] = s.details
                if s.value is not None:
                    total += weight * s.value
                    applies = True
            combined.append(Score(total if applies else None, components, details))
        return combined


def _part(score: Score, name: str) -> Score:
    """One part's own score inside a :class:`WeightedSum` row: its value, its components and its details."""
    prefix = f"{name}/"
    components = {k[len(prefix) :]: v for k, v in score.components.items() if k.startswith(prefix)}
    return Score(score.components.get(name), components, score.details.get(name, {}))


def route_params(params: dict[str, Any], names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Send each parameter to the rewards it is meant for.

    ``name.key`` goes to the reward called ``name``; a plain ``key`` goes to every reward that accepts it (with
    one reward, always to it, so its constructor reports an unknown key).

    Raises:
        ConfigError: A prefix names no reward of the spec, or no reward accepts a plain key.

    """
    routed: dict[str, dict[str, Any]] = {name: {} for name in names}
    for key, value in params.items():
        prefix, dot, plain = key.partition(".")
        if dot:
            if prefix not in routed:
                raise ConfigError(f"parameter '{key}' names no reward of {','.join(names)}")
            routed[prefix][plain] = value
            continue
        takers = list(names) if len(names) == 1 else [name for name in names if _accepts(name, key)]
        if not takers:
            raise ConfigError(f"no reward of {','.join(names)} has a parameter '{key}'")
        for name in takers:
            routed[name][key] = value
    return routed


def _accepts(name: str, key: str) -> bool:
    registry = available()
    accepted = _accepted_parameters(registry[name]) if name in registry else None
    return accepted is None or key in accepted


def build(spec: str, weights: Sequence[float] | None = None, params: dict[str, Any] | None = None) -> Reward:
    r"""Build the reward a command line describes: ``engagement``, or ``engagement,math-format`` with weights.

    Args:
        spec: Comma-separated reward names or ``module:function`` / ``file.py:function`` specs.
        weights: One weight per reward (default 1 each).
        params: Constructor parameters, routed by :func:`route_params`.

    Returns:
        The single reward, or a :class:`WeightedSum` of several.

    Example:
        >>> reward = build("math-format,math-tags", weights=[1.0, 0.5])
        >>> reward.name, reward(completions=["<think>\nhm\n</think>\n<answer>\n4\n</answer>"])
        ('math-format+math-tags', [1.5])

    """
    names = [part.strip() for part in spec.split(",") if part.strip()]
    if not names:
        raise ConfigError("no reward given")
    routed = route_params(params or {}, names)
    rewards = [get(name, **routed[name]) for name in names]
    if len(rewards) == 1 and (weights is None or list(weights) == [1.0]):
        return rewards[0]
    return WeightedSum(rewards, weights)


def group_keys(prompts: Sequence[Any], prompt_ids: Sequence[Any] | None, count: int) -> list[Any]:
    """The group of each row: its ``prompt_id`` when it has one, else its prompt's text (string or chat alike).

    Group-level rewards compare the rows of one group, and batching keeps each group whole, by this one rule.

    Example:
        >>> group_keys(["a", "a", "b"], None, 3)
        [('prompt', 'a'), ('prompt', 'a'), ('prompt', 'b')]

    """
    keys: list[Any] = []
    for index in range(count):
        if prompt_ids is not None and prompt_ids[index] is not None:
            key = prompt_ids[index]
            keys.append(("prompt_id", key if _hashable(key) else repr(key)))
        else:
            prompt = prompts[index] if index < len(prompts) else ""
            keys.append(("prompt", to_text(prompt) if isinstance(prompt, (str, list, tuple, dict)) else repr(prompt)))
    return keys


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


@dataclass
class Parameter:
    """One constructor parameter of a reward, as ``rewardlab show`` prints it."""

    name: str
    type: str
    default: str
    help: str


@dataclass
class RewardHelp:
    """What a reward does, the columns it needs, its parameters and an example, read from its class."""

    name: str
    summary: str
    description: str
    columns: list[str]
    parameters: list[Parameter]
    example: str


#: Headers of Google-style docstring sections; the description ends at the first of them.
_SECTIONS = ("Args:", "Attributes:", "Returns:", "Raises:", "Example:", "Examples:")


def describe(name: str) -> RewardHelp:
    """Read a registered reward's help from its docstring (summary, description, Args, Example) and signature.

    Raises:
        ConfigError: ``name`` is not a registered reward.

    Example:
        >>> help = describe("overlong")
        >>> [(p.name, p.type, p.default) for p in help.parameters]
        [('max_length', 'int', '20480'), ('cache', 'int | None', 'None'), ('unit', 'str', "'auto'")]

    """
    registry = available()
    if name not in registry:
        raise unknown_reward(name, registry)
    cls = registry[name]
    sections = _doc_sections(inspect.cleandoc(cls.__doc__ or ""))
    summary, _, description = sections.get("", "").partition("\n")
    helps = _arg_helps(sections.get("Args:", ""))
    parameters = []
    if cls.__init__ is not object.__init__:
        for p in inspect.signature(cls.__init__).parameters.values():
            if p.name == "self" or p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                continue
            kind = p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
            default = "required" if p.default is p.empty else repr(p.default)
            parameters.append(Parameter(p.name, "" if kind is p.empty else kind, default, helps.get(p.name, "")))
    columns = [c if isinstance(c, str) else " or ".join(c) for c in cls.columns]
    example = sections.get("Example:", sections.get("Examples:", ""))
    return RewardHelp(name, summary.strip(), description.strip(), columns, parameters, example.strip("\n"))


def _doc_sections(doc: str) -> dict[str, str]:
    """Split a cleaned docstring into its text before any section ("") and each section's dedented body."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in doc.splitlines():
        if line.strip() in _SECTIONS and not line.startswith(" "):
            current = line.strip()
            sections[current] = []
        else:
            sections[current].append(line)
    return {key: textwrap.dedent("\n".join(lines)) if key else "\n".join(lines) for key, lines in sections.items()}


def _arg_helps(args: str) -> dict[str, str]:
    """``name: text`` entries of an Args section, continuation lines joined."""
    helps: dict[str, str] = {}
    current = None
    for line in args.splitlines():
        if line and not line.startswith(" ") and ":" in line:
            current, _, text = line.partition(":")
            helps[current] = text.strip()
        elif current and line.strip():
            helps[current] += " " + line.strip()
    return helps
