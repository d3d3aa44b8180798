"""The ``rewardlab`` group: each subcommand lives in a module of its own in this package."""

from __future__ import annotations

import click

from rewardlab import __version__
from rewardlab.cli.audit import audit
from rewardlab.cli.catalog import list_rewards, show
from rewardlab.cli.framework import Group
from rewardlab.cli.score import score
from rewardlab.cli.split import split


@click.group(cls=Group)
@click.version_option(__version__, prog_name="rewardlab")
def main() -> None:
    """Reward functions for GRPO: score JSONL files, list and show the rewards, split data, audit a reward."""


for command in (score, list_rewards, show, split, audit):
    main.add_command(command)
