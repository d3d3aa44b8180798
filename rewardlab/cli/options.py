"""Options the commands share: which reward (``--reward``, ``--weights``, ``-p``), and ``--workers``.

Each option is written once here and used by ``rewardlab``, ``evalkit`` and ``grpo-train`` alike, so a reward is
named, weighted and parameterised the same way everywhere.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import click

from rewardlab.cli.framework import UserError, user_errors
from rewardlab.params import parse_weights
from rewardlab.registry import build
from rewardlab.reward import Reward


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
        if key.strip() in params:
            raise UserError(f"-p {key.strip()} is given twice")
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params


def build_reward(spec: str, weights: str | None, params: Sequence[str]) -> Reward:
    """Build the reward the options describe, turning configuration mistakes into one-line errors."""
    with user_errors():
        return build(spec, parse_weights(weights), parse_param_options(params))


def finite_number(_ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """Click callback refusing NaN and infinities, which ``type=float`` accepts."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"must be a finite number, got {value}")
    return value


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
workers_option = click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Processes scoring chunks in parallel (rewards with their own pool, like code, stay in one); "
    "with --engine ray, the number of Ray actors.",
)
