"""``sft-train``: supervised fine-tuning of a LoRA adapter on prompt-completion pairs, on TRL's SFTTrainer.

The warm start of the GRPO workflow: ``rewardlab split`` → ``sft-train --data sft.jsonl`` →
``grpo-train --init-adapter``. The options, the ``--config`` file, the output-directory rules, resume and Ctrl-C are
``grpo-train``'s (:func:`grpo_plugin.cli.run_options`, :func:`~grpo_plugin.cli.run_command`).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from grpo_plugin.cli import run_command, run_options, summarise, trl_command
from grpo_plugin.config import SFTTrainConfig

DEFAULTS = SFTTrainConfig()

EPILOG = """\b
Examples:
  sft-train --model Qwen/Qwen3-0.6B --data runs/split/sft.jsonl --output-dir runs/sft --max-steps 200
  grpo-train --model Qwen/Qwen3-0.6B --init-adapter runs/sft --data runs/split/grpo.jsonl --reward engagement
"""


@click.command(cls=trl_command(SFTTrainConfig), epilog=EPILOG)
@run_options(
    DEFAULTS,
    data_help="JSONL with `prompt` and `completion` (each a string or chat messages), such as the sft.jsonl of "
    "`rewardlab split`; other columns are ignored.",
)
@click.pass_context
def main(ctx: click.Context, config_file: str | None, **options: Any) -> None:
    """Fine-tune a LoRA adapter on prompt-completion pairs, loss on the completions only (TRL SFTTrainer + peft)."""

    def train(config: SFTTrainConfig) -> Any:
        from grpo_plugin.sft import train_sft

        return train_sft(config)

    summarise(run_command(ctx, SFTTrainConfig, config_file, options, train), "loss", DEFAULTS.resolved_name)


if __name__ == "__main__":
    sys.exit(main())
