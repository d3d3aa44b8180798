"""``rewardlab score``: score a JSONL file and write it back with each row's reward, components and details."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from rewardlab.cli.framework import Command, UserError, user_errors
from rewardlab.cli.options import build_reward, param_option, reward_option, weights_option, workers_option
from rewardlab.engine.pipeline import scored_rows
from rewardlab.engine.read import STDIO
from rewardlab.engine.score import ScoredRow
from rewardlab.engine.summary import SummaryBuilder
from rewardlab.engine.workers import fans_out
from rewardlab.engine.write import atomic_writer
from rewardlab.reward import Reward


@click.command(cls=Command)
@click.argument("input_path", metavar="INPUT")
@reward_option
@weights_option
@param_option
@click.option("--output", "-o", default=STDIO, show_default=True, help="Output JSONL (- for stdout).")
@click.option("--summary-json", type=click.Path(dir_okay=False), default=None, help="Also write the summary as JSON.")
@workers_option
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: this machine, streaming; ray: Ray Data on the cluster RAY_ADDRESS names (else a local one).",
)
def score(
    input_path: str,
    spec: str,
    weights: str | None,
    params: tuple[str, ...],
    output: str,
    summary_json: str | None,
    workers: int,
    engine: str,
) -> None:
    """Score every row of INPUT (a JSONL path, or - for stdin) and write it back with `reward` and `components`.

    Each row needs `completion` (a string or chat messages), usually `prompt`, and the columns the reward names
    in `rewardlab list`. Rows stream through in chunks, so memory stays flat however long the file; the output
    keeps the input's order and replaces OUTPUT only once every row is scored. Rows also get `reward_signature`,
    the reward's settings and version, which `rewardlab split` checks to reuse the scores. A summary (count, nulls,
    mean/std/min/max per component, settings) goes to stderr. -o, --summary-json: a .gz name is compressed; a
    symlink, FIFO or device is written into, not replaced. With `--engine ray`, `-o x.parquet` writes Parquet.
    """
    if summary_json is not None and same_target(output, summary_json):
        raise UserError(
            f"-o and --summary-json name the same file ({summary_json}): the summary would replace the rows"
        )
    reward = build_reward(spec, weights, params)
    if engine == "ray":
        from rewardlab.engine.ray_engine import score_file

        with user_errors():
            summary = score_file(input_path, reward, output, concurrency=workers)
    else:
        if output.endswith(".parquet"):
            raise UserError("Parquet output needs --engine ray; the local engine writes JSONL")
        builder = SummaryBuilder(reward)
        with user_errors(), scoring(input_path, reward, builder, workers) as rows, atomic_writer(output) as handle:
            for row in rows:
                handle.write(row.text + "\n")
        summary = builder.summary()
    if summary_json:
        with user_errors(), atomic_writer(summary_json) as handle:
            json.dump(summary.as_dict(), handle, indent=2)
    click.echo(summary.render(), err=True)


@contextlib.contextmanager
def scoring(input_path: str, reward: Reward, builder: SummaryBuilder, workers: int) -> Iterator[Iterator[ScoredRow]]:
    """Stream INPUT's rows scored (:func:`~rewardlab.engine.pipeline.scored_rows`), counting them on a terminal."""
    counter = _RowCounter() if sys.stderr.isatty() else None
    if workers > 1 and not fans_out(reward):
        click.echo(f"note: {reward.name} runs its own parallelism; scoring in one process", err=True)
    with scored_rows(input_path, reward, builder, workers, counter.add if counter else None) as rows:
        yield rows
    if counter is not None:
        counter.done()


def same_target(first: str, second: str) -> bool:
    """Whether two output names write to the same place (the same name, path or file)."""
    if first == second:
        return True
    if STDIO in (first, second):
        return False
    a, b = Path(first).expanduser(), Path(second).expanduser()
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


class _RowCounter:
    """Rows scored so far, rewritten in place on stderr."""

    def __init__(self) -> None:
        self.rows = 0

    def add(self, rows: int) -> None:
        self.rows += rows
        click.echo(f"\rscoring: {self.rows} rows", err=True, nl=False)

    def done(self) -> None:
        click.echo("", err=True)
