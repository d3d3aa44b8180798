"""Analyse a training run's directory: every logged series over steps, the hack signals, the latest samples.

Reads ``trainer_state.json`` (the output directory's, else the newest checkpoint's) and the monitor's
``samples.jsonl`` when there is one; nothing of TRL is imported.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardlab.analysis.render import sparkline
from rewardlab.analysis.signals import MONITOR, WINDOW, Signal, detect, series
from rewardlab.errors import RewardlabError

#: The series a GRPO dashboard shows first, in this order; every other logged number follows.
HEADLINE = (
    "reward",
    "reward_std",
    "frac_reward_zero_std",
    "monitor/near_zero_std_share",
    "kl",
    "entropy",
    "completions/mean_length",
    "completions/clipped_ratio",
    "monitor/collapse_share",
    "monitor/reward_time_share",
    "loss",
    "grad_norm",
)

#: Logged keys that are bookkeeping, not series.
NOT_SERIES = frozenset({"step", "epoch", "learning_rate", "num_tokens", "total_flos", "monitor/collapse_prompts"})

#: Share of zero-variance groups (TRL's ``frac_reward_zero_std``) over the last logging steps above which a run is
#: flagged, as grpo-train's zero-variance guard warns during training.
ZERO_VARIANCE_SHARE = 0.5

#: Samples shown from the last logged step.
SHOWN_SAMPLES = 3


@dataclass
class RunReport:
    """What ``rewardlab analyze RUN_DIR`` shows."""

    directory: Path
    state_file: Path
    series: dict[str, list[tuple[int, float]]]
    signals: list[Signal]
    samples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``series`` (key → [[step, value], ...]), ``signals``, ``samples`` (count, steps)."""
        return {
            "run": str(self.directory),
            "state": str(self.state_file),
            "series": {key: [list(p) for p in points] for key, points in self.series.items()},
            "signals": [vars(s) for s in self.signals],
            "samples": {"count": len(self.samples), "steps": sorted({s.get("step") for s in self.samples} - {None})},
        }


def state_file(directory: Path) -> Path:
    """The run's ``trainer_state.json``: its own, else the newest checkpoint's.

    Raises:
        RewardlabError: The directory holds neither.

    """
    own = directory / "trainer_state.json"
    if own.is_file():
        return own
    checkpoints = sorted(
        (
            p
            for p in directory.glob("checkpoint-*/trainer_state.json")
            if re.fullmatch(r"checkpoint-\d+", p.parent.name)
        ),
        key=lambda p: int(p.parent.name.split("-")[1]),
    )
    if not checkpoints:
        raise RewardlabError(f"{directory}: no trainer_state.json (is it a grpo-train output directory?)")
    return checkpoints[-1]


def analyze_run(directory: Path) -> RunReport:
    """Read a run directory and find its series and hack signals.

    Raises:
        RewardlabError: No ``trainer_state.json``, or it or ``samples.jsonl`` is not what grpo-train writes.

    """
    path = state_file(directory)
    try:
        history = json.loads(path.read_text(encoding="utf-8"))["log_history"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RewardlabError(f"{path}: not a trainer state ({error})") from None
    steps = [entry for entry in history if isinstance(entry, dict) and "train_runtime" not in entry]
    keys: dict[str, None] = dict.fromkeys(k for k in HEADLINE if any(k in e for e in steps))
    for entry in steps:
        keys.update(dict.fromkeys(k for k in entry if k not in NOT_SERIES and not k.startswith("profiling/")))
    found = {key: points for key in keys if (points := series(steps, key))}
    samples = _samples(directory / "samples.jsonl")
    signals = _zero_variance(found.get("frac_reward_zero_std", [])) + detect(steps) + _sample_collapse(samples)
    return RunReport(directory, path, found, signals, samples)


def _zero_variance(points: list[tuple[int, float]]) -> list[Signal]:
    """Most groups with zero reward variance over the last logging steps: the run is not learning from them."""
    values = [v for _, v in points[-WINDOW:]]
    if len(values) < WINDOW or sum(values) / len(values) <= ZERO_VARIANCE_SHARE:
        return []
    share = sum(values) / len(values)
    message = (
        f"in {share:.0%} of prompt groups every completion got the same reward over the last {WINDOW} logging "
        "steps: those groups give no gradient"
    )
    return [Signal("zero-variance", "frac_reward_zero_std", points[-1][0], message)]


def _samples(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    raise RewardlabError(f"{path}:{number}: not JSON") from None
    return rows


def _sample_collapse(samples: list[dict[str, Any]]) -> list[Signal]:
    """Template collapse seen in the kept samples: one completion for several different prompts of a step."""
    by_step: dict[Any, list[dict[str, Any]]] = {}
    for sample in samples:
        by_step.setdefault(sample.get("step"), []).append(sample)
    found = []
    for step, rows in by_step.items():
        prompts: dict[str, set[str]] = {}
        for row in rows:
            prompts.setdefault(str(row.get("completion")), set()).add(str(row.get("prompt")))
        completion, shared = max(prompts.items(), key=lambda item: len(item[1]))
        if len(shared) >= 3 and len(shared) * 2 >= len({str(r.get("prompt")) for r in rows}):
            text = completion[:60] + ("…" if len(completion) > 60 else "")
            message = f"samples of step {step}: {len(shared)} different prompts got the same completion {text!r}"
            found.append(Signal("template-collapse", "samples", int(step or 0), message))
    return found[-1:]


def render_run(report: RunReport) -> str:
    """The terminal report: a line per series (first, last, min, max, shape over steps), signals, samples."""
    lines = [f"run: {report.directory}  (log: {report.state_file.name}, {_steps(report)} logged steps)"]
    width = max([len(k) for k in report.series] + [10])
    lines.append(f"{'series':<{width}} {'first':>9} {'last':>9} {'min':>9} {'max':>9}  over steps")
    for key, points in report.series.items():
        values = [v for _, v in points]
        if key.startswith(MONITOR) and key.rsplit("/", 1)[-1] in ("std", "min", "max"):
            continue  # in the JSON and the plots; the table shows each component's mean
        lines.append(
            f"{key:<{width}} {values[0]:>9.4g} {values[-1]:>9.4g} {min(values):>9.4g} {max(values):>9.4g}  "
            f"{sparkline(_rescaled(values))}"
        )
    lines.append("")
    if report.signals:
        lines += [f"SIGNAL {s.kind} (step {s.step}): {s.message}" for s in report.signals]
    else:
        lines.append("no hack signal (see rewardlab.analysis.signals for the rules and thresholds)")
    if report.samples:
        last = max((s.get("step") or 0) for s in report.samples)
        counts = Counter(s.get("step") for s in report.samples)
        lines.append(f"\nsamples.jsonl: {len(report.samples)} samples over {len(counts)} steps; step {last}:")
        for sample in [s for s in report.samples if (s.get("step") or 0) == last][:SHOWN_SAMPLES]:
            prompt, completion = (_short(str(sample.get(k, ""))) for k in ("prompt", "completion"))
            lines.append(f"  reward {sample.get('reward')}: {prompt} -> {completion}")
    return "\n".join(lines)


def _steps(report: RunReport) -> int:
    return max((len(points) for points in report.series.values()), default=0)


def _rescaled(values: list[float]) -> list[float]:
    """Values shifted so the smallest is a thin bar, for a sparkline of a series that need not start at zero."""
    low, high = min(values), max(values)
    if math.isclose(low, high):
        return [1.0] * len(values)
    return [(v - low) / (high - low) * 7 + 1 for v in values]


def _short(text: str, size: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def plot_run(report: RunReport, directory: Path) -> list[Path]:
    """Write ``series.png`` (the headline series) and ``components.png`` (the monitor's component means)."""
    from rewardlab.analysis.plots import plot_series

    headline = {k: v for k, v in report.series.items() if k in HEADLINE}
    components = {
        k[len("monitor/") : -len("/mean")]: v
        for k, v in report.series.items()
        if k.startswith("monitor/") and k.endswith("/mean")
    }
    written = [plot_series(headline or report.series, directory, "series.png")]
    if components:
        written.append(plot_series(components, directory, "components.png"))
    return written
