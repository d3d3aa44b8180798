"""``grpo-train``: GRPO with a LoRA adapter on a causal LM, rewards from rewardlab, on TRL's GRPOTrainer.

The command parses options and calls :func:`grpo_plugin.train.train` (or :func:`~grpo_plugin.train.preflight`);
torch, transformers and trl are imported only once the options are valid.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import click
from click.core import ParameterSource

from grpo_plugin.config import CURRICULA, OBJECTIVES, TrainConfig, load_yaml, resolve
from rewardlab.cli import param_option, parse_param_options, parse_weights, user_errors, weights_option
from rewardlab.polychromic import DIVERSITIES

DEFAULTS = TrainConfig()


def _default(name: str) -> Any:
    value = getattr(DEFAULTS, name)
    return ",".join(value) if isinstance(value, list) else value


EPILOG = """\b
Examples:
  grpo-train --reward engagement --model Qwen/Qwen3-0.6B --data prompts.jsonl
  grpo-train --reward math,overlong --weights 1,0.5 -p overlong.max_length=1024 --data math.jsonl
  grpo-train --reward my_rewards.py:brevity --data prompts.jsonl --preflight
  grpo-train --reward engagement --objective polychromic --set-size 4 --data prompts.jsonl
  accelerate launch --config_file examples/accelerate/ddp.yaml -m grpo_plugin.cli --config run.yaml
"""


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="YAML file with the same keys as these options (dashes or underscores); the command line wins.",
)
@click.option("--model", default=_default("model"), show_default=True, help="Hub id or local path of a causal LM.")
@click.option(
    "--data",
    help="Prompts: JSONL or a saved Hugging Face dataset directory; `prompt` is a string or chat messages, "
    "other columns reach the rewards.",
)
@click.option(
    "--reward", "-r", help="Reward spec: registry names, module:function or file.py:function, comma-separated."
)
@weights_option
@param_option
@click.option(
    "--output-dir",
    default=_default("output_dir"),
    show_default=True,
    help="Where the adapter, tokenizer, trainer_state.json and grpo-train.yaml go.",
)
@click.option(
    "--system-prompt", help="System message put in front of every prompt (string prompts become chat messages)."
)
@click.option(
    "--num-generations",
    type=int,
    default=_default("num_generations"),
    show_default=True,
    help="Completions sampled per prompt (the group).",
)
@click.option(
    "--per-device-train-batch-size",
    type=int,
    default=_default("per_device_train_batch_size"),
    show_default=True,
    help="Completions per device per step.",
)
@click.option(
    "--gradient-accumulation-steps", type=int, default=_default("gradient_accumulation_steps"), show_default=True
)
@click.option("--learning-rate", type=float, default=_default("learning_rate"), show_default=True)
@click.option(
    "--beta",
    type=float,
    default=_default("beta"),
    show_default=True,
    help="KL coefficient against the starting model (0 loads no reference model).",
)
@click.option(
    "--temperature",
    type=float,
    default=_default("temperature"),
    show_default=True,
    help="Sampling temperature of the completions.",
)
@click.option(
    "--max-completion-length",
    type=int,
    default=_default("max_completion_length"),
    show_default=True,
    help="Tokens per completion at most.",
)
@click.option(
    "--max-steps",
    type=int,
    default=_default("max_steps"),
    show_default=True,
    help="Optimizer steps; -1 trains for --epochs.",
)
@click.option("--epochs", type=float, default=_default("epochs"), show_default=True)
@click.option("--seed", type=int, default=_default("seed"), show_default=True)
@click.option(
    "--lora/--no-lora", default=_default("lora"), show_default=True, help="Train a LoRA adapter, or the full model."
)
@click.option("--lora-r", type=int, default=_default("lora_r"), show_default=True)
@click.option("--lora-alpha", type=int, default=_default("lora_alpha"), show_default=True)
@click.option(
    "--lora-target-modules",
    default=_default("lora_target_modules"),
    show_default=True,
    help="Module names, comma-separated, or all-linear.",
)
@click.option(
    "--report-to",
    default=_default("report_to"),
    show_default=True,
    help="tensorboard, wandb or none (comma-separated for several).",
)
@click.option(
    "--logging-steps",
    type=int,
    default=_default("logging_steps"),
    show_default=True,
    help="Log metrics every N steps.",
)
@click.option(
    "--save-steps",
    type=int,
    default=_default("save_steps"),
    show_default=True,
    help="Write a checkpoint every N steps.",
)
@click.option(
    "--resume-from-checkpoint",
    metavar="DIR|last",
    help="Continue from a checkpoint directory, or `last` for the newest in --output-dir.",
)
@click.option(
    "--use-vllm", is_flag=True, default=_default("use_vllm"), help="Generate with vLLM (needs vllm and a GPU)."
)
@click.option(
    "--merge",
    is_flag=True,
    default=_default("merge"),
    help="Also write the adapter merged into the model to OUTPUT_DIR/merged.",
)
@click.option(
    "--curriculum",
    type=click.Choice(CURRICULA),
    default=_default("curriculum"),
    show_default=True,
    help="learnability: sample prompts by p(1-p) of their success rate; a `difficulty` column orders the start.",
)
@click.option(
    "--curriculum-threshold",
    type=float,
    help="Reward at or above which a completion counts as a success (default: rewards normalised to [0, 1]).",
)
@click.option(
    "--objective",
    type=click.Choice(OBJECTIVES),
    default=_default("objective"),
    show_default=True,
    help="polychromic: score each completion by the sets of its group holding it, mean reward × diversity "
    "(Hamid et al., ICLR 2026), against mode collapse.",
)
@click.option(
    "--set-size",
    type=int,
    default=_default("set_size"),
    show_default=True,
    help="Completions per set of the polychromic objective.",
)
@click.option(
    "--diversity",
    type=click.Choice(DIVERSITIES),
    default=_default("diversity"),
    show_default=True,
    help="Diversity of a set: lexical (1 - Self-BLEU) or embedding (mean pairwise cosine distance).",
)
@click.option(
    "--preflight",
    is_flag=True,
    help="Sample a few prompts × num-generations, print the reward spread and the share of zero-variance "
    "groups, and exit without training.",
)
@click.pass_context
def main(ctx: click.Context, config_file: str | None, preflight: bool, **options: Any) -> None:
    """Fine-tune a causal LM with GRPO on rewardlab rewards (TRL GRPOTrainer + peft LoRA)."""
    # transformers 5 renamed gradient checkpointing, which TRL still sets; the notice says nothing to a user.
    warnings.filterwarnings("ignore", message=r".*gradient_checkpointing.*deprecated", category=FutureWarning)
    typed = {
        name: value
        for name, value in options.items()
        if ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    }
    if "params" in typed:
        typed["params"] = parse_param_options(typed["params"])
    if "weights" in typed:
        typed["weights"] = parse_weights(typed["weights"])
    with user_errors():
        config = resolve(typed, load_yaml(config_file) if config_file else {})
        config.require_inputs()
        if preflight:
            from grpo_plugin.train import preflight as run_preflight

            run_preflight(config)
            return
        from grpo_plugin.train import train

        result = train(config)
    _summarise(result)


def _summarise(result: Any) -> None:
    if not result.main_process:
        return
    trend = result.reward_trend()
    if trend is not None:
        first, last = trend
        click.echo(f"reward: {first:.4f} over the first logged steps -> {last:.4f} over the last")
    what = "LoRA adapter" if result.adapter else "model"
    click.echo(f"saved the {what}, tokenizer, trainer_state.json and grpo-train.yaml to {result.output_dir}")
    if result.merged_dir is not None:
        click.echo(f"merged model: {result.merged_dir}")


if __name__ == "__main__":
    sys.exit(main())
