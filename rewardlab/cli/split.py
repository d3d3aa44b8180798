"""``rewardlab split``: an SFT warm-start part and a GRPO part with the same share of each reward quartile."""

from __future__ import annotations

import contextlib
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click

from rewardlab.cli.framework import Command, UserError, user_errors
from rewardlab.cli.options import build_reward, param_option, reward_option, weights_option, workers_option
from rewardlab.cli.score import scoring
from rewardlab.describe import signature
from rewardlab.engine.read import STDIO, InputError, Row, iter_jsonl, source_name
from rewardlab.engine.score import ScoredRow
from rewardlab.engine.split import stratified_split
from rewardlab.engine.summary import SummaryBuilder
from rewardlab.engine.write import atomic_writer, record_line


@click.command(cls=Command)
@click.argument("input_path", metavar="INPUT")
@reward_option
@weights_option
@param_option
@click.option("--ratio", default=0.5, show_default=True, type=float, help="Share of each quartile in the first file.")
@click.option("--seed", default=42, show_default=True, type=int, help="Seed of the shuffle inside each quartile.")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False), help="Where sft.jsonl and grpo.jsonl go.")
@workers_option
def split(
    input_path: str,
    spec: str,
    weights: str | None,
    params: tuple[str, ...],
    ratio: float,
    seed: int,
    out_dir: str,
    workers: int,
) -> None:
    """Split INPUT into an SFT warm-start part (sft.jsonl) and a GRPO part (grpo.jsonl), stratified by reward quartile.

    Both parts get the same share of low, middling and high-reward rows; the split is deterministic for a seed.
    When INPUT is the output of `rewardlab score` with the same reward, settings and version (every row's
    `reward_signature` matches), its `reward` column is used as it is instead of scoring again. Rows stream
    through in chunks; the quartiles need every row's reward, kept as one float per row.
    """
    if not 0.0 < ratio < 1.0:
        raise UserError(f"--ratio must be between 0 and 1 (exclusive), got {ratio}")
    reward = build_reward(spec, weights, params)
    reuse = _reusable(input_path, signature(reward))
    out = Path(out_dir)
    with user_errors(), tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as scored:
        values: list[float | None] = []
        rows_of = _stored(input_path) if reuse else scoring(input_path, reward, SummaryBuilder(reward), workers)
        with rows_of as rows:
            for row in rows:
                scored.write(row.text + "\n")
                values.append(row.value)
        parts = stratified_split(values, ratio, seed)
        del values
        in_first = bytearray(len(parts.first) + len(parts.second))
        for index in parts.first:
            in_first[index] = 1
        scored.seek(0)
        with atomic_writer(out / "sft.jsonl") as first, atomic_writer(out / "grpo.jsonl") as second:
            for index, line in enumerate(scored):
                (first if in_first[index] else second).write(line)
    click.echo(f"{'stratum':<8} {'sft':>6} {'grpo':>6}")
    for stratum, (first, second) in parts.counts.items():
        click.echo(f"{stratum:<8} {first:>6} {second:>6}")
    click.echo(f"{'total':<8} {len(parts.first):>6} {len(parts.second):>6}")
    click.echo(f"wrote {out / 'sft.jsonl'} and {out / 'grpo.jsonl'} (seed {seed})")


def _reusable(input_path: str, wanted: str) -> bool:
    """Whether every row of INPUT carries ``reward_signature`` equal to ``wanted`` (a first, streaming pass).

    Standard input cannot be read twice, so it is always scored.
    """
    if input_path == STDIO:
        return False
    name = source_name(input_path)
    seen = False
    with user_errors():
        for row in iter_jsonl(input_path):
            found = row.data.get("reward_signature")
            if found != wanted:
                if found is not None:
                    click.echo(f"{name} was scored with other settings or another reward: scoring it again", err=True)
                return False
            seen = True
    if seen:
        click.echo(
            f"{name}: every row was scored with this reward and these settings; reusing its reward column", err=True
        )
    return seen


@contextlib.contextmanager
def _stored(input_path: str) -> Iterator[Iterator[ScoredRow]]:
    """Stream INPUT's rows with the reward they already carry, as :func:`_scored` streams scored rows."""
    yield (_stored_row(row, source_name(input_path)) for row in iter_jsonl(input_path))


def _stored_row(row: Row, source: str) -> ScoredRow:
    value = row.data.get("reward")
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
    ):
        raise InputError(source, row.line, f"expected a finite number or null, got {value!r}", "reward")
    return ScoredRow(row.line, record_line(row.data), value)
