"""The ``rewardlab`` group: each subcommand lives in a module of its own in this package."""

from __future__ import annotations

import click

from rewardlab import __version__
from rewardlab.cli.analyze import analyze
from rewardlab.cli.audit import audit
from rewardlab.cli.catalog import list_rewards, show
from rewardlab.cli.framework import Group
from rewardlab.cli.score import score
from rewardlab.cli.split import split


@click.group(cls=Group)
@click.version_option(__version__, prog_name="rewardlab")
def main() -> None:
    """Reward functions for GRPO: score, analyze and audit rewards, list and show them, split data by reward."""


for command in (score, list_rewards, show, split, analyze, audit):
    main.add_command(command)
