"""The settings of one ``grpo-train`` or ``sft-train`` run: defaults, a YAML file, the command line, the record.

Precedence is command line over ``--config file.yaml`` over the defaults below. Besides these, every field of TRL's
own settings is a key and an option (:mod:`grpo_plugin.trl_options`); the values given travel in ``trl``. The
resolved settings, ours and every TRL field's, are written into the output directory as ``grpo-train.yaml``
(``sft-train.yaml``), a file ``--config`` reads back, so a run can be repeated.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import yaml

from grpo_plugin import trl_options
from rewardlab.engine.write import atomic_writer
from rewardlab.errors import ConfigError
from rewardlab.params import parse_weights
from rewardlab.rewards.polychromic import DIVERSITIES

#: Logging integrations ``--report-to`` accepts.
REPORTERS = ("tensorboard", "wandb", "none")

#: Values ``--curriculum`` accepts.
CURRICULA = ("none", "learnability")

#: Values ``--objective`` accepts: plain GRPO, or polychromic GRPO (:mod:`rewardlab.rewards.polychromic`).
OBJECTIVES = ("grpo", "polychromic")


@dataclasses.dataclass
class RunConfig:
    """What ``grpo-train`` and ``sft-train`` share: the model, the data, the LoRA adapter, the optimizer and the run.

    Field names are the YAML keys and, with dashes, the command-line options. Each command's settings add to these
    (:class:`TrainConfig`, :class:`SFTTrainConfig`) and name the file their resolved settings are written to.
    """

    #: The command whose settings these are; recorded with the run so one command never resumes another's.
    command: ClassVar[str] = "grpo-train"

    #: Our defaults for TRL fields (where TRL's would change what the command always did): the checkpoint's dtype
    #: (``None``: see :func:`grpo_plugin.loading.load_policy`) rather than float32, peft's LoRA dropout of 0.
    trl_defaults: ClassVar[dict[str, Any]] = {"dtype": None, "lora_dropout": 0.0}

    model: str = "Qwen/Qwen3-0.6B"
    data: str | None = None
    output_dir: str = "runs/grpo"
    system_prompt: str | None = None
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    learning_rate: float = 1e-5
    max_steps: int = -1
    epochs: float = 1.0
    seed: int = 42
    lora: bool = True
    lora_r: int = 16
    lora_alpha: int = 32
    lora_target_modules: list[str] | str = "all-linear"
    report_to: list[str] = dataclasses.field(default_factory=lambda: ["none"])
    logging_steps: int = 1
    save_steps: int = 500
    resume_from_checkpoint: str | None = None
    overwrite_output_dir: bool = False
    merge: bool = False
    trl: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    @property
    def resolved_name(self) -> str:
        """File the resolved settings are written to, inside the output directory."""
        return f"{self.command}.yaml"

    def validate(self) -> None:
        """Check values a command line or a YAML file can get wrong; raise :class:`ConfigError` with one line."""
        for name in ("model", "output_dir", "data", "system_prompt", "resume_from_checkpoint"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{_option(name)} must be a string, got {value!r}")
        targets = self.lora_target_modules
        if not (isinstance(targets, str) or (isinstance(targets, list) and all(isinstance(t, str) for t in targets))):
            raise ConfigError(f"--lora-target-modules must be module names, got {targets!r}")
        if not isinstance(self.trl, dict):
            raise ConfigError(f"trl must be a mapping of TRL settings, got {self.trl!r}")
        if not (isinstance(self.report_to, list) and all(isinstance(r, str) for r in self.report_to)):
            raise ConfigError(f"--report-to must be names, got {self.report_to!r}")
        self._check_positive_ints(
            "per_device_train_batch_size",
            "gradient_accumulation_steps",
            "lora_r",
            "lora_alpha",
            "logging_steps",
            "save_steps",
        )
        self._check_finite()
        self._check_positive_numbers("learning_rate", "epochs")
        if (
            isinstance(self.max_steps, bool)
            or not isinstance(self.max_steps, int)
            or self.max_steps < -1
            or not self.max_steps
        ):
            raise ConfigError(
                f"--max-steps must be a positive whole number (or -1 for --epochs), got {self.max_steps!r}"
            )
        bad = [r for r in self.report_to if r not in REPORTERS]
        if bad:
            raise ConfigError(f"--report-to: unknown {', '.join(bad)}; choose from {', '.join(REPORTERS)}")

    @property
    def target_modules(self) -> list[str] | str:
        """LoRA target modules as peft takes them: ``"all-linear"`` or a list of module names."""
        if isinstance(self.lora_target_modules, str) and self.lora_target_modules != "all-linear":
            return split_list(self.lora_target_modules)
        return self.lora_target_modules

    def to_dict(self) -> dict[str, Any]:
        """Our settings as plain YAML-ready values, then every TRL field's (given, else the default)."""
        values = dataclasses.asdict(self)
        given = values.pop("trl")
        return {**values, **trl_options.resolved(self.command, own_names(type(self)), given, self.trl_defaults)}

    def _check_positive_ints(self, *names: str) -> None:
        for name in names:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{_option(name)} must be a positive whole number, got {value!r}")

    def _check_positive_numbers(self, *names: str) -> None:
        for name in names:
            value = getattr(self, name)
            if not _is_number(value) or not value > 0:
                raise ConfigError(f"{_option(name)} must be a positive number, got {value!r}")

    def _check_finite(self) -> None:
        """Refuse NaN and infinity in every number-valued setting: TRL would train on them and save garbage."""
        for name in float_fields(type(self)):
            value = getattr(self, name)
            if value is None:
                continue
            if not _is_number(value):
                raise ConfigError(f"{_option(name)} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ConfigError(f"{_option(name)} must be a finite number, got {value!r}")


@dataclasses.dataclass
class TrainConfig(RunConfig):
    """Everything ``grpo-train`` needs: the shared settings of :class:`RunConfig` and GRPO's own.

    The training knobs keep TRL's ``GRPOConfig`` defaults except ``learning_rate`` (1e-5: TRL's 1e-6 is meant for
    full fine-tuning, a LoRA adapter needs a larger step) and ``logging_steps`` (1, so the zero-variance guard and
    the logged reward see every step).
    """

    reward: str | None = None
    weights: list[float] | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    num_generations: int = 8
    beta: float = 0.0
    temperature: float = 1.0
    max_completion_length: int = 512
    use_vllm: bool = False
    curriculum: str = "none"
    curriculum_threshold: float | None = None
    init_adapter: str | None = None
    objective: str = "grpo"
    set_size: int = 4
    diversity: str = "lexical"

    def validate(self) -> None:
        """Check the shared settings, then GRPO's; raise :class:`ConfigError` with one line."""
        super().validate()
        for name in ("reward", "init_adapter"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{_option(name)} must be a string, got {value!r}")
        self._check_positive_ints("num_generations", "max_completion_length")
        if self.num_generations < 2:
            raise ConfigError("--num-generations must be at least 2: GRPO compares completions of the same prompt")
        self._check_positive_numbers("temperature")
        if self.beta < 0:
            raise ConfigError(f"--beta must be a number >= 0, got {self.beta!r}")
        if self.curriculum not in CURRICULA:
            raise ConfigError(f"--curriculum must be one of {', '.join(CURRICULA)}, got {self.curriculum!r}")
        if self.weights is not None and not all(_is_number(w) and math.isfinite(w) for w in self.weights):
            raise ConfigError(f"--weights must be finite numbers, got {self.weights!r}")
        if self.init_adapter is not None and not self.lora:
            raise ConfigError("--init-adapter continues a LoRA adapter; it cannot be combined with --no-lora")
        self.validate_objective()

    def validate_objective(self) -> None:
        """Check ``--objective``, ``--set-size`` and ``--diversity`` (polychromic GRPO's settings)."""
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"--objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.diversity not in DIVERSITIES:
            raise ConfigError(f"--diversity must be one of {', '.join(DIVERSITIES)}, got {self.diversity!r}")
        if isinstance(self.set_size, bool) or not isinstance(self.set_size, int) or self.set_size < 2:
            raise ConfigError(f"--set-size must be a whole number >= 2, got {self.set_size!r}")
        if self.objective == "polychromic" and self.set_size >= self.num_generations:
            raise ConfigError(
                f"--set-size must be smaller than --num-generations ({self.num_generations}), got {self.set_size}: "
                "sets are drawn from the completions of one prompt, and with one set per prompt every completion "
                "gets the same value and GRPO no gradient"
            )

    def require_inputs(self) -> None:
        """Check that the prompts and the reward are given (they have no default)."""
        if not self.data:
            raise ConfigError("no prompts: give --data FILE (JSONL or a saved dataset directory)")
        if not self.reward:
            raise ConfigError(
                "no reward: give --reward NAME (see `rewardlab list`), module:function or file.py:function"
            )


@dataclasses.dataclass
class SFTTrainConfig(RunConfig):
    """Everything ``sft-train`` needs: the shared settings of :class:`RunConfig`, SFT's own defaults.

    ``learning_rate`` is 1e-4 (the LoRA supervised fine-tuning default of peft's and TRL's examples; GRPO's 1e-5
    step is for a policy gradient); ``data`` holds ``prompt`` and ``completion`` columns.
    """

    command: ClassVar[str] = "sft-train"

    #: TRL's prompt-completion format with the loss on the completion only, and no packing, unless asked.
    trl_defaults: ClassVar[dict[str, Any]] = {
        **RunConfig.trl_defaults,
        "completion_only_loss": True,
        "packing": False,
    }

    output_dir: str = "runs/sft"
    learning_rate: float = 1e-4

    def require_inputs(self) -> None:
        """Check that the training data is given (it has no default)."""
        if not self.data:
            raise ConfigError("no training data: give --data FILE (JSONL with prompt and completion)")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def float_fields(cls: type[RunConfig]) -> list[str]:
    """Names of the settings of ``cls`` that hold a number (``float`` or ``float | None``)."""
    return [f.name for f in dataclasses.fields(cls) if f.type in ("float", "float | None")]


def split_list(value: str) -> list[str]:
    """Split a comma-separated option value, dropping empty parts."""
    return [part.strip() for part in value.split(",") if part.strip()]


def load_yaml(path: str | Path, cls: type[RunConfig] = TrainConfig) -> dict[str, Any]:
    """Read a ``--config`` file: a mapping whose keys are option names, with dashes or underscores.

    Raises:
        ConfigError: The file is missing, not YAML, not a mapping, has a key no option has, or a TRL value of
            the wrong kind.

    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(error, 'problem', error)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of option names to values, got {type(data).__name__}")
    values = {str(key).replace("-", "_"): value for key, value in data.items()}
    own, trl = trl_options.split_values(values, cls.command, own_names(cls), str(path))
    out = normalise(own, cls)
    if trl:
        out["trl"] = trl
    return out


def own_names(cls: type[RunConfig]) -> frozenset[str]:
    """The names of the settings ``cls`` holds itself (TRL's others travel in ``trl``)."""
    return frozenset(f.name for f in dataclasses.fields(cls) if f.name != "trl")


def normalise(values: Mapping[str, Any], cls: type[RunConfig] = TrainConfig) -> dict[str, Any]:
    """Bring values from YAML or the command line to the types the settings ``cls`` hold."""
    out = dict(values)
    if "weights" in out:
        out["weights"] = parse_weights(out["weights"])
    if isinstance(out.get("report_to"), str):
        out["report_to"] = split_list(out["report_to"])
    if isinstance(out.get("reward"), list):
        out["reward"] = ",".join(str(part) for part in out["reward"])
    for name in float_fields(cls):
        if isinstance(out.get(name), str):
            try:
                out[name] = float(out[name])
            except ValueError:
                raise ConfigError(f"{_option(name)} must be a number, got {out[name]!r}") from None
        elif isinstance(out.get(name), int) and not isinstance(out.get(name), bool):
            out[name] = float(out[name])
    return out


def resolve(
    command_line: Mapping[str, Any], file_values: Mapping[str, Any], cls: type[RunConfig] = TrainConfig
) -> RunConfig:
    """Merge settings: what the user typed wins over the ``--config`` file, which wins over the defaults.

    Args:
        command_line: Only the options the user gave on the command line.
        file_values: The ``--config`` file's values (see :func:`load_yaml`).
        cls: The command's settings, :class:`TrainConfig` (``grpo-train``) or :class:`SFTTrainConfig`.

    Example:
        >>> resolve({"learning_rate": 1e-4}, {"learning_rate": 2e-5, "beta": 0.04}).learning_rate
        0.0001

    """
    ours = own_names(cls)
    file_own, file_trl = trl_options.split_values(
        {k: v for k, v in file_values.items() if k != "trl"}, cls.command, ours, "--config"
    )
    typed, typed_trl = trl_options.split_values(
        {k: v for k, v in command_line.items() if k != "trl"}, cls.command, ours, "", text=True
    )
    merged: dict[str, Any] = {**normalise(file_own, cls), **normalise(typed, cls)}
    given = {**dict(file_values.get("trl") or {}), **file_trl, **dict(command_line.get("trl") or {}), **typed_trl}
    if given:
        merged["trl"] = _without_defaults(given, cls)
    if "params" in {f.name for f in dataclasses.fields(cls)}:
        file_params = file_values.get("params") or {}
        if not isinstance(file_params, Mapping):
            raise ConfigError(f"params must be a mapping of reward parameters, got {file_params!r}")
        merged["params"] = {**file_params, **dict(typed.get("params") or {})}
    try:
        return cls(**merged)
    except TypeError as error:
        raise ConfigError(str(error)) from None


def _without_defaults(given: Mapping[str, Any], cls: type[RunConfig]) -> dict[str, Any]:
    """TRL values minus those equal to the default in force (ours, else TRL's): a read-back record adds none."""
    fields = trl_options.trl_fields(cls.command, own_names(cls))
    out = {}
    for name, value in given.items():
        default = cls.trl_defaults[name] if name in cls.trl_defaults else fields[name].default
        if name in trl_options.DEVICE_DEPENDENT or value != default:
            out[name] = value
    return out


def write_resolved(config: RunConfig, output_dir: str | Path, header: str) -> Path:
    """Write the resolved settings as ``<command>.yaml`` (readable by ``--config``), ``header`` as a comment."""
    path = Path(output_dir) / config.resolved_name
    with atomic_writer(path) as handle:
        handle.write("".join(f"# {line}\n" for line in header.splitlines()))
        handle.write(yaml.safe_dump(config.to_dict(), sort_keys=False))
    return path
