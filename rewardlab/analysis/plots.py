"""PNG plots for ``rewardlab analyze --plots DIR``, drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rewardlab.analysis.scored import Analysis
from rewardlab.errors import RewardlabError


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise RewardlabError("--plots needs matplotlib: pip install 'rewardlab[eval]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _grid(count: int) -> tuple[int, int]:
    columns = min(3, max(1, count))
    return math.ceil(count / columns), columns


def _save(figure: Any, path: Path) -> Path:
    """Write the figure whole or not at all: to a temporary name beside ``path``, then renamed over it."""
    temporary = path.with_name(f".{path.name}.tmp")
    figure.savefig(temporary, format="png", dpi=100)
    os.replace(temporary, path)
    return path


def plot_analysis(analysis: Analysis, directory: Path) -> list[Path]:
    """Write ``histograms.png`` (one panel per component) and ``correlation.png``; return the paths."""
    plt = _pyplot()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    names = list(analysis.sketches)
    rows, columns = _grid(len(names))
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3 * rows), squeeze=False)
    for axis, name in zip(axes.flat, names, strict=False):
        histogram = analysis.sketches[name].histogram()
        if "values" in histogram:
            axis.bar([f"{v:g}" for v in histogram["values"]], histogram["counts"])
        else:
            edges = histogram["edges"]
            axis.stairs(histogram["counts"], edges, fill=True)
        axis.set_title(name, fontsize=9)
    for axis in list(axes.flat)[len(names) :]:
        axis.set_visible(False)
    figure.tight_layout()
    written.append(_save(figure, directory / "histograms.png"))
    plt.close(figure)
    varying = [n for n in analysis.correlation if analysis.moments[n]["std"] > 0]
    if len(varying) >= 2:
        matrix = [[analysis.correlation[a][b] for b in varying] for a in varying]
        figure, axis = plt.subplots(figsize=(1.2 * len(varying) + 3, 1.0 * len(varying) + 2))
        image = axis.imshow(
            [[math.nan if v is None else v for v in row] for row in matrix], vmin=-1, vmax=1, cmap="RdBu_r"
        )
        axis.set_xticks(range(len(varying)), varying, rotation=45, ha="right", fontsize=8)
        axis.set_yticks(range(len(varying)), varying, fontsize=8)
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                axis.text(j, i, "-" if value is None else f"{value:.2f}", ha="center", va="center", fontsize=7)
        figure.colorbar(image)
        figure.tight_layout()
        written.append(_save(figure, directory / "correlation.png"))
        plt.close(figure)
    return written


def plot_series(series: Mapping[str, Sequence[tuple[int, float]]], directory: Path, name: str) -> Path:
    """Write one PNG with a panel per series (step on x); return its path."""
    plt = _pyplot()
    directory.mkdir(parents=True, exist_ok=True)
    rows, columns = _grid(len(series))
    figure, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.6 * rows), squeeze=False)
    for axis, (key, points) in zip(axes.flat, series.items(), strict=False):
        axis.plot([s for s, _ in points], [v for _, v in points], marker="." if len(points) < 50 else None)
        axis.set_title(key, fontsize=8)
        axis.set_xlabel("step", fontsize=7)
    for axis in list(axes.flat)[len(series) :]:
        axis.set_visible(False)
    figure.tight_layout()
    path = _save(figure, directory / name)
    plt.close(figure)
    return path
