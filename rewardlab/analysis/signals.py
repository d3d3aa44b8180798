"""Hack signals in a GRPO run's logged series: what a practitioner watching the dashboard looks for.

The same detectors serve ``rewardlab analyze RUN_DIR`` (after the run, on ``trainer_state.json``) and
``grpo-train``'s monitor (during it, printing one line per signal the first time it fires). Each reads a run's
``log_history`` (TRL's logged dicts, one per logging step) and compares the mean of the first :data:`WINDOW` logged
values of a series with the mean of the last :data:`WINDOW`:

- **a component rising alone**: a reward or component whose mean rose by at least :data:`RISE_SHARE` of its
  observed range while the run's other varying rewards and components (not its own parts or whole) moved, on
  average, less than :data:`FLAT_SHARE` of theirs (the "?" hack: the question part of a reply reward climbs,
  relevance stays flat);
- **template collapse**: in one logging step, one completion was given for at least :data:`COLLAPSE_SHARE` of the
  distinct prompts (and for :data:`COLLAPSE_MIN_PROMPTS` or more), logged by the monitor as
  ``monitor/collapse_share``;
- **length at the limit**: at least :data:`CLIPPED_SHARE` of completions truncated at ``max_completion_length``
  (TRL's ``completions/clipped_ratio``) over the last :data:`WINDOW` logging steps;
- **zero-variance share growing**: TRL's ``frac_reward_zero_std`` (or the monitor's near-zero share) grown by at
  least :data:`ZERO_STD_GROWTH` from the first logging steps to the last.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Logging steps averaged at each end of a series to tell a trend from noise.
WINDOW = 3
#: A component "rises" when its mean grew by this share of its observed range.
RISE_SHARE = 0.25
#: The other components "stay flat" when they moved on average less than this share of their ranges.
FLAT_SHARE = 0.05
#: One completion for this share of a step's distinct prompts is template collapse.
COLLAPSE_SHARE = 0.5
#: ... and for at least this many prompts.
COLLAPSE_MIN_PROMPTS = 3
#: Share of completions truncated at the length limit that flags "length running to the limit".
CLIPPED_SHARE = 0.5
#: Growth of the zero-variance share (a share, 0-1) that flags it.
ZERO_STD_GROWTH = 0.25

#: The monitor's per-component series: ``monitor/<reward>/<component>/<stat>``.
MONITOR = "monitor/"
STATS = ("mean", "std", "min", "max")


@dataclass(frozen=True)
class Signal:
    """One hack signal: its kind, what it concerns, the step it was seen at, and one line saying what it means."""

    kind: str
    subject: str
    step: int
    message: str


def series(history: Sequence[dict[str, Any]], key: str) -> list[tuple[int, float]]:
    """The (step, value) pairs of ``key`` over the logged steps where it is a finite number."""
    points = []
    for entry in history:
        value = entry.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            points.append((int(entry.get("step", len(points))), float(value)))
    return points


def component_names(history: Sequence[dict[str, Any]]) -> list[str]:
    """The components the monitor logged (``<reward>/<component>``), in order of first appearance."""
    names: dict[str, None] = {}
    for entry in history:
        for key in entry:
            if key.startswith(MONITOR) and key.endswith("/mean"):
                names[key[len(MONITOR) : -len("/mean")]] = None
    return list(names)


def _ends(values: Sequence[float]) -> tuple[float, float] | None:
    if len(values) < 2 * WINDOW:
        return None
    return sum(values[:WINDOW]) / WINDOW, sum(values[-WINDOW:]) / WINDOW


def component_rises(history: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Each varying component's change (last window minus first) as a share of its observed range."""
    rises = {}
    for name in component_names(history):
        means = [v for _, v in series(history, f"{MONITOR}{name}/mean")]
        ends = _ends(means)
        lows = [v for _, v in series(history, f"{MONITOR}{name}/min")] or means
        highs = [v for _, v in series(history, f"{MONITOR}{name}/max")] or means
        scale = max(highs) - min(lows) if highs and lows else 0.0
        if ends is not None and scale > 0:
            rises[name] = (ends[1] - ends[0]) / scale
    return rises


def _related(first: str, second: str) -> bool:
    """Whether two series are one (a reward and its own component move together by construction)."""
    return first == second or first.startswith(f"{second}/") or second.startswith(f"{first}/")


def detect(history: Sequence[dict[str, Any]]) -> list[Signal]:
    """Every hack signal the logged steps show (see the module's description for the rules)."""
    if not history:
        return []
    step = int(history[-1].get("step", len(history)))
    found = []
    rises = component_rises(history)
    for name, rise in rises.items():
        others = [abs(r) for other, r in rises.items() if not _related(name, other)]
        if rise >= RISE_SHARE and others and sum(others) / len(others) < FLAT_SHARE:
            found.append(
                Signal(
                    "rising-alone",
                    name,
                    step,
                    f"{name} rose by {rise:.0%} of its range while the other components stayed flat "
                    f"(mean change {sum(others) / len(others):.0%}): the policy may be gaming this component; "
                    "read samples.jsonl",
                )
            )
    for _, share in series(history, f"{MONITOR}collapse_share")[-1:]:
        prompts = series(history, f"{MONITOR}collapse_prompts")
        count = prompts[-1][1] if prompts else COLLAPSE_MIN_PROMPTS
        if share >= COLLAPSE_SHARE and count >= COLLAPSE_MIN_PROMPTS:
            found.append(
                Signal(
                    "template-collapse",
                    "completions",
                    step,
                    f"one completion was given for {share:.0%} of the step's prompts ({count:.0f}): the policy "
                    "answers every prompt alike",
                )
            )
    clipped = [v for _, v in series(history, "completions/clipped_ratio")]
    if len(clipped) >= WINDOW and sum(clipped[-WINDOW:]) / WINDOW >= CLIPPED_SHARE:
        found.append(
            Signal(
                "length-at-limit",
                "completions",
                step,
                f"{sum(clipped[-WINDOW:]) / WINDOW:.0%} of completions end truncated at --max-completion-length: "
                "length is running to the limit (a reward paying for length, or answers never closing)",
            )
        )
    for key in ("frac_reward_zero_std", f"{MONITOR}near_zero_std_share"):
        ends = _ends([v for _, v in series(history, key)])
        if ends is not None and ends[1] - ends[0] >= ZERO_STD_GROWTH:
            found.append(
                Signal(
                    "zero-variance-growing",
                    key,
                    step,
                    f"{key} grew from {ends[0]:.0%} to {ends[1]:.0%}: more and more prompt groups give no gradient",
                )
            )
    return found
