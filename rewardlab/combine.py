"""Several rewards combined into one, as TRL's ``reward_weights`` combines reward functions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rewardlab.errors import ConfigError
from rewardlab.reward import Reward, Score


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
        return {r.name: {"weight": w, **r.settings()} for r, w in zip(self.rewards, self.weights, strict=True)}

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
        for row_scores in zip(*per_reward, strict=True):
            total, applies, components, details = 0.0, False, {}, {}
            for reward, weight, s in zip(self.rewards, self.weights, row_scores, strict=True):
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
