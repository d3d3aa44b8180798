"""The ``rewardlab`` command: score a JSONL file, list and show the rewards, split a file by reward."""

from __future__ import annotations

import contextlib
import json
import math
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from rewardlab import __version__
from rewardlab.clierrors import RewardlabGroup, print_traceback, tracebacks_wanted
from rewardlab.core import Reward, RewardlabError, Score, available, build, describe
from rewardlab.io import STDIO, InputError, Row, atomic_writer, dumps, read_jsonl, source_name
from rewardlab.scoring import score_rows, scored_record, signature, stratified_split, summarize, validate_rows

#: Width of ``rewardlab show``'s parameter table.
HELP_WIDTH = 119

#: Inputs with at least this many rows show a progress bar (when stderr is a terminal).
PROGRESS_MIN_ROWS = 200


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


@main.command()
@click.argument("input_path", metavar="INPUT")
@reward_option
@weights_option
@param_option
@click.option("--output", "-o", default=STDIO, show_default=True, help="Output JSONL (- for stdout).")
@click.option("--summary-json", type=click.Path(dir_okay=False), default=None, help="Also write the summary as JSON.")
def score(
    input_path: str, spec: str, weights: str | None, params: tuple[str, ...], output: str, summary_json: str | None
) -> None:
    """Score every row of INPUT (a JSONL path, or - for stdin) and write it back with `reward` and `components`.

    Each row needs `completion` (a string or chat messages), usually `prompt`, and the columns the reward names
    in `rewardlab list`. Rows also get `reward_signature`, the reward's settings and version, which `rewardlab
    split` checks to reuse the scores. A summary (count, nulls, mean/std/min/max per component, settings) goes to
    stderr. -o, --summary-json: a .gz name is compressed; a symlink, FIFO or device is written into, not replaced.
    """
    reward = build_reward(spec, weights, params)
    rows, scores = _read_and_score(input_path, reward)
    summary = summarize(scores, reward)
    with user_errors(), atomic_writer(output) as handle:
        for row, s in zip(rows, scores):
            handle.write(dumps(scored_record(row, s, summary.signature)) + "\n")
    if summary_json:
        with user_errors(), atomic_writer(summary_json) as handle:
            json.dump(summary.as_dict(), handle, indent=2)
    click.echo(summary.render(), err=True)


def _read_and_score(input_path: str, reward: Reward, rows: list[Row] | None = None) -> tuple[list, list]:
    """Read INPUT (unless its rows are given), check every row has what the reward needs, then score it.

    A progress bar shows on a terminal for large inputs.
    """
    name = source_name(input_path)
    with user_errors():
        rows = read_jsonl(input_path) if rows is None else rows
        validate_rows(rows, reward, name)
        if len(rows) < PROGRESS_MIN_ROWS or not sys.stderr.isatty():
            return rows, score_rows(rows, reward, name)
        with click.progressbar(length=len(rows), label="scoring", file=sys.stderr) as bar:
            return rows, score_rows(rows, reward, name, progress=bar.update)


def _reuse_scores(input_path: str, wanted: str) -> tuple[list[Row], list[Score] | None]:
    """Read INPUT and, when every row carries ``reward_signature`` equal to ``wanted``, its scores (else None)."""
    name = source_name(input_path)
    with user_errors():
        rows = read_jsonl(input_path)
        found = {row.data.get("reward_signature") for row in rows}
        if found != {wanted}:
            if found - {None}:
                click.echo(f"{name} was scored with other settings or another reward: scoring it again", err=True)
            return rows, None
        scores = [_stored_score(row, name) for row in rows]
    click.echo(
        f"{name}: every row was scored with this reward and these settings; reusing its reward column", err=True
    )
    return rows, scores


def _stored_score(row: Row, source: str) -> Score:
    value = row.data.get("reward")
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
    ):
        raise InputError(source, row.line, f"expected a finite number or null, got {value!r}", "reward")
    components = row.data.get("components")
    details = row.data.get("details")
    return Score(
        value, components if isinstance(components, dict) else {}, details if isinstance(details, dict) else {}
    )


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
def split(
    input_path: str, spec: str, weights: str | None, params: tuple[str, ...], ratio: float, seed: int, out_dir: str
) -> None:
    """Split INPUT into an SFT warm-start part (sft.jsonl) and a GRPO part (grpo.jsonl), stratified by reward quartile.

    Both parts get the same share of low, middling and high-reward rows; the split is deterministic for a seed.
    When INPUT is the output of `rewardlab score` with the same reward, settings and version (every row's
    `reward_signature` matches), its `reward` column is used as it is instead of scoring again.
    """
    if not 0.0 < ratio < 1.0:
        raise UserError(f"--ratio must be between 0 and 1 (exclusive), got {ratio}")
    reward = build_reward(spec, weights, params)
    wanted = signature(reward)
    rows, scores = _reuse_scores(input_path, wanted)
    if scores is None:
        rows, scores = _read_and_score(input_path, reward, rows)
    parts = stratified_split([s.value for s in scores], ratio, seed)
    records = [scored_record(row, s, wanted) for row, s in zip(rows, scores)]
    out = Path(out_dir)
    for filename, indices in (("sft.jsonl", parts.first), ("grpo.jsonl", parts.second)):
        with user_errors(), atomic_writer(out / filename) as handle:
            for i in indices:
                handle.write(dumps(records[i]) + "\n")
    click.echo(f"{'stratum':<8} {'sft':>6} {'grpo':>6}")
    for stratum, (first, second) in parts.counts.items():
        click.echo(f"{stratum:<8} {first:>6} {second:>6}")
    click.echo(f"{'total':<8} {len(parts.first):>6} {len(parts.second):>6}")
    click.echo(f"wrote {out / 'sft.jsonl'} and {out / 'grpo.jsonl'} (seed {seed})")
