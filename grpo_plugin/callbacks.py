"""Callbacks that guard a training run, and the spread statistics ``--preflight`` prints.

:class:`StopOnSignal` lets a run stop on Ctrl-C or SIGTERM without losing its steps; :class:`RecordRun` marks each
checkpoint as the run's own.

GRPO's advantage is each completion's reward minus its group's mean (divided by the group's std). When every
completion of a prompt gets the same reward the advantages of that group are all zero and it contributes no
gradient; when that holds for most groups step after step, loss and updates are zero and the run learns nothing —
the failure this project grew from (174 steps, unnoticed). TRL logs the share of such groups as
``frac_reward_zero_std``; :class:`ZeroVarianceGuard` watches it.
"""

from __future__ import annotations

import math
import signal
import statistics
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from transformers import TrainerCallback

from grpo_plugin.runs import write_record
from rewardlab.analysis.scored import NEAR_ZERO_FRACTION

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
    near_zero_groups: int = 0

    @property
    def zero_variance_share(self) -> float:
        """Share of groups whose completions all got the same reward."""
        return self.zero_variance_groups / self.groups if self.groups else 0.0

    @property
    def near_zero_share(self) -> float:
        """Share of groups whose spread is near zero (zero-variance groups included), as :func:`spread` defines it."""
        return self.near_zero_groups / self.groups if self.groups else 0.0


def near_zero_message(s: Spread) -> str:
    """The warning for groups whose rewards differ, but by too little to tell completions apart.

    Example:
        >>> near_zero_message(spread("r", [1.0, 1.001, 0.0, 1.0], group_size=2)).split(":")[0]
        'near-zero reward spread'

    """
    return (
        f"near-zero reward spread: in {s.near_zero_share:.0%} of prompt groups the rewards' std is below "
        f"{NEAR_ZERO_FRACTION:g} x the reward's range. TRL divides advantages by the group's std, so such groups "
        f"turn tiny, noisy differences into full-size updates. Remedies: {REMEDIES}."
    )


def spread(name: str, values: Sequence[float | None], group_size: int) -> Spread:
    """Summarise rewards laid out as consecutive groups of ``group_size`` completions per prompt.

    None values (reward does not apply) are left out; a group with fewer than two scored values counts as zero
    variance, as it gives no gradient either. A group is near-zero when its std is below
    :data:`~rewardlab.analysis.scored.NEAR_ZERO_FRACTION` of the range of all the values (zero-variance groups
    included), as ``rewardlab analyze`` counts it.

    Example:
        >>> s = spread("r", [1.0, 1.0, 0.0, 1.0, 0.5, 0.51], group_size=2)
        >>> s.zero_variance_groups, s.near_zero_groups, s.groups
        (1, 2, 3)

    """
    groups = [values[i : i + group_size] for i in range(0, len(values), group_size)]
    scored = [v for v in values if v is not None and not math.isnan(v)]
    width = max(scored) - min(scored) if scored else 0.0
    zero = near = 0
    for group in groups:
        present = [v for v in group if v is not None and not math.isnan(v)]
        if len(present) < 2 or math.isclose(max(present), min(present), rel_tol=0.0, abs_tol=1e-9):
            zero += 1
            near += 1
        elif statistics.pstdev(present) < NEAR_ZERO_FRACTION * width:
            near += 1
    if not scored:
        return Spread(name, math.nan, math.nan, math.nan, math.nan, zero, len(groups), 0, near)
    std = statistics.pstdev(scored) if len(scored) > 1 else 0.0
    return Spread(name, statistics.fmean(scored), std, min(scored), max(scored), zero, len(groups), len(scored), near)


def format_spreads(spreads: Sequence[Spread]) -> str:
    """A table of spreads, one reward per line.

    Example:
        >>> print(format_spreads([spread("r", [1.0, 1.0, 0.0, 1.0], 2)]))
        reward         mean      std      min      max  zero-variance groups  near-zero groups
        r             0.750    0.433    0.000    1.000  1/2 (50%)             1/2 (50%)

    """
    width = max(10, *(len(s.name) for s in spreads))
    header = (
        f"{'reward':<{width}} {'mean':>8} {'std':>8} {'min':>8} {'max':>8}  zero-variance groups  near-zero groups"
    )
    lines = [header]
    for s in spreads:
        zero = f"{s.zero_variance_groups}/{s.groups} ({s.zero_variance_share:.0%})"
        lines.append(
            f"{s.name:<{width}} {s.mean:>8.3f} {s.std:>8.3f} {s.low:>8.3f} {s.high:>8.3f}  {zero:<20}  "
            f"{s.near_zero_groups}/{s.groups} ({s.near_zero_share:.0%})"
        )
    return "\n".join(lines)


class StopOnSignal(TrainerCallback):
    """On SIGINT or SIGTERM, end training at the next optimizer step with a checkpoint; a second signal aborts.

    The handlers only note the signal: the step in progress (generation, backward) finishes, then this callback
    asks the Trainer to save a checkpoint (adapter, optimizer, scheduler, RNG states, ``trainer_state.json``) and
    to stop, exactly as a ``--save-steps`` boundary would, so ``--resume-from-checkpoint`` continues from it. A
    second signal restores the previous handlers and aborts at once. Use it as a context manager around
    ``trainer.train()``: the handlers are installed on entry (in the main thread) and restored on exit.

    Attributes:
        received: The first signal received, or None.
        stopped_at: The step at which training was stopped because of it, or None.

    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.received: int | None = None
        self.stopped_at: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            # A signal the parent chose to ignore (a shell's background job ignores SIGINT) stays ignored.
            self._previous = {
                signum: signal.signal(signum, self._handle)
                for signum in self.SIGNALS
                if signal.getsignal(signum) is not signal.SIG_IGN
            }
        return self

    def __exit__(self, *exc: object) -> None:
        self._restore()

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.received is not None:
            self._restore()
            signal.raise_signal(signum)
            return
        self.received = signum
        print(
            f"{signal.Signals(signum).name}: stopping after this step and saving a checkpoint "
            "(send it again to abort without saving)",
            file=self.stream or sys.stderr,
            flush=True,
        )

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """After a signal, have the Trainer save a checkpoint at this step and stop."""
        if self.received is not None and self.stopped_at is None:
            self.stopped_at = state.global_step
            control.should_save = True
            control.should_training_stop = True


class RecordRun(TrainerCallback):
    """Copy the run record (:mod:`grpo_plugin.runs`) into every checkpoint, so ``last`` knows whose it is."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Write ``run.json`` into the checkpoint just saved (main process only)."""
        checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if state.is_world_process_zero and checkpoint.is_dir():
            write_record(self.record, checkpoint)
