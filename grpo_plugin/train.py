"""Build TRL's GRPOTrainer from a :class:`~grpo_plugin.config.TrainConfig`, train, save; and ``--preflight``.

No RL loop of our own: TRL samples, scores, computes advantages and updates. This module loads the model and
tokenizer (``AutoModelForCausalLM.from_pretrained``, the same code for the tiny test model and ``Qwen/Qwen3-8B``),
wraps it in a new peft LoRA adapter (or continues the adapter ``--init-adapter`` names) unless ``lora`` is off,
hands over the rewards and the callbacks, and writes the adapter, the tokenizer, ``trainer_state.json`` and the
resolved settings to the output directory (the rules for that directory are :mod:`grpo_plugin.runs`'). It runs
unchanged under ``accelerate launch``: TRL and accelerate read the distributed set-up from the environment.
"""

from __future__ import annotations

import dataclasses
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import torch
from accelerate.utils import gather_object
from trl import GRPOConfig, GRPOTrainer

from grpo_plugin import lock, runs
from grpo_plugin.callbacks import (
    ZERO_VARIANCE_SHARE,
    RecordRun,
    Spread,
    StopOnSignal,
    ZeroVarianceGuard,
    format_spreads,
    near_zero_message,
    spread,
    zero_variance_message,
)
from grpo_plugin.config import RunConfig, TrainConfig, write_resolved
from grpo_plugin.curriculum import INDEX_COLUMN, LearnabilitySampler, LearnabilityTracker
from grpo_plugin.data import Prompts, check_columns, check_difficulty, load_prompts, to_training_dataset
from grpo_plugin.guards import SafeCheckpoints, UnscoredRewards
from grpo_plugin.loading import check_extras, load_policy, lora_config, on_gpu, trl_args
from grpo_plugin.monitor import Monitor
from grpo_plugin.rewards import RewardSet, build_rewards, polychromic_rewards
from rewardlab.errors import ConfigError, RewardlabError, first_line


class TrainError(RewardlabError):
    """A run that cannot start as configured (model not found, settings TRL rejects, too few prompts)."""


@dataclass
class TrainResult:
    """What a finished run produced."""

    output_dir: Path
    log_history: list[dict[str, Any]]
    merged_dir: Path | None = None
    main_process: bool = True
    adapter: bool = True

    def trend(self, key: str, steps: int = 5) -> tuple[float, float] | None:
        """Mean logged ``key`` (``reward``, ``loss``) of the first and the last ``steps`` logging steps.

        None before two logged steps.
        """
        values = [h[key] for h in self.log_history if h.get(key) is not None]
        if len(values) < 2:
            return None
        k = max(1, min(steps, len(values) // 2))
        return sum(values[:k]) / k, sum(values[-k:]) / k


def cpu_only() -> bool:
    """Whether no accelerator is present.

    Training then tells accelerate so (``use_cpu``), which makes a multi-process launch (``accelerate launch
    --multi_gpu --num_processes N`` or ``torchrun``) run N CPU processes over gloo.
    """
    mps = getattr(torch.backends, "mps", None)
    xpu = getattr(torch, "xpu", None)
    return not (
        torch.cuda.is_available()
        or (mps is not None and mps.is_available())
        or (xpu is not None and xpu.is_available())
    )


def grpo_config(config: TrainConfig, rewards: RewardSet) -> GRPOConfig:
    """TRL's GRPOConfig for these settings: ours, then every TRL field given (``--loss-type``, ``--vllm-mode``, ...).

    Raises:
        TrainError: TRL rejects the combination (say a batch not divisible by ``num_generations``).

    """
    try:
        return GRPOConfig(
            **{
                **trainer_args(config),
                "num_generations": config.num_generations,
                "beta": config.beta,
                "temperature": config.temperature,
                "max_completion_length": config.max_completion_length,
                "use_vllm": config.use_vllm,
                "reward_weights": rewards.weights,
                **trl_args(config, GRPOConfig),
            }
        )
    except ValueError as error:
        raise TrainError(f"invalid training settings: {first_line(error)}") from None


def trainer_args(config: RunConfig) -> dict[str, Any]:
    """The ``TrainingArguments`` every command sets the same way: the run's settings and the device's precision.

    The device-dependent ones (bf16, fp16, pinned memory, use_cpu) are defaults a TRL value given replaces.
    """
    return {
        "output_dir": config.output_dir,
        "per_device_train_batch_size": config.per_device_train_batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "learning_rate": config.learning_rate,
        "max_steps": config.max_steps,
        "num_train_epochs": config.epochs,
        "seed": config.seed,
        "report_to": "none" if config.report_to == ["none"] else config.report_to,
        "logging_steps": config.logging_steps,
        "save_steps": config.save_steps,
        "bf16": on_gpu() and torch.cuda.is_bf16_supported(),
        "fp16": False,
        "dataloader_pin_memory": on_gpu(),
        "use_cpu": cpu_only(),
    }


def prepare(config: TrainConfig) -> tuple[Prompts, RewardSet]:
    """Read the prompts and build the rewards, and check every row has the columns the rewards need.

    Everything a user can get wrong in the data or the reward spec fails here, before a model is loaded.
    """
    config.require_inputs()
    check_extras(config)
    prompts = load_prompts(config.data, config.system_prompt)
    rewards = build_rewards(config.reward, config.weights, config.params)
    if config.objective == "polychromic":
        rewards = polychromic_rewards(rewards, config.set_size, config.diversity, config.seed)
    check_columns(prompts, rewards.funcs)
    return prompts, rewards


class GuardedGRPOTrainer(UnscoredRewards, SafeCheckpoints, GRPOTrainer):
    """GRPOTrainer with the guards of :mod:`grpo_plugin.guards`: rewards that score nothing, partial checkpoints."""


class CurriculumGRPOTrainer(GuardedGRPOTrainer):
    """GRPOTrainer that draws prompts by learnability (see :mod:`grpo_plugin.curriculum`).

    Two hooks: the train sampler, and recording each prompt's rewards right after TRL computed and gathered them
    (there every process holds the whole generation batch, so every process's sampler sees the same rewards).
    """

    def __init__(self, *args: Any, tracker: LearnabilityTracker, difficulty: Sequence[float] | None, **kwargs: Any):
        self.tracker = tracker
        self.difficulty = difficulty
        super().__init__(*args, **kwargs)

    def _get_train_sampler(self, dataset: Any = None) -> LearnabilitySampler:
        return LearnabilitySampler(
            self.tracker,
            mini_repeat_count=self.num_generations,
            batch_size=self.args.generation_batch_size // self.num_generations,
            repeat_count=self.num_iterations * self.args.steps_per_generation,
            seed=self.args.seed,
            difficulty=self.difficulty,
        )

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):  # noqa: D102
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        if self.model.training:
            indices = gather_object([row[INDEX_COLUMN] for row in inputs])
            weights = self.reward_weights.to(rewards_per_func.device).unsqueeze(0)
            totals = (rewards_per_func * weights).nansum(dim=1)
            unscored = torch.isnan(rewards_per_func).all(dim=1)
            self.tracker.update(
                indices, [None if u else t for t, u in zip(totals.tolist(), unscored.tolist(), strict=True)]
            )
        return rewards_per_func


def train(config: TrainConfig, stream: TextIO | None = None) -> TrainResult:
    """Run GRPO as configured and save what the run produced into ``config.output_dir``.

    Raises:
        RewardlabError: A problem the user can fix (data, reward spec, model path, settings, output directory).
        TrainingStopped: SIGINT or SIGTERM stopped the run; the steps done were saved (see :mod:`grpo_plugin.runs`).

    """
    prompts, rewards = prepare(config)
    if config.merge and not config.lora:
        raise ConfigError("--merge merges a LoRA adapter; with --no-lora the output directory holds the full model")
    args = grpo_config(config, rewards)
    unique_per_batch = args.generation_batch_size // args.num_generations
    if len(prompts) < unique_per_batch:
        raise TrainError(
            f"{config.data} has {len(prompts)} prompts but each generation batch needs {unique_per_batch} distinct "
            "ones (per-device batch × processes × steps per generation ÷ num_generations); add prompts or lower "
            "--per-device-train-batch-size"
        )
    difficulty = check_difficulty(prompts) if config.curriculum == "learnability" else None
    if config.init_adapter:
        runs.check_init_adapter(config)
    checkpoint, record = runs.start(config)
    kwargs: dict[str, Any] = {}
    trainer_class: type[GRPOTrainer] = GuardedGRPOTrainer
    extra = None
    if config.curriculum == "learnability":
        trainer_class = CurriculumGRPOTrainer
        kwargs = {
            "tracker": LearnabilityTracker(len(prompts), threshold=config.curriculum_threshold),
            "difficulty": difficulty,
        }
        extra = {INDEX_COLUMN: list(range(len(prompts)))}
    dataset, json_columns = to_training_dataset(prompts, extra)
    model, tokenizer = load_policy(config, full_precision=not config.lora)
    if config.init_adapter:
        model = load_adapter(model, config.init_adapter)
    stop = StopOnSignal(stream)
    monitor = Monitor(rewards, config.output_dir, stream=stream, seed=config.seed)
    guard = ZeroVarianceGuard(threshold=ZERO_VARIANCE_SHARE, stream=stream)
    try:
        trainer = trainer_class(
            model=model,
            reward_funcs=monitor.wrap(),
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=None if config.init_adapter else lora_config(config),
            callbacks=[guard, stop, RecordRun(record), monitor],
            **kwargs,
        )
    except (ImportError, ValueError, RuntimeError) as error:
        # What peft, TRL or a logging integration refuse here is a setting: LoRA target modules the model does not
        # have, a --report-to integration that is not installed, sizes TRL rejects.
        raise TrainError(f"cannot set up training: {first_line(error)}") from None
    trainer.json_columns = json_columns
    return run_trainer(trainer, config, record, checkpoint, tokenizer, stop)


def run_trainer(
    trainer: Any, config: RunConfig, record: dict[str, Any], checkpoint: str | None, tokenizer: Any, stop: Any
) -> TrainResult:
    """Record the run, train (from ``checkpoint`` when resuming) until done or stopped, then save: both commands."""
    # Every process has checked the output directory (runs.start) before the first one writes into it.
    trainer.accelerator.wait_for_everyone()
    if trainer.args.process_index == 0:
        write_resolved(config, config.output_dir, versions(config.command) + "\n" + started_from(config))
        runs.write_record(record, config.output_dir)
    try:
        with stop:
            trainer.train(resume_from_checkpoint=checkpoint)
        merged_dir = runs.finish(trainer, config, tokenizer, stop)
    finally:
        lock.release(config.output_dir)
    return TrainResult(
        Path(config.output_dir), trainer.state.log_history, merged_dir, trainer.is_world_process_zero(), config.lora
    )


def load_adapter(model: Any, path: str) -> Any:
    """Wrap ``model`` in the LoRA adapter saved at ``path``, its weights trainable (the SFT warm start)."""
    from peft import PeftModel

    try:
        return PeftModel.from_pretrained(model, path, is_trainable=True)
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        raise TrainError(f"--init-adapter: cannot load the adapter {path}: {first_line(error)}") from None


def started_from(config: RunConfig) -> str:
    """One line for the resolved settings: the weights training started from."""
    if getattr(config, "init_adapter", None):
        return f"training started from the LoRA adapter {config.init_adapter} on base model {config.model}"
    adapter = "a new LoRA adapter" if config.lora else "full fine-tuning"
    return f"training started from model {config.model} with {adapter}"


def versions(command: str) -> str:
    """The header of the resolved settings: which command and library versions resolved them."""
    import peft
    import transformers
    import trl

    import rewardlab

    return (
        f"resolved by {command} (rewardlab {rewardlab.__version__}, trl {trl.__version__}, "
        f"transformers {transformers.__version__}, peft {peft.__version__}, torch {torch.__version__})\n"
        f"repeat the run with: {command} --config <this file>"
    )


def generate_groups(
    model: Any, tokenizer: Any, prompts: Sequence[Any], config: TrainConfig
) -> tuple[list[Any], list[list[int]]]:
    """Sample ``num_generations`` completions per prompt with the run's sampling settings, as TRL would.

    Returns completions in TRL's form (strings for string prompts, one assistant message for chat prompts) laid
    out prompt by prompt, and their token ids.
    """
    device = "cuda" if on_gpu() else "cpu"
    model.to(device).eval()
    texts = [
        tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) if isinstance(p, list) else p
        for p in prompts
    ]
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
    torch.manual_seed(config.seed)
    with torch.no_grad():
        output = model.generate(
            **batch,
            do_sample=True,
            temperature=config.temperature,
            **sampling_settings(config),
            max_new_tokens=config.max_completion_length,
            num_return_sequences=config.num_generations,
            pad_token_id=tokenizer.pad_token_id,
        )
    ids = []
    eos = {tokenizer.eos_token_id, *_as_list(model.generation_config.eos_token_id)}
    for row in output[:, batch["input_ids"].shape[1] :].tolist():
        end = next((i + 1 for i, token in enumerate(row) if token in eos), len(row))
        ids.append(row[:end])
    decoded = tokenizer.batch_decode(ids, skip_special_tokens=True)
    chat = isinstance(prompts[0], list)
    return [[{"role": "assistant", "content": text}] if chat else text for text in decoded], ids


def sampling_settings(config: TrainConfig) -> dict[str, Any]:
    """TRL's sampling settings of the run (``--top-p``, ``--top-k``, ``--min-p``, ``--repetition-penalty``)."""
    defaults = {item.name: item.default for item in dataclasses.fields(GRPOConfig)}
    given = trl_args(config, GRPOConfig)
    return {name: given.get(name, defaults[name]) for name in ("top_p", "top_k", "min_p", "repetition_penalty")}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def preflight(config: TrainConfig, num_prompts: int = 4, stream: TextIO | None = None) -> list[Spread]:
    """Sample a few prompts × ``num_generations`` completions before training and print how the rewards spread.

    Prints, per reward (and their weighted total when there are several), mean, std, min, max and the share of
    prompt groups whose completions all got the same reward — groups that would give GRPO no gradient — and the
    zero-variance warning when most groups are such. Trains nothing.
    """
    stream = stream or sys.stdout
    prompts, rewards = prepare(config)
    rows = random.Random(config.seed).sample(prompts.rows, min(num_prompts, len(prompts)))
    model, tokenizer = load_policy(config)
    completions, ids = generate_groups(model, tokenizer, [row["prompt"] for row in rows], config)
    g = config.num_generations
    repeated = [row for row in rows for _ in range(g)]
    keys = {key for row in rows for key in row if key not in ("prompt", "completion", "completion_ids")}
    columns = {key: [row.get(key) for row in repeated] for key in keys}
    batch_prompts = [row["prompt"] for row in repeated]
    per_reward = [
        func(prompts=batch_prompts, completions=completions, completion_ids=ids, **columns) for func in rewards.funcs
    ]
    spreads = [spread(name, values, g) for name, values in zip(rewards.names, per_reward, strict=True)]
    if len(rewards.funcs) > 1:
        spreads.append(spread("total", rewards.total(per_reward), g))
    print(
        f"preflight: {len(rows)} prompts × {g} completions (temperature {config.temperature}, "
        f"up to {config.max_completion_length} tokens) from {config.model}",
        file=stream,
    )
    print(format_spreads(spreads), file=stream)
    overall = spreads[-1]
    if overall.zero_variance_share > ZERO_VARIANCE_SHARE or math.isnan(overall.mean):
        print(f"WARNING {zero_variance_message(overall.zero_variance_share, 1, overall.std)}", file=stream)
    elif overall.near_zero_share > ZERO_VARIANCE_SHARE:
        print(f"WARNING {near_zero_message(overall)}", file=stream)
    return spreads
