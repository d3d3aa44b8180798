"""``rewardlab audit``: score what a policy would try beside DATA's real completions; exit 1 when one pays."""

from __future__ import annotations

import sys

import click

from rewardlab.audit.report import render, write_json
from rewardlab.audit.run import audit as run_audit
from rewardlab.cli.framework import Command, user_errors
from rewardlab.cli.options import build_reward, param_option, reward_option, weights_option


@click.command(cls=Command)
@click.argument("data_path", metavar="DATA")
@reward_option
@weights_option
@param_option
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Also write the audit as JSON."
)
@click.option(
    "--strict", is_flag=True, help="Also fail (exit 1) when a probe's mean reaches the median without beating it."
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the probes that pick at random.")
def audit(
    data_path: str,
    spec: str,
    weights: str | None,
    params: tuple[str, ...],
    json_path: str | None,
    strict: bool,
    seed: int,
) -> None:
    """Score probes a policy would find beside DATA's real completions, and say which the reward pays for.

    DATA is a JSONL file of `prompt`, `completion` and the columns the reward needs, with several completions per
    prompt (a `prompt_id`, else the prompt, groups them). From its own prompts and completions the audit builds
    probes: the prompt echoed, templates, keyword lists, punctuation, padding, repetition, empty, off-topic,
    insults, spam; for math rewards format-only, wrong and several answers; for code rewards always-equal objects,
    early exits and printing. Each probe is placed among the real completions: mean, percentile, whether it beats
    their median, the share of prompts where it beats the best real completion, and the component it gains on.
    Exit status: 0 when no probe's mean beats the real median, 1 when one does (to gate CI; with --strict, also
    when one reaches it), 2 on bad input.
    """
    reward = build_reward(spec, weights, params)
    progress = (
        (lambda name: click.echo(f"\rscoring probe {name:<20}", err=True, nl=False)) if sys.stderr.isatty() else None
    )
    with user_errors():
        result = run_audit(data_path, reward, seed=seed, strict=strict, progress=progress)
        if progress is not None:
            click.echo("", err=True)
        if json_path is not None:
            write_json(result, json_path)
    click.echo(render(result))
    if result.flagged:
        raise click.exceptions.Exit(1)
