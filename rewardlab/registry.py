"""The one registry: every way a name becomes a reward (the CLIs, configs, ``rewardlab.get``) goes through here.

Built-in rewards register themselves with :func:`register` when their module is imported; the registry imports
every module of :mod:`rewardlab.rewards` on the first look-up, so a new built-in needs no list to be edited.
Other distributions add rewards through the entry-point group ``rewardlab.rewards`` (as pytest finds its plugins):
each entry point's name is the reward's name and its object a :class:`~rewardlab.reward.Reward` subclass or a
plain TRL reward function. A user's own reward can also be named as ``module:function`` or ``file.py:function``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import pkgutil
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rewardlab.combine import WeightedSum
from rewardlab.errors import ConfigError
from rewardlab.params import accepted_parameters, construct, did_you_mean
from rewardlab.reward import Reward
from rewardlab.user import FunctionReward

#: The package whose modules hold the built-in rewards, one module (or subpackage) per family.
BUILTIN_PACKAGE = "rewardlab.rewards"

#: The entry-point group through which other distributions register rewards.
ENTRY_POINT_GROUP = "rewardlab.rewards"

_REGISTRY: dict[str, type[Reward]] = {}
#: Entry points that could not be loaded, by reward name, with the reason (shown by ``rewardlab list``).
_BROKEN: dict[str, str] = {}
_LOADED = False
_LOAD_LOCK = threading.RLock()


def register(name: str) -> Callable[[type[Reward]], type[Reward]]:
    """Class decorator that makes a reward available by ``name`` to the CLIs, the configs and :func:`get`."""

    def decorate(cls: type[Reward]) -> type[Reward]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"reward name '{name}' is already registered to {_REGISTRY[name].__qualname__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def _load() -> None:
    """Import every built-in reward module, then the rewards of installed distributions (once per process)."""
    global _LOADED
    if _LOADED:
        return
    with _LOAD_LOCK:
        if _LOADED:
            return
        package = importlib.import_module(BUILTIN_PACKAGE)
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{BUILTIN_PACKAGE}."):
            if not module.name.rpartition(".")[2].startswith("_"):
                importlib.import_module(module.name)
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            _load_entry_point(entry_point)
        _LOADED = True


def _load_entry_point(entry_point: importlib.metadata.EntryPoint) -> None:
    """Register one entry point's reward; one that fails is kept aside with its reason, never fatal for the rest."""
    name = entry_point.name
    where = f"entry point '{name} = {entry_point.value}'"
    if name in _REGISTRY:
        _BROKEN[name] = f"{where} is ignored: '{name}' is already a reward ({_REGISTRY[name].__qualname__})"
        return
    try:
        target = entry_point.load()
    except Exception as error:
        _BROKEN[name] = f"{where} failed to load: {type(error).__name__}: {error}"
        return
    if inspect.isclass(target) and issubclass(target, Reward):
        _REGISTRY[name] = target if target.name == name else register(name)(target)
    elif callable(target):
        _REGISTRY[name] = _function_entry(name, entry_point.value, target)
    else:
        _BROKEN[name] = f"{where} names a {type(target).__name__}, not a Reward subclass or a reward function"


def _function_entry(name: str, spec: str, function: Callable[..., Any]) -> type[Reward]:
    """A registry entry for a plain reward function: a :class:`FunctionReward` that pickles by its registry name."""

    def __init__(self: FunctionReward, **params: Any) -> None:
        FunctionReward.__init__(self, spec, **params)
        self.name = name

    def __reduce__(self: FunctionReward) -> tuple[Any, ...]:
        return rebuild, (name, self.params)

    namespace = {
        "__init__": __init__,
        "__reduce__": __reduce__,
        "__doc__": inspect.getdoc(function) or f"The reward function {spec}.",
        "__module__": __name__,
        "name": name,
        "columns": tuple(getattr(function, "columns", ())),
        "group_level": bool(getattr(function, "group_level", False)),
    }
    return type(f"EntryPoint[{name}]", (FunctionReward,), namespace)


def rebuild(name: str, params: dict[str, Any]) -> Reward:
    """Build the registered reward ``name`` again from its parameters (how entry-point functions unpickle)."""
    return get(name, **params)


def available() -> dict[str, type[Reward]]:
    """Return every registered reward class by name, sorted by name."""
    _load()
    return dict(sorted(_REGISTRY.items()))


def broken() -> dict[str, str]:
    """Entry points that were found but could not be registered, by name, with the reason."""
    _load()
    return dict(sorted(_BROKEN.items()))


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
    if ":" in spec and spec not in available():
        return FunctionReward(spec, **params)
    return construct(spec, lookup(spec), params)


def lookup(name: str) -> type[Reward]:
    """The registered reward class called ``name``.

    Raises:
        ConfigError: No reward has that name (naming the closest ones), or its entry point could not be loaded.

    """
    registry = available()
    if name in registry:
        return registry[name]
    if name in _BROKEN:
        raise ConfigError(_BROKEN[name])
    raise unknown_reward(name, registry)


def unknown_reward(spec: str, registry: Iterable[str]) -> ConfigError:
    """The error for a name no reward has: the closest names, every known name, and how to give one's own."""
    names = list(registry)
    return ConfigError(
        f"unknown reward '{spec}'{did_you_mean(spec, names)}; known rewards: {', '.join(names)}; "
        "a reward of your own can be given as module:function or path/to/file.py:function"
    )


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
    accepted = accepted_parameters(registry[name]) if name in registry else None
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
