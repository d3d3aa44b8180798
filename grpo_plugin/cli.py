"""``grpo-train``: GRPO with a LoRA adapter on a causal LM, rewards from rewardlab, on TRL's GRPOTrainer.

The command parses options and calls :func:`grpo_plugin.train.train` (or :func:`~grpo_plugin.train.preflight`);
importing this module loads no heavy library, and trl's settings classes are read only when a command line is parsed
(:class:`TrlCommand` adds an option for every field of them, :mod:`grpo_plugin.trl_options`). The options every
training command shares (model, data, LoRA, optimizer, output directory, resume) and how a command runs are here
too: ``sft-train`` (:mod:`grpo_plugin.sft_cli`) uses them.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource

from grpo_plugin import lock
from grpo_plugin.config import CURRICULA, OBJECTIVES, RunConfig, TrainConfig, load_yaml, own_names, resolve
from rewardlab.cli.framework import Command, user_errors
from rewardlab.cli.options import param_option, parse_param_options, weights_option
from rewardlab.params import parse_weights
from rewardlab.rewards.polychromic import DIVERSITIES

DEFAULTS = TrainConfig()


class TrlCommand(Command):
    """A training command whose options are ours plus one per field of TRL's settings for it.

    The TRL options are built from the dataclasses when first needed (parsing a command line, ``--help``), so
    importing the command stays cheap. TRL's spelling with underscores (``--loss_type``) is accepted as well.
    """

    config_class: type[RunConfig] = TrainConfig

    @functools.cached_property
    def trl_params(self) -> list[click.Parameter]:
        """One option per TRL field the command's own options do not already cover."""
        from grpo_plugin.trl_options import trl_fields

        cls = self.config_class
        taken = {opt for param in self.params for opt in [*param.opts, *param.secondary_opts]}
        params: list[click.Parameter] = []
        for item in trl_fields(cls.command, own_names(cls)).values():
            if item.option in taken:
                continue
            default = cls.trl_defaults.get(item.name, item.default)
            where = f"{item.owner.__name__}.{item.name}"
            note = f"[TRL {where}; default: {default!r}" + (
                f", TRL's {item.default!r}]" if item.name in cls.trl_defaults else "]"
            )
            text = f"{item.help or 'See TRL.'} {note}"
            if item.takes_bool:
                params.append(
                    click.Option(
                        [item.option], is_flag=False, flag_value="true", default=None, metavar="[BOOL]", help=text
                    )
                )
            else:
                params.append(click.Option([item.option], default=None, metavar="VALUE", help=text))
        return params

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        """Our options, TRL's, then --help."""
        params = [*self.params, *self.trl_params]
        help_option = self.get_help_option(ctx)
        return [*params, help_option] if help_option is not None else params

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Read ``--some_option`` as ``--some-option`` (TRL's scripts spell options with underscores)."""
        return super().parse_args(ctx, [_dashed(arg) for arg in args])


def _dashed(arg: str) -> str:
    if not arg.startswith("--"):
        return arg
    name, sep, value = arg.partition("=")
    return name.replace("_", "-") + sep + value


def trl_command(config_class: type[RunConfig]) -> type[TrlCommand]:
    """The :class:`TrlCommand` class of a command whose settings are ``config_class``."""
    return type(f"{config_class.__name__}Command", (TrlCommand,), {"config_class": config_class})


def run_options(defaults: RunConfig, data_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options of :class:`~grpo_plugin.config.RunConfig`, with the command's defaults, as one decorator."""

    def default(name: str) -> Any:
        value = getattr(defaults, name)
        return ",".join(value) if isinstance(value, list) else value

    options = [
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False),
            help="YAML file with the same keys as these options, TRL's included (dashes or underscores); the command "
            "line wins.",
        ),
        click.option(
            "--model",
            "--model-name-or-path",
            "model",
            default=default("model"),
            show_default=True,
            help="Hub id or local path of a causal LM.",
        ),
        click.option("--data", help=data_help),
        click.option(
            "--output-dir",
            default=default("output_dir"),
            show_default=True,
            help=f"Where the adapter, tokenizer, trainer_state.json, checkpoints and {defaults.resolved_name} go.",
        ),
        click.option(
            "--system-prompt",
            help="System message put in front of every prompt (string prompts become chat messages).",
        ),
        click.option(
            "--per-device-train-batch-size",
            type=int,
            default=default("per_device_train_batch_size"),
            show_default=True,
            help="Rows per device per step.",
        ),
        click.option(
            "--gradient-accumulation-steps",
            type=int,
            default=default("gradient_accumulation_steps"),
            show_default=True,
            help="Steps whose gradients are summed before one optimizer update.",
        ),
        click.option(
            "--learning-rate",
            type=float,
            default=default("learning_rate"),
            show_default=True,
            help="Peak learning rate of the optimizer (AdamW unless --optim says otherwise).",
        ),
        click.option(
            "--max-steps",
            type=int,
            default=default("max_steps"),
            show_default=True,
            help="Optimizer steps; -1 trains for --epochs.",
        ),
        click.option(
            "--epochs",
            "--num-train-epochs",
            "epochs",
            type=float,
            default=default("epochs"),
            show_default=True,
            help="Passes over the data (when --max-steps is -1).",
        ),
        click.option(
            "--seed",
            type=int,
            default=default("seed"),
            show_default=True,
            help="Random seed of sampling, shuffling and the adapter's initialisation.",
        ),
        click.option(
            "--lora/--no-lora",
            "--use-peft/--no-use-peft",
            default=default("lora"),
            show_default=True,
            help="Train a LoRA adapter, or the full model.",
        ),
        click.option(
            "--lora-r", type=int, default=default("lora_r"), show_default=True, help="Rank of the LoRA matrices."
        ),
        click.option(
            "--lora-alpha",
            type=int,
            default=default("lora_alpha"),
            show_default=True,
            help="LoRA scaling numerator: updates are scaled by alpha / r.",
        ),
        click.option(
            "--lora-target-modules",
            default=default("lora_target_modules"),
            show_default=True,
            help="Module names, comma-separated, or all-linear.",
        ),
        click.option(
            "--report-to",
            default=default("report_to"),
            show_default=True,
            help="tensorboard, wandb or none (comma-separated for several).",
        ),
        click.option(
            "--logging-steps",
            type=int,
            default=default("logging_steps"),
            show_default=True,
            help="Log metrics every N steps.",
        ),
        click.option(
            "--save-steps",
            type=int,
            default=default("save_steps"),
            show_default=True,
            help="Write a checkpoint every N steps (Ctrl-C or SIGTERM also writes one, then stops).",
        ),
        click.option(
            "--resume-from-checkpoint",
            metavar="DIR|last",
            help="Continue from a checkpoint directory, or `last` for the newest of the run in --output-dir.",
        ),
        click.option(
            "--overwrite-output-dir",
            is_flag=True,
            default=default("overwrite_output_dir"),
            help="Start a new run in a non-empty --output-dir (refused otherwise); its files are replaced as the "
            "new run writes them.",
        ),
        click.option(
            "--merge",
            is_flag=True,
            default=default("merge"),
            help="Also write the adapter merged into the model to OUTPUT_DIR/merged.",
        ),
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def run_command(
    ctx: click.Context,
    cls: type[RunConfig],
    config_file: str | None,
    options: dict[str, Any],
    action: Callable[[Any], Any],
) -> Any:
    """Resolve a training command's settings (command line over ``--config`` over defaults) and run ``action``.

    Only options the user typed count as typed, so a ``--config`` value is not replaced by a default. User
    mistakes end in one line with exit status 2, a signal as :mod:`rewardlab.cli.framework` says.
    """
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
    try:
        with user_errors():
            config = resolve(typed, load_yaml(config_file, cls) if config_file else {}, cls)
            config.require_inputs()
            return action(config)
    finally:
        lock.release()


def summarise(result: Any, metric: str, resolved_name: str) -> None:
    """Print how ``metric`` moved over the run and what was saved where (main process only)."""
    if result is None or not result.main_process:
        return
    trend = result.trend(metric)
    if trend is not None:
        first, last = trend
        click.echo(f"{metric}: {first:.4f} over the first logged steps -> {last:.4f} over the last")
    what = "LoRA adapter" if result.adapter else "model"
    click.echo(f"saved the {what}, tokenizer, trainer_state.json and {resolved_name} to {result.output_dir}")
    if result.merged_dir is not None:
        click.echo(f"merged model: {result.merged_dir}")


EPILOG = """\b
Examples:
  grpo-train --reward engagement --model Qwen/Qwen3-0.6B --data prompts.jsonl
  grpo-train --reward math,overlong --weights 1,0.5 -p overlong.max_length=1024 --data math.jsonl
  grpo-train --reward my_rewards.py:brevity --data prompts.jsonl --preflight
  grpo-train --reward engagement --model Qwen/Qwen3-0.6B --init-adapter runs/sft --data runs/split/grpo.jsonl
  grpo-train --reward engagement --objective polychromic --set-size 4 --data prompts.jsonl
  accelerate launch --config_file examples/accelerate/ddp.yaml -m grpo_plugin.cli --config run.yaml
"""


@click.command(cls=trl_command(TrainConfig), epilog=EPILOG)
@run_options(
    DEFAULTS,
    data_help="Prompts: JSONL or a saved Hugging Face dataset directory; `prompt` is a string or chat messages, "
    "other columns reach the rewards.",
)
@click.option(
    "--reward", "-r", help="Reward spec: registry names, module:function or file.py:function, comma-separated."
)
@weights_option
@param_option
@click.option(
    "--num-generations",
    type=int,
    default=DEFAULTS.num_generations,
    show_default=True,
    help="Completions sampled per prompt (the group).",
)
@click.option(
    "--beta",
    type=float,
    default=DEFAULTS.beta,
    show_default=True,
    help="KL coefficient against the starting model (0 loads no reference model).",
)
@click.option(
    "--temperature",
    type=float,
    default=DEFAULTS.temperature,
    show_default=True,
    help="Sampling temperature of the completions.",
)
@click.option(
    "--max-completion-length",
    type=int,
    default=DEFAULTS.max_completion_length,
    show_default=True,
    help="Tokens per completion at most.",
)
@click.option("--use-vllm", is_flag=True, default=DEFAULTS.use_vllm, help="Generate with vLLM (needs vllm and a GPU).")
@click.option(
    "--curriculum",
    type=click.Choice(CURRICULA),
    default=DEFAULTS.curriculum,
    show_default=True,
    help="learnability: sample prompts by p(1-p) of their success rate; a `difficulty` column orders the start.",
)
@click.option(
    "--curriculum-threshold",
    type=float,
    help="Reward at or above which a completion counts as a success (default: rewards normalised to [0, 1]).",
)
@click.option(
    "--init-adapter",
    metavar="DIR",
    help="Continue training this LoRA adapter (say the one sft-train wrote) instead of a new one; --model must be "
    "its base model. Its LoRA shape replaces the --lora-* options.",
)
@click.option(
    "--objective",
    type=click.Choice(OBJECTIVES),
    default=DEFAULTS.objective,
    show_default=True,
    help="polychromic: score each completion by the sets of its group holding it, mean reward × diversity "
    "(Hamid et al., ICLR 2026), against mode collapse.",
)
@click.option(
    "--set-size",
    type=int,
    default=DEFAULTS.set_size,
    show_default=True,
    help="Completions per set of the polychromic objective.",
)
@click.option(
    "--diversity",
    type=click.Choice(DIVERSITIES),
    default=DEFAULTS.diversity,
    show_default=True,
    help="Diversity of a set: lexical (1 - Self-BLEU) or embedding (mean pairwise cosine distance).",
)
@click.option(
    "--preflight",
    is_flag=True,
    help="Sample --preflight-prompts prompts × num-generations, print the reward spread and the share of "
    "zero-variance groups, and exit without training.",
)
@click.option(
    "--preflight-prompts",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Prompts --preflight samples.",
)
@click.pass_context
def main(ctx: click.Context, config_file: str | None, preflight: bool, preflight_prompts: int, **options: Any) -> None:
    """Fine-tune a causal LM with GRPO on rewardlab rewards (TRL GRPOTrainer + peft LoRA)."""
    if preflight:

        def run_preflight(config: TrainConfig) -> Any:
            from grpo_plugin.train import preflight as sample

            return sample(config, num_prompts=preflight_prompts)

        run_command(ctx, TrainConfig, config_file, options, run_preflight)
        return

    def train(config: TrainConfig) -> Any:
        from grpo_plugin.train import train

        return train(config)

    summarise(run_command(ctx, TrainConfig, config_file, options, train), "reward", DEFAULTS.resolved_name)


if __name__ == "__main__":
    sys.exit(main())
