"""Guards that catch a dead GRPO run while it happens, and the spread statistics ``--preflight`` prints.

GRPO's advantage is each completion's reward minus its group's mean (divided by the group's std). When every
completion of a prompt gets the same reward the advantages of that group are all zero and it contributes no
gradient; when that holds for most groups step after step, loss and updates are zero and the run learns nothing —
the failure this project grew from (174 steps, unnoticed). TRL logs the share of such groups as
``frac_reward_zero_std``; :class:`ZeroVarianceGuard` watches it.
"""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from transformers import TrainerCallback

#: A batch-wide reward std at or below this counts as "every group has zero variance". TRL's own test
#: (``isclose(std, 0)``, absolute tolerance 1e-8) misses float noise: a run collapsed onto one completion logs a
#: std of about 3e-8 and ``frac_reward_zero_std`` 0 while its gradient is gone.
BATCH_STD_TOLERANCE = 1e-6

REMEDIES = (
    "raise --temperature, sample more --num-generations per prompt, use a softer or partial-credit reward "
    "(one that tells close from far), or use prompts of a difficulty the model sometimes but not always meets"
)


def zero_variance_message(share: float, steps: int, reward_std: float | None = None) -> str:
    """The warning text: what was seen, what it means, what to do.

    Example:
        >>> zero_variance_message(1.0, 3).split(":")[0]
        'zero reward variance'

    """
    seen = f"zero reward variance: in {share:.0%} of prompt groups every completion got the same reward"
    seen += f" for {steps} logging steps in a row" if steps > 1 else ""
    if reward_std is not None and reward_std <= BATCH_STD_TOLERANCE:
        seen += " (the reward was the same for every completion in the batch)"
    return (
        f"{seen}. Those groups have all-zero advantages, so they give no gradient and the model does not learn "
        f"from them. Remedies: {REMEDIES}."
    )


#: Share of zero-variance groups above which ``--preflight`` and the guard warn.
ZERO_VARIANCE_SHARE = 0.5


class ZeroVarianceGuard(TrainerCallback):
    """Warn once when most prompt groups have had zero reward variance for ``patience`` logging steps in a row.

    A step counts when TRL's ``frac_reward_zero_std`` is above ``threshold``, or when the batch's ``reward_std`` is
    (almost) zero, which means every group has zero variance whatever TRL's share says.

    Args:
        threshold: Share of zero-variance groups (TRL's ``frac_reward_zero_std``) above which a step counts.
        patience: Consecutive such logging steps before the warning.
        stream: Where the warning is printed (standard error by default).

    """

    def __init__(
        self, threshold: float = ZERO_VARIANCE_SHARE, patience: int = 3, stream: TextIO | None = None
    ) -> None:
        self.threshold = threshold
        self.patience = patience
        self.stream = stream
        self.streak = 0
        self.warned = False

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kwargs: Any) -> None:
        """Count logging steps whose share of zero-variance groups is above the threshold."""
        logs = logs or {}
        share = logs.get("frac_reward_zero_std")
        if share is None:
            return
        reward_std = logs.get("reward_std")
        if reward_std is not None and reward_std <= BATCH_STD_TOLERANCE:
            share = 1.0
        self.streak = self.streak + 1 if share > self.threshold else 0
        if self.streak >= self.patience and not self.warned:
            self.warned = True
            if getattr(state, "is_world_process_zero", True):
                message = f"step {state.global_step}: " + zero_variance_message(share, self.streak, reward_std)
                print(f"WARNING {message}", file=self.stream or sys.stderr, flush=True)


@dataclass
class Spread:
    """How one reward's values spread over a sample of prompt groups (what ``--preflight`` prints)."""

    name: str
    mean: float
    std: float
    low: float
    high: float
    zero_variance_groups: int
    groups: int
    scored: int

    @property
    def zero_variance_share(self) -> float:
        """Share of groups whose completions all got the same reward."""
        return self.zero_variance_groups / self.groups if self.groups else 0.0


def spread(name: str, values: Sequence[float | None], group_size: int) -> Spread:
    """Summarise rewards laid out as consecutive groups of ``group_size`` completions per prompt.

    None values (reward does not apply) are left out; a group with fewer than two scored values counts as zero
    variance, as it gives no gradient either.

    Example:
        >>> s = spread("r", [1.0, 1.0, 0.0, 1.0], group_size=2)
        >>> s.zero_variance_groups, s.groups, s.mean
        (1, 2, 0.75)

    """
    groups = [values[i : i + group_size] for i in range(0, len(values), group_size)]
    zero = 0
    for group in groups:
        scored = [v for v in group if v is not None and not math.isnan(v)]
        if len(scored) < 2 or math.isclose(max(scored), min(scored), rel_tol=0.0, abs_tol=1e-9):
            zero += 1
    scored = [v for v in values if v is not None and not math.isnan(v)]
    if not scored:
        return Spread(name, math.nan, math.nan, math.nan, math.nan, zero, len(groups), 0)
    std = statistics.pstdev(scored) if len(scored) > 1 else 0.0
    return Spread(name, statistics.fmean(scored), std, min(scored), max(scored), zero, len(groups), len(scored))


def format_spreads(spreads: Sequence[Spread]) -> str:
    """A table of spreads, one reward per line.

    Example:
        >>> print(format_spreads([spread("r", [1.0, 1.0, 0.0, 1.0], 2)]))
        reward         mean      std      min      max  zero-variance groups
        r             0.750    0.433    0.000    1.000  1/2 (50%)

    """
    width = max(10, *(len(s.name) for s in spreads))
    lines = [f"{'reward':<{width}} {'mean':>8} {'std':>8} {'min':>8} {'max':>8}  zero-variance groups"]
    for s in spreads:
        lines.append(
            f"{s.name:<{width}} {s.mean:>8.3f} {s.std:>8.3f} {s.low:>8.3f} {s.high:>8.3f}  "
            f"{s.zero_variance_groups}/{s.groups} ({s.zero_variance_share:.0%})"
        )
    return "\n".join(lines)
