"""Supervised fine-tuning of a LoRA adapter on prompt-completion pairs with TRL's SFTTrainer: the GRPO warm start.

The workflow this serves: ``rewardlab split`` writes ``sft.jsonl`` (the better-rewarded half of the data) and
``grpo.jsonl``; ``sft-train`` fits an adapter to the first, ``grpo-train --init-adapter`` continues it on the
second. No loop of our own: TRL tokenises each pair in its prompt-completion format and, with
``completion_only_loss``, masks the prompt's tokens out of the loss, so the adapter learns the completions, not
the prompts. Model loading, the LoRA settings, the output directory, resume, Ctrl-C and ``--merge`` are the ones
``grpo-train`` uses (:mod:`grpo_plugin.train`, :mod:`grpo_plugin.runs`).
"""

from __future__ import annotations

from typing import TextIO

from trl import SFTConfig, SFTTrainer

from grpo_plugin import runs
from grpo_plugin.callbacks import RecordRun, StopOnSignal
from grpo_plugin.config import SFTTrainConfig
from grpo_plugin.data import load_pairs, to_dataset
from grpo_plugin.guards import SafeCheckpoints
from grpo_plugin.loading import check_extras, load_policy, lora_config, trl_args
from grpo_plugin.train import TrainError, TrainResult, run_trainer, trainer_args
from rewardlab.errors import ConfigError, first_line


class GuardedSFTTrainer(SafeCheckpoints, SFTTrainer):
    """SFTTrainer that removes a checkpoint it could not write whole (see :mod:`grpo_plugin.guards`)."""


def sft_config(config: SFTTrainConfig) -> SFTConfig:
    """TRL's SFTConfig for these settings: loss on the completion tokens only and no packing unless asked.

    Raises:
        TrainError: TRL rejects the combination.

    """
    try:
        return SFTConfig(**{**trainer_args(config), **trl_args(config, SFTConfig)})
    except ValueError as error:
        raise TrainError(f"invalid training settings: {first_line(error)}") from None


def train_sft(config: SFTTrainConfig, stream: TextIO | None = None) -> TrainResult:
    """Fit a LoRA adapter (or, with ``--no-lora``, the model) to the completions of ``config.data``.

    Raises:
        RewardlabError: A problem the user can fix (data, model path, settings, output directory).
        TrainingStopped: SIGINT or SIGTERM stopped the run; the steps done were saved (see :mod:`grpo_plugin.runs`).

    """
    config.require_inputs()
    if config.merge and not config.lora:
        raise ConfigError("--merge merges a LoRA adapter; with --no-lora the output directory holds the full model")
    check_extras(config)
    dataset = to_dataset(load_pairs(config.data, config.system_prompt))
    args = sft_config(config)
    checkpoint, record = runs.start(config)
    model, tokenizer = load_policy(config, full_precision=not config.lora)
    stop = StopOnSignal(stream)
    try:
        trainer = GuardedSFTTrainer(
            model=model,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=lora_config(config),
            callbacks=[stop, RecordRun(record)],
        )
    except (ImportError, ValueError, RuntimeError) as error:
        raise TrainError(f"cannot set up training: {first_line(error)}") from None
    return run_trainer(trainer, config, record, checkpoint, tokenizer, stop)
