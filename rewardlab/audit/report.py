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


#: The table's columns: heading and width (a negative width aligns left).
COLUMNS = (
    ("probe", -16),
    ("mean", 8),
    ("±se", 6),
    ("pctl", 6),
    (">median", 8),
    (">p.med", 7),
    (">best", 6),
    ("top component (gain)", -32),
    ("None", 9),
)


def _line(cells: list[str]) -> str:
    return " ".join(f"{cell:<{-w}}" if w < 0 else f"{cell:>{w}}" for cell, (_, w) in zip(cells, COLUMNS, strict=True))


def render(result: Audit) -> str:
    """The audit as a fixed-width table: one line per probe, then the verdict.

    Columns: the probe's mean and its standard error; its percentile among the real completions; whether it
    beats their median; the shares of prompts where it beats that prompt's median real completion (``>p.med``)
    and its best one (``>best``); the component it gains most on, and by how much; the rows not judged (None) of
    those built.
    """
    lines = [
        f"reward: {result.signature}",
        f"data: {result.data}: {result.rows} rows, {result.groups} prompts, {result.real_nulls} not judged (None); "
        f"probe families: {', '.join(result.families)}; seed {result.seed}",
        f"real completions: median {_number(result.median)}, mean {_number(result.real_mean)}",
        "",
        _line([heading for heading, _ in COLUMNS]),
    ]
    for probe in result.probes:
        top = "-" if probe.top_component is None else f"{probe.top_component} (+{probe.top_component_gain:.3f})"
        cells = [
            probe.name,
            _number(probe.mean),
            _number(probe.stderr),
            _number(probe.percentile, 1),
            "YES" if probe.beats_median else "no",
            _share(probe.beats_prompt_median_share),
            _share(probe.beats_best_share),
            top,
            f"{probe.nulls}/{probe.rows}",
        ]
        lines.append(_line(cells))
    lines.append("")
    lines.extend(_notes(result))
    flagged = result.flagged
    verb = "reach" if result.strict else "beat"
    if flagged:
        names = ", ".join(probe.name for probe in flagged)
        lines.append(f"FAIL: {len(flagged)} probe(s) {verb} the median of the real completions: {names}")
    else:
        lines.append(f"ok: no probe {verb}s the median of the real completions")
    return "\n".join(lines)


def _notes(result: Audit) -> list[str]:
    """Warnings the verdict alone would hide: a saturated median, probes paid as much as the best real completion."""
    notes = []
    tying = [p.name for p in result.probes if p.reaches_best_share is not None and p.reaches_best_share >= 0.5]
    if tying:
        notes.append(
            f"note: {', '.join(tying)} score(s) as much as the best real completion on at least half the prompts"
        )
    if result.median_is_top and not result.strict:
        notes.append(
            "note: the real median is the top real score, so no probe can beat it; --strict also fails a probe "
            "that reaches it"
        )
    return notes


def write_json(result: Audit, path: str | os.PathLike[str]) -> None:
    """Write the audit as JSON (``median``, ``probes`` and the settings), whole or not at all."""
    with atomic_writer(path) as handle:
        json.dump(result.as_dict(), handle, indent=2, ensure_ascii=False)
        handle.write("\n")
