"""The one interface: a reward scores a batch the way TRL's GRPOTrainer calls a reward function.

A reward follows TRL's reward-function convention, ``reward(prompts, completions, **columns) -> list[float | None]``,
so any :class:`Reward` can be handed to ``trl.GRPOTrainer(reward_funcs=...)`` unchanged. ``None`` means the reward
does not apply to that row (TRL then leaves it out of the weighted sum). Group-level rewards compare the
completions of one prompt; :func:`group_keys` is the one rule of what a group is.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rewardlab.text import to_text

#: Environment variable holding the CPUs this process may use for a reward's helper processes (the math-verify
#: pool, say); ``rewardlab score --workers N`` gives each worker its share of the machine through it.
CPUS_ENV = "REWARDLAB_CPUS"

#: Keyword arguments TRL's GRPOTrainer passes that are not dataset columns.
TRAINER_KWARGS = ("trainer_state", "log_extra", "log_metric", "environments")


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
            >>> import rewardlab
            >>> reward = rewardlab.get("math-accuracy")
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


def cpu_share() -> int:
    """The CPUs this process may use for a reward's helper processes: :data:`CPUS_ENV` when set, else all."""
    try:
        return max(1, int(os.environ[CPUS_ENV]))
    except (KeyError, ValueError):
        return os.cpu_count() or 1
