"""Show a comparison: a side-by-side table for the terminal, and report.md, report.json and PNG plots on disk.

Every file is rendered in memory first and then written atomically, so a failure leaves no partial report.
"""

from __future__ import annotations

import io
import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from eval.compare import Comparison, MetricResult
from rewardlab.engine.write import atomic_writer

#: Printed in the winner column when the difference is not significant.
NO_WINNER = "-"
PLOTS = ("metrics.png", "pass_at_k.png")


def format_p(p: float) -> str:
    """A p-value for a table: three decimals, or ``<0.001``.

    Example:
        >>> format_p(0.04321), format_p(0.0002)
        ('0.043', '<0.001')

    """
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _label(metric: MetricResult) -> str:
    arrow = " ↓" if metric.better == "lower" else ""
    return f"{metric.name} ({metric.note})" if metric.name.startswith("pass@") else f"{metric.name}{arrow}"


def _table_rows(comparison: Comparison, other: str, with_ci: bool) -> tuple[list[str], list[list[str]]]:
    base = comparison.baseline
    adjusted = len(comparison.runs) > 2
    header = ["metric", base, other, "diff", "95% CI of diff", "p", *(["p (Holm)"] if adjusted else []), "test"]
    rows = []
    for metric in comparison.metrics:
        test = metric.tests[other]
        values = []
        for name in (base, other):
            e = metric.estimates[name]
            values.append(f"{e.value:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}]" if with_ci else f"{e.value:.3f}")
        rows.append(
            [
                _label(metric),
                *values,
                f"{test.difference:+.3f}",
                f"[{test.ci_low:+.3f}, {test.ci_high:+.3f}]",
                format_p(test.p_value),
                *([format_p(metric.adjusted[other])] if adjusted else []),
                test.test,
                metric.winner(base, other) or NO_WINNER,
            ]
        )
    return [*header, "winner"], rows


#: Marks, in the one table of three or more runs, a run significantly better or worse than the first.
BETTER, WORSE = "▲", "▼"


def _wide_rows(comparison: Comparison, with_ci: bool) -> tuple[list[str], list[list[str]]]:
    """Three or more runs: one row per metric, a column per run.

    Each later run's cell has its difference from the first and its Holm-adjusted p, marked where that run is the
    winner or the loser.
    """
    base = comparison.baseline
    names = [run.name for run in comparison.runs]
    rows = []
    for metric in comparison.metrics:
        cells = []
        for name in names:
            e = metric.estimates[name]
            cell = f"{e.value:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}]" if with_ci else f"{e.value:.3f}"
            if name != base:
                winner = metric.winner(base, name)
                mark = BETTER if winner == name else WORSE if winner == base else ""
                test = metric.tests[name]
                cell += f" {test.difference:+.3f} p={format_p(metric.adjusted[name])}{mark}"
            cells.append(cell)
        tests = sorted({t.test for t in metric.tests.values()})
        rows.append([_label(metric), *cells, ", ".join(tests)])
    return ["metric", *names, "test"], rows


def _wide_heading(comparison: Comparison) -> str:
    s = comparison.settings
    others = ", ".join(run.name for run in comparison.runs[1:])
    return (
        f"{others} against {comparison.baseline}: {comparison.prompts} prompts x {comparison.samples} samples; "
        f"paired bootstrap over prompts ({s['n_boot']} resamples, seed {s['seed']}); each later run: value, "
        f"difference from {comparison.baseline}, Holm-adjusted p, {BETTER}/{WORSE} where it is better/worse"
    )


def _heading(comparison: Comparison, other: str) -> str:
    s = comparison.settings
    return (
        f"{comparison.baseline} vs {other}: {comparison.prompts} prompts x {comparison.samples} samples; "
        f"paired bootstrap over prompts ({s['n_boot']} resamples, seed {s['seed']})"
    )


def render_table(comparison: Comparison) -> str:
    """The terminal table: one line per metric; two runs side by side with the test, three or more in one table."""
    blocks = []
    if len(comparison.runs) > 2:
        header, rows = _wide_rows(comparison, with_ci=False)
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines = [_wide_heading(comparison)]
        for r in [header, *rows]:
            cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:-1], widths[1:-1], strict=True)]
            lines.append("  ".join([*cells, r[-1]]).rstrip())
        blocks.append("\n".join(lines))
    for run in comparison.runs[1:] if len(comparison.runs) == 2 else []:
        header, rows = _table_rows(comparison, run.name, with_ci=False)
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines = [_heading(comparison, run.name)]
        last = len(header) - 2  # the test's name, left-aligned like the metric's; the winner ends the line
        for r in [header, *rows]:
            cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:last], widths[1:last], strict=True)]
            cells += [r[last].ljust(widths[last]), r[-1]]
            lines.append("  ".join(cells).rstrip())
        blocks.append("\n".join(lines))
    which = "Holm-adjusted p" if len(comparison.runs) > 2 else "p"
    alpha = comparison.settings["alpha"]
    legend = f"↓ lower is better; winner: the better run where {which} < {alpha}, else {NO_WINNER}"
    if len(comparison.runs) > 2:
        legend = (
            f"↓ lower is better; {BETTER}/{WORSE}: better/worse than {comparison.baseline} where {which} < {alpha}"
        )
    notes = [f"note: {n}" for n in comparison.notes]
    return "\n\n".join(blocks) + "\n" + "\n".join([legend, *notes, f"signature: {comparison.signature()}"])


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that produced the numbers."""
    found = {"python": platform.python_version()}
    for package in ("rewardlab", "numpy", "sacrebleu", "matplotlib"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def report_json(comparison: Comparison) -> dict[str, Any]:
    """Every number of the comparison, with the settings, seeds and versions that produced it."""
    base = comparison.baseline
    metrics = []
    for metric in comparison.metrics:
        metrics.append(
            {
                "name": metric.name,
                "better": metric.better,
                "note": metric.note,
                "runs": {name: e.as_dict() for name, e in metric.estimates.items()},
                "comparisons": [
                    {
                        "baseline": base,
                        "run": other,
                        **test.as_dict(),
                        **({"p_value_holm": metric.adjusted[other]} if len(comparison.runs) > 2 else {}),
                        "winner": metric.winner(base, other),
                    }
                    for other, test in metric.tests.items()
                ],
            }
        )
    return {
        "signature": comparison.signature(),
        "settings": comparison.settings,
        "versions": versions(),
        "baseline": base,
        "runs": [
            {
                "name": run.name,
                "source": run.source,
                "rows": run.rows,
                "prompts": comparison.prompts,
                "samples_per_prompt": comparison.samples,
                "rows_scored_by_reward": run.provenance.scored,
            }
            for run in comparison.runs
        ],
        "metrics": metrics,
        "pass_at_k_curve": {
            name: [{"k": k, **e.as_dict()} for k, e in curve] for name, curve in comparison.pass_curves.items()
        },
        "notes": comparison.notes,
    }


def render_markdown(comparison: Comparison) -> str:
    """report.md: the runs, one table per comparison with each run's interval, the plots, notes and settings."""
    names = " vs ".join(run.name for run in comparison.runs)
    lines = [f"# evalkit compare: {names}", "", "| run | file | rows | rows scored by --reward |", "|---|---|---|---|"]
    lines += [f"| {r.name} | `{r.source}` | {r.rows} | {r.provenance.scored} |" for r in comparison.runs]
    tables = [(_wide_heading(comparison), *_wide_rows(comparison, with_ci=True))] if len(comparison.runs) > 2 else []
    for run in comparison.runs[1:] if len(comparison.runs) == 2 else []:
        tables.append((_heading(comparison, run.name), *_table_rows(comparison, run.name, with_ci=True)))
    for heading, header, rows in tables:
        lines += ["", f"## {heading}", "", "| " + " | ".join(header) + " |"]
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    alpha = comparison.settings["alpha"]
    holm_note = (
        f"; with {len(comparison.runs) - 1} runs tested against {comparison.baseline}, p is each metric's "
        f"p adjusted by Holm's method over those tests (the raw p is in report.json), and {BETTER}/{WORSE} is "
        "called on it"
        if len(comparison.runs) > 2
        else ""
    )
    lines += [
        "",
        f"Run values are means over prompts with {comparison.settings['confidence']:.0%} percentile bootstrap "
        f"intervals; diff is the second run minus the first; ↓ marks metrics where lower is better; the winner is "
        f"the better run where p < {alpha}{holm_note}.",
        "",
        "![metrics with 95% intervals](metrics.png)",
        "",
        "![pass@k against k](pass_at_k.png)",
    ]
    if comparison.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in comparison.notes]
    lines += ["", "## Settings", "", f"signature: `{comparison.signature()}`", ""]
    lines += [f"- {key}: `{value}`" for key, value in comparison.settings.items()]
    lines += [f"- version of {key}: `{value}`" for key, value in versions().items()]
    return "\n".join(lines) + "\n"


def plot_metrics(comparison: Comparison) -> bytes:
    """PNG: one panel per metric, a bar per run with its bootstrap interval."""
    from matplotlib.figure import Figure

    names = [run.name for run in comparison.runs]
    columns = min(4, len(comparison.metrics))
    rows = -(-len(comparison.metrics) // columns)
    width = 3.2 + 0.4 * max(0, len(names) - 3)  # wider panels when more bars share them
    figure = Figure(figsize=(width * columns, 2.8 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, metric in zip(axes[: len(comparison.metrics)], comparison.metrics, strict=True):
        estimates = [metric.estimates[name] for name in names]
        ax.bar(names, [e.value for e in estimates], color=[f"C{i % 10}" for i in range(len(names))])
        # A percentile interval need not hold the estimate (few resamples, skewed data), so it is drawn as a line of
        # its own rather than as error bars around the estimate.
        ax.vlines(names, [e.ci_low for e in estimates], [e.ci_high for e in estimates], color="black", linewidth=1.2)
        ax.set_title(f"{metric.name} ({metric.better} is better)", fontsize=9)
        ax.tick_params(labelsize=8)
        if len(names) > 2:
            ax.tick_params(axis="x", labelrotation=30)
    for ax in axes[len(comparison.metrics) :]:
        ax.set_visible(False)
    return _png(figure)


def plot_pass_at_k(comparison: Comparison) -> bytes:
    """PNG: pass@k against k for every run, with bootstrap intervals."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 3.5), layout="constrained")
    ax = figure.subplots()
    for name, curve in comparison.pass_curves.items():
        ks = [k for k, _ in curve]
        values = [e.value for _, e in curve]
        (line,) = ax.plot(ks, values, marker="o", label=name)
        lows, highs = [e.ci_low for _, e in curve], [e.ci_high for _, e in curve]
        ax.fill_between(ks, lows, highs, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("k")
    ax.set_ylabel("pass@k")
    ax.set_title(f"pass@k (n={comparison.samples} samples per prompt)", fontsize=10)
    ax.legend()
    return _png(figure)


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def write_per_prompt(comparison: Comparison, path: str | os.PathLike[str]) -> Path:
    """Write each prompt's pass rate in every run as JSONL (``prompt_id``, ``samples``, ``correct``, ``pass_rate``)."""
    assert comparison.per_prompt is not None, "compare_runs(..., per_prompt_rates=True) keeps the rates"
    with atomic_writer(path) as handle:
        for row in comparison.per_prompt.rows():
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return Path(path)


def write_report(comparison: Comparison, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write report.md, report.json, metrics.png and pass_at_k.png into ``out_dir``; return their paths."""
    out = Path(out_dir)
    texts = {
        "report.md": render_markdown(comparison),
        "report.json": json.dumps(report_json(comparison), indent=2, allow_nan=False) + "\n",
    }
    images = dict(zip(PLOTS, (plot_metrics(comparison), plot_pass_at_k(comparison)), strict=True))
    for name, text in texts.items():
        with atomic_writer(out / name) as handle:
            handle.write(text)
    for name, data in images.items():
        with atomic_writer(out / name) as handle:
            handle.buffer.write(data)  # atomic_writer opens text; the PNG's bytes go to its binary buffer
    return [out / name for name in [*texts, *images]]
