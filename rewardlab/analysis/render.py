"""The terminal report of ``rewardlab analyze FILE``: tables of distributions, groups, correlations, breakdowns."""

from __future__ import annotations

from rewardlab.analysis.scored import NEAR_ZERO_FRACTION, TOTAL, Analysis
from rewardlab.analysis.sketch import QUANTILES, quantile_name

#: Eighths of a block, for one-line histograms.
BARS = " ▁▂▃▄▅▆▇█"


def sparkline(counts: list[float]) -> str:
    """Counts as a line of block characters, the largest a full block.

    Example:
        >>> sparkline([0, 1, 2, 4])
        ' ▂▄█'

    """
    top = max(counts, default=0)
    if top <= 0:
        return ""
    return "".join(BARS[round(c / top * 8)] for c in counts)


def _number(value: float | None, width: int = 7) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.3f}"


def render(analysis: Analysis) -> str:
    """The whole report, section by section."""
    sections = [
        f"rows: {analysis.rows}  null rewards: {analysis.nulls}",
        _distributions(analysis),
        _groups(analysis),
        _correlations(analysis),
        _breakdown(analysis),
    ]
    return "\n\n".join(section for section in sections if section)


def _width(analysis: Analysis) -> int:
    return max([len(name) for name in analysis.moments] + [9])


def _distributions(analysis: Analysis) -> str:
    width = _width(analysis)
    names = [quantile_name(q) for q in QUANTILES]
    lines = [
        f"{'component':<{width}} {'mean':>7} {'std':>7} "
        + " ".join(f"{n:>7}" for n in names)
        + f" {'distinct':>8}  histogram"
    ]
    for name, sketch in analysis.sketches.items():
        m, q = analysis.moments[name], sketch.quantiles()
        distinct = str(sketch.distinct()) if sketch.exact else f">{sketch.distinct() - 1}"
        histogram = sketch.histogram()
        shape = sparkline(histogram["counts"])
        if "values" in histogram:
            shape += "  " + " ".join(
                f"{v:g}×{c}" for v, c in zip(histogram["values"], histogram["counts"], strict=True)
            )
        lines.append(
            f"{name:<{width}} {m['mean']:>7.3f} {m['std']:>7.3f} "
            + " ".join(_number(q.get(n)) for n in names)
            + f" {distinct:>8}  {shape}"
        )
    return "\n".join(lines)


def _groups(analysis: Analysis) -> str:
    if not analysis.group_count:
        return ""
    sizes = analysis.group_sizes
    width = _width(analysis)
    lines = [
        f"groups by {analysis.group_by}: {analysis.group_count} "
        f"(size {sizes['min']:g}-{sizes['max']:g}, mean {sizes['mean']:.1f}); near-zero: std below "
        f"{NEAR_ZERO_FRACTION:g} x the component's range",
        f"{'component':<{width}} {'zero-var':>9} {'near-zero':>9} {'within-group variance':>22}",
    ]
    for name, stats in analysis.groups.items():
        if not stats.groups:
            continue
        within = analysis.within_share(name)
        lines.append(
            f"{name:<{width}} {stats.zero_variance / stats.groups:>9.0%} {stats.near_zero / stats.groups:>9.0%} "
            f"{'-' if within is None else f'{within:.0%}':>22}"
        )
    total = analysis.groups.get(TOTAL)
    if total and total.groups and total.zero_variance / total.groups > 0.5:
        lines.append("WARNING most groups have zero reward variance: they give GRPO no gradient")
    return "\n".join(lines)


def _correlations(analysis: Analysis) -> str:
    names = [n for n in analysis.correlation if analysis.moments[n]["std"] > 0]
    if len(names) < 2:
        return ""
    width = _width(analysis) + 4
    lines = [
        "correlation (Pearson, rows where both are defined; columns numbered as the rows)",
        f"{'':<{width}} " + " ".join(f"{f'[{i}]':>7}" for i in range(1, len(names) + 1)),
    ]
    for i, a in enumerate(names, 1):
        lines.append(f"{f'[{i}] {a}':<{width}} " + " ".join(_number(analysis.correlation[a][b]) for b in names))
    return "\n".join(lines)


def _breakdown(analysis: Analysis) -> str:
    lines = []
    for column, values in analysis.breakdown.items():
        lines.append(f"reward by {column}")
        width = max([len(v) for v in values] + [9])
        lines.append(f"{'':<{width}} {'n':>6} {'mean':>7} {'std':>7} {'min':>7} {'max':>7}")
        for value, st in sorted(values.items(), key=lambda item: -item[1]["mean"]):
            lines.append(
                f"{value:<{width}} {int(st['n']):>6} {st['mean']:>7.3f} {st['std']:>7.3f} "
                f"{st['min']:>7.3f} {st['max']:>7.3f}"
            )
    return "\n".join(lines)
