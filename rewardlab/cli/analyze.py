"""``rewardlab analyze``: what a reward does on a scored file, or what a training run did, step by step."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from rewardlab.cli.framework import Command, UserError, user_errors
from rewardlab.cli.options import build_reward, param_option, weights_option, workers_option
from rewardlab.engine.read import STDIO, Row, iter_jsonl, source_name
from rewardlab.engine.write import atomic_writer


@click.command(cls=Command)
@click.argument("path", metavar="FILE|RUN_DIR")
@click.option("--reward", "-r", "spec", default=None, help="Score FILE with this reward first (as `score` takes it).")
@weights_option
@param_option
@workers_option
@click.option(
    "--group-by", default=None, metavar="COL", help="Group rows by this column (default: prompt_id, else prompt)."
)
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Also write the analysis as JSON."
)
@click.option("--plots", type=click.Path(file_okay=False), default=None, help="Write PNG plots into this directory.")
def analyze(
    path: str,
    spec: str | None,
    weights: str | None,
    params: tuple[str, ...],
    workers: int,
    group_by: str | None,
    json_path: str | None,
    plots: str | None,
) -> None:
    """Show what a reward does on FILE, or what the training run in RUN_DIR did.

    FILE (JSONL, - for stdin) holds scored rows (`rewardlab score` output), or is scored with --reward first. For
    each component (the total is `reward`): mean, std, quantiles, distinct values and a histogram; for prompt
    groups: the share with zero and with near-zero spread (std below 5% of the component's range; TRL divides
    advantages by the group's std, so such groups amplify noise) and the share of variance that lies within groups
    (what GRPO learns from); the correlation of every component with the total and with each other; and the reward
    by every categorical column (text, integer or boolean with at most 20 values). Rows stream through: memory
    does not grow with the file.

    RUN_DIR is a grpo-train output directory (trainer_state.json, samples.jsonl): every logged series over steps,
    and the hack signals it shows (a component rising alone, one completion for many prompts, length at the
    limit, a growing share of zero-variance groups).
    """
    if Path(path).is_dir():
        from rewardlab.analysis.run import analyze_run, plot_run, render_run

        with user_errors():
            report = analyze_run(Path(path))
        click.echo(render_run(report))
        result: dict[str, Any] = report.as_dict()
        if plots:
            with user_errors():
                written = plot_run(report, Path(plots))
            click.echo(f"plots: {', '.join(str(p) for p in written)}", err=True)
    else:
        from rewardlab.analysis.render import render
        from rewardlab.analysis.scored import analyze_rows

        with user_errors(), _rows(path, spec, weights, params, workers) as rows:
            size = Path(path).stat().st_size if path != STDIO and Path(path).is_file() else None
            analysis = analyze_rows(rows, source_name(path), group_by, size)
        if not analysis.rows:
            raise UserError(f"{source_name(path)}: no rows")
        click.echo(render(analysis))
        result = analysis.as_dict()
        if plots:
            from rewardlab.analysis.plots import plot_analysis

            with user_errors():
                written = plot_analysis(analysis, Path(plots))
            click.echo(f"plots: {', '.join(str(p) for p in written)}", err=True)
    if json_path:
        with user_errors(), atomic_writer(json_path) as handle:
            json.dump(result, handle, indent=2)


@contextlib.contextmanager
def _rows(path: str, spec: str | None, weights: str | None, params: tuple[str, ...], workers: int) -> Iterator[Any]:
    """The file's rows as they are, or scored by the reward the options name."""
    if spec is None:
        if weights or params:
            raise UserError("--weights and -p need --reward")
        yield iter_jsonl(path)
        return
    from rewardlab.engine.pipeline import scored_rows
    from rewardlab.engine.summary import SummaryBuilder

    reward = build_reward(spec, weights, params)
    with scored_rows(path, reward, SummaryBuilder(reward), workers) as scored:
        yield (Row(row.line, json.loads(row.text)) for row in scored)
