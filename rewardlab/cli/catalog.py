"""``rewardlab list`` and ``rewardlab show``: what rewards there are, what each needs and takes."""

from __future__ import annotations

import textwrap

import click

from rewardlab.cli.framework import Command, user_errors
from rewardlab.describe import describe
from rewardlab.registry import available, broken

#: Width of ``rewardlab show``'s parameter table.
HELP_WIDTH = 119


@click.command(name="list", cls=Command)
def list_rewards() -> None:
    """List every registered reward: name, what it does, the columns it needs (details: rewardlab show NAME)."""
    rewards = available()
    width = max(len(name) for name in rewards)
    for name, cls in rewards.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        line = doc[0] if doc else ""
        needs = ", ".join(c if isinstance(c, str) else " or ".join(c) for c in cls.columns) or "-"
        click.echo(f"{name:<{width}}  {line}  [needs: {needs}]")
    for reason in broken().values():
        click.echo(f"warning: {reason}", err=True)
    click.echo("\nrewardlab show NAME prints a reward's parameters, their defaults and an example.")


@click.command(cls=Command)
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
