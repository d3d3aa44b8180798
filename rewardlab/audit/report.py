"""The audit as a table for the terminal and as JSON for CI."""

from __future__ import annotations

import json
import os

from rewardlab.audit.run import Audit
from rewardlab.engine.write import atomic_writer


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def render(result: Audit) -> str:
    """The audit as a fixed-width table: one line per probe, then the verdict.

    Columns: the probe's mean, its percentile among the real completions, whether it beats their median, the
    share of prompts where it beats the best real completion, the component it gains most on (and by how much),
    and the rows the reward did not judge (None) out of the rows built.
    """
    lines = [
        f"reward: {result.signature}",
        f"data: {result.data}: {result.rows} rows, {result.groups} prompts, {result.real_nulls} not judged (None); "
        f"probe families: {', '.join(result.families)}; seed {result.seed}",
        f"real completions: median {_number(result.median)}, mean {_number(result.real_mean)}",
        "",
        f"{'probe':<16} {'mean':>8} {'pctl':>6} {'>median':>8} {'>best':>6}  {'top component (gain)':<32} {'None':>9}",
    ]
    for probe in result.probes:
        top = "-" if probe.top_component is None else f"{probe.top_component} (+{probe.top_component_gain:.3f})"
        lines.append(
            f"{probe.name:<16} {_number(probe.mean):>8} {_number(probe.percentile, 1):>6} "
            f"{'YES' if probe.beats_median else 'no':>8} {_share(probe.beats_best_share):>6}  {top:<32} "
            f"{f'{probe.nulls}/{probe.rows}':>9}"
        )
    flagged = result.flagged
    lines.append("")
    if flagged:
        names = ", ".join(probe.name for probe in flagged)
        lines.append(f"FAIL: {len(flagged)} probe(s) beat the median of the real completions: {names}")
    else:
        lines.append("ok: no probe beats the median of the real completions")
    return "\n".join(lines)


def write_json(result: Audit, path: str | os.PathLike[str]) -> None:
    """Write the audit as JSON (``median``, ``probes`` and the settings), whole or not at all."""
    with atomic_writer(path) as handle:
        json.dump(result.as_dict(), handle, indent=2, ensure_ascii=False)
        handle.write("\n")
