"""The ``rewardlab`` command: score a JSONL file, list and show the rewards, split a file by reward."""

from __future__ import annotations

import contextlib
import json
import math
import sys
import tempfile
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from rewardlab import __version__
from rewardlab.clierrors import RewardlabGroup, print_traceback, tracebacks_wanted
from rewardlab.core import Reward, RewardlabError, available, build, describe
from rewardlab.io import STDIO, InputError, Row, atomic_writer, iter_jsonl, source_name
from rewardlab.scoring import SummaryBuilder, signature, stratified_split
from rewardlab.stream import ScoredRow, record_line, score_stream
from rewardlab.workers import WorkerPool, fans_out, local_runner

#: Width of ``rewardlab show``'s parameter table.
HELP_WIDTH = 119


class UserError(click.ClickException):
    """A mistake in the user's input or options: one line on stderr, exit status 2, no traceback."""

    exit_code = 2


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the project's user-facing errors into :class:`UserError` (after the traceback, when it is wanted)."""
    try:
        yield
    except RewardlabError as error:
        if tracebacks_wanted():
            print_traceback(error)
        raise UserError(str(error)) from None


def parse_weights(text: str | None) -> list[float] | None:
    """Parse ``--weights 1,0.5``."""
    if text is None:
        return None
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise UserError(f"--weights must be comma-separated numbers, got '{text}'") from None


def parse_param_options(items: Sequence[str]) -> dict[str, Any]:
    """Parse ``-p KEY=VALUE`` options; values are read as JSON when they parse (3, 0.5, true, [1,2]), else text.

    Example:
        >>> parse_param_options(["timeout=3", "model=/models/minilm", "weights.relevance=0.5"])
        {'timeout': 3, 'model': '/models/minilm', 'weights.relevance': 0.5}

    """
    params: dict[str, Any] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UserError(f"-p expects KEY=VALUE, got '{item}'")
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params


def build_reward(spec: str, weights: str | None, params: Sequence[str]) -> Reward:
    """Build the reward the options describe, turning configuration mistakes into one-line errors."""
    with user_errors():
        return build(spec, parse_weights(weights), parse_param_options(params))


reward_option = click.option(
    "--reward",
    "-r",
    "spec",
    required=True,
    help="Reward name(s), comma-separated, or module:function / file.py:function.",
)
weights_option = click.option("--weights", "-w", default=None, help="One weight per reward, comma-separated.")
param_option = click.option(
    "--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Reward parameter (name.KEY for one reward)."
)


@click.group(cls=RewardlabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rewardlab")
def main() -> None:
    """Reward functions for GRPO: score JSONL files, list and show the rewards, split data by reward."""


workers_option = click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Processes scoring chunks in parallel (rewards with their own pool, like code, stay in one); "
    "with --engine ray, the number of Ray actors.",
)


@main.command()
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
    reward = build_reward(spec, weights, params)
    if engine == "ray":
        from rewardlab.ray_engine import score_file

        with user_errors():
            summary = score_file(input_path, reward, output, concurrency=workers)
    else:
        if output.endswith(".parquet"):
            raise UserError("Parquet output needs --engine ray; the local engine writes JSONL")
        builder = SummaryBuilder(reward)
        with user_errors(), _scored(input_path, reward, builder, workers) as rows, atomic_writer(output) as handle:
            for row in rows:
                handle.write(row.text + "\n")
        summary = builder.summary()
    if summary_json:
        with user_errors(), atomic_writer(summary_json) as handle:
            json.dump(summary.as_dict(), handle, indent=2)
    click.echo(summary.render(), err=True)


@contextlib.contextmanager
def _scored(input_path: str, reward: Reward, builder: SummaryBuilder, workers: int) -> Iterator[Iterator[ScoredRow]]:
    """Stream INPUT's rows scored, in input order, over ``workers`` processes where the reward allows it.

    On a terminal, stderr counts the rows scored.
    """
    name = source_name(input_path)
    counter = _RowCounter() if sys.stderr.isatty() else None
    progress = counter.add if counter is not None else None
    if workers > 1 and not fans_out(reward):
        click.echo(f"note: {reward.name} runs its own parallelism; scoring in one process", err=True)
    if workers == 1 or not fans_out(reward):
        yield score_stream(input_path, reward, builder, local_runner(reward, name), progress)
    else:
        with WorkerPool(reward, name, workers) as pool:
            yield score_stream(input_path, reward, builder, pool.run, progress)
    if counter is not None:
        counter.done()


class _RowCounter:
    """Rows scored so far, rewritten in place on stderr."""

    def __init__(self) -> None:
        self.rows = 0

    def add(self, rows: int) -> None:
        self.rows += rows
        click.echo(f"\rscoring: {self.rows} rows", err=True, nl=False)

    def done(self) -> None:
        click.echo("", err=True)


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


@main.command(name="list")
def list_rewards() -> None:
    """List every registered reward: name, what it does, the columns it needs (details: rewardlab show NAME)."""
    rewards = available()
    width = max(len(name) for name in rewards)
    for name, cls in rewards.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        line = doc[0] if doc else ""
        needs = ", ".join(c if isinstance(c, str) else " or ".join(c) for c in cls.columns) or "-"
        click.echo(f"{name:<{width}}  {line}  [needs: {needs}]")
    click.echo("\nrewardlab show NAME prints a reward's parameters, their defaults and an example.")


@main.command()
@click.argument("name")
def show(name: str) -> None:
    """Show what reward NAME does, the columns it needs, every parameter with its type and default, and an example."""
    with user_errors():
        info = describe(name)
    click.echo(f"{info.name}: {info.summary}")
    if info.description:
        click.echo("\n" + info.description)
    needs = ", ".join(info.columns) if info.columns else "nothing beyond completion"
    click.echo(f"\ncolumns: completion, usually prompt; needs: {needs}")
    if info.parameters:
        click.echo(f"\nparameters (-p NAME=VALUE, or -p {info.name}.NAME=VALUE beside other rewards):")
        width = max(len(p.name) for p in info.parameters)
        kinds = max(len(p.type) for p in info.parameters)
        defaults = max(len(p.default) for p in info.parameters)
        indent = " " * (width + kinds + defaults + 8)
        for p in info.parameters:
            head = f"  {p.name:<{width}}  {p.type:<{kinds}}  {p.default:<{defaults}}  "
            lines = textwrap.wrap(p.help, HELP_WIDTH, initial_indent=head, subsequent_indent=indent) or [head]
            click.echo("\n".join(lines).rstrip())
    else:
        click.echo("\nparameters: none")
    if info.example:
        click.echo("\nexample (Python):\n" + "\n".join(("  " + line).rstrip() for line in info.example.splitlines()))
    required = "".join(f" -p {p.name}=…" for p in info.parameters if p.default == "required")
    columns = ", ".join(["completion", *info.columns])
    click.echo(f"\nexample (command line; each row of data.jsonl holds {columns}):")
    click.echo(f"  rewardlab score data.jsonl --reward {info.name}{required} -o scored.jsonl")


@main.command()
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
        rows_of = _stored(input_path) if reuse else _scored(input_path, reward, SummaryBuilder(reward), workers)
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
