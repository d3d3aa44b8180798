"""Module paths of earlier versions, kept working: ``from rewardlab.core import Reward`` still runs.

The layout changed so that it shows the architecture (``docs/architecture.md``); code written against the old
modules keeps running. Each old module is an alias that finds a name in the new modules listed for it, in order,
and warns once (DeprecationWarning) with the new home. Nothing here is imported unless an old path is used.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from typing import Any

#: Each old module, and the modules its names now live in (searched in order).
MOVED: dict[str, tuple[str, ...]] = {
    "rewardlab.core": (
        "rewardlab.reward",
        "rewardlab.errors",
        "rewardlab.registry",
        "rewardlab.params",
        "rewardlab.user",
        "rewardlab.combine",
        "rewardlab.describe",
    ),
    "rewardlab.io": (
        "rewardlab.engine.read",
        "rewardlab.engine.validate",
        "rewardlab.engine.write",
        "rewardlab.engine.score",
    ),
    "rewardlab.scoring": (
        "rewardlab.engine.batch",
        "rewardlab.describe",
        "rewardlab.engine.validate",
        "rewardlab.engine.score",
        "rewardlab.engine.summary",
        "rewardlab.engine.split",
    ),
    "rewardlab.stream": (
        "rewardlab.engine.pipeline",
        "rewardlab.engine.batch",
        "rewardlab.engine.score",
        "rewardlab.engine.write",
    ),
    "rewardlab.workers": ("rewardlab.engine.workers", "rewardlab.engine.score"),
    "rewardlab.ray_engine": ("rewardlab.engine.ray_engine",),
    "rewardlab.clierrors": ("rewardlab.cli.framework",),
    "rewardlab.quiet": ("rewardlab.models",),
    "rewardlab.engagement": ("rewardlab.rewards.engagement",),
    "rewardlab.reward_model": ("rewardlab.rewards.reward_model",),
    "rewardlab.polychromic": ("rewardlab.rewards.polychromic",),
    "rewardlab.math": (
        "rewardlab.rewards.math.answers",
        "rewardlab.rewards.math.format",
        "rewardlab.rewards.math.accuracy",
        "rewardlab.rewards.math.length",
        "rewardlab.rewards.math.preset",
    ),
    "rewardlab.code": (
        "rewardlab.rewards.code.rewards",
        "rewardlab.rewards.code.extract",
        "rewardlab.rewards.code.cases",
        "rewardlab.rewards.code.compare",
        "rewardlab.rewards.code.judge",
    ),
    "eval.selfbleu": ("rewardlab.metrics.selfbleu",),
    "eval.tokens": ("rewardlab.metrics.tokens",),
}


class _Alias(types.ModuleType):
    """An old module: each attribute is looked up in the new modules and cached."""

    def __init__(self, name: str, homes: tuple[str, ...]) -> None:
        super().__init__(name, f"Moved: see {', '.join(homes)}.")
        self.__homes = homes

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        found = [(home, getattr(module, attribute)) for home, module in self._modules() if hasattr(module, attribute)]
        if found:
            defined = [(home, value) for home, value in found if getattr(value, "__module__", None) == home]
            home, value = (defined or found)[0]
            warnings.warn(f"{self.__name__}.{attribute} moved to {home}.{attribute}", DeprecationWarning, stacklevel=2)
            setattr(self, attribute, value)
            return value
        raise AttributeError(f"module '{self.__name__}' has no attribute '{attribute}' (it moved: {self.__doc__})")

    def _modules(self) -> list[tuple[str, types.ModuleType]]:
        return [(home, importlib.import_module(home)) for home in self.__homes]


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old module names of :data:`MOVED` and loads each as an :class:`_Alias`."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        """A spec for an old module name; None for every other name."""
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        """The alias module for ``spec.name``."""
        return _Alias(spec.name, MOVED[spec.name])

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the alias finds its names when they are asked for."""


def install() -> None:
    """Put the finder at the end of ``sys.meta_path`` (once), after every real module has had its chance."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())
