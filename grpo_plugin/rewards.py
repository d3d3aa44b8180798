"""rewardlab rewards as TRL reward functions: one function per reward, so TRL logs each under its own name.

A comma list ``engagement,math-format`` with ``--weights 1,0.5`` becomes two reward functions and
``reward_weights=[1.0, 0.5]``; TRL then logs ``rewards/engagement/mean`` and ``rewards/math-format/mean``, and each
reward's components (``engagement/relevance`` …) arrive through TRL's ``log_metric`` hook, which
:meth:`rewardlab.Reward.__call__` calls. Building goes through :func:`rewardlab.build`, so names, parameters and
weights are checked exactly as ``rewardlab score`` checks them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rewardlab.combine import WeightedSum
from rewardlab.registry import build
from rewardlab.reward import Reward
from rewardlab.rewards.polychromic import Polychromic


@dataclass
class RewardSet:
    """The reward functions handed to ``GRPOTrainer(reward_funcs=...)`` and their ``reward_weights``."""

    funcs: list[Reward]
    weights: list[float]

    @property
    def names(self) -> list[str]:
        """The names TRL logs the rewards under."""
        return [f.name for f in self.funcs]

    def settings(self) -> dict[str, Any]:
        """Each reward's weight and constructor settings (for the resolved config)."""
        return {f.name: {"weight": w, **f.settings()} for f, w in zip(self.funcs, self.weights, strict=True)}

    def total(self, per_reward: Sequence[Sequence[float | None]]) -> list[float | None]:
        """Combine per-reward values row by row as TRL does: weighted sum of the values that are not None.

        Example:
            >>> RewardSet([], [1.0, 0.5]).total([[1.0, None], [2.0, None]])
            [2.0, None]

        """
        rows = []
        for values in zip(*per_reward, strict=True):
            present = [
                (w, v) for w, v in zip(self.weights, values, strict=True) if v is not None and not math.isnan(v)
            ]
            rows.append(sum(w * v for w, v in present) if present else None)
        return rows


def build_rewards(
    spec: str, weights: Sequence[float] | None = None, params: dict[str, Any] | None = None
) -> RewardSet:
    """Build the reward functions of ``--reward SPEC --weights ... -p KEY=VALUE``.

    Raises:
        rewardlab.ConfigError: Unknown reward, parameter or weight count, as :func:`rewardlab.build` reports them.

    Example:
        >>> rewards = build_rewards("math-format,math-tags", weights=[1.0, 0.5])
        >>> rewards.names, rewards.weights
        (['math-format', 'math-tags'], [1.0, 0.5])

    """
    combined = build(spec, weights=weights, params=params)
    if isinstance(combined, WeightedSum):
        return RewardSet(list(combined.rewards), list(combined.weights))
    return RewardSet([combined], [1.0])


def polychromic_rewards(rewards: RewardSet, set_size: int, diversity: str, seed: int) -> RewardSet:
    """Replace each reward function by its polychromic version (``--objective polychromic``), weights unchanged.

    A set's polychromic score is linear in the reward, and every wrapper draws the same sets for the same group
    (same seed and texts), so TRL's weighted sum of the wrapped rewards is the polychromic score of the weighted
    total, while each reward keeps its own name in the logs (``rewards/polychromic(engagement)/mean``).

    Example:
        >>> polychromic_rewards(build_rewards("math-format"), set_size=4, diversity="lexical", seed=0).names
        ['polychromic(math-format)']

    """
    wrapped = [Polychromic(f, set_size=set_size, diversity=diversity, seed=seed) for f in rewards.funcs]
    return RewardSet(wrapped, list(rewards.weights))
