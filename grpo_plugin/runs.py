"""A training run's life: the adapter it starts from, its output directory, where it resumes, how it ends.

Shared by ``grpo-train`` and ``sft-train``. Three rules keep a user's work safe:

- A non-empty output directory is not trained into unless the user says how: ``--resume-from-checkpoint`` to
  continue the run in it, ``--overwrite-output-dir`` to start a new one there.
- Every run writes a record, ``run.json`` (the command, a fresh run id, and what the weights are: the model, the
  adapter it started from, the LoRA shape), into the output directory and into each checkpoint it saves.
  ``--resume-from-checkpoint last`` considers only the checkpoints whose record carries the output directory's
  run id, so a checkpoint left by an earlier run (one the user overwrote, or one of another command) is never
  picked; resuming any checkpoint whose record names other weights is refused.
- SIGINT or SIGTERM ends the run at the next optimizer step with a checkpoint (see
  :class:`~grpo_plugin.callbacks.StopOnSignal`); :func:`finish` then saves the adapter and the tokenizer as well
  and raises :class:`TrainingStopped`, which the command line turns into one line and exit status 128 + the signal.
"""

from __future__ import annotations

import json
import re
import signal
import uuid
from pathlib import Path
from typing import Any

from grpo_plugin import lock
from grpo_plugin.config import RunConfig, TrainConfig
from grpo_plugin.guards import CheckpointError, check_checkpoint, describe_write_error
from rewardlab.engine.write import atomic_writer
from rewardlab.errors import ConfigError, RewardlabError, StoppedWithWork

#: The run record's file name, in the output directory and in each checkpoint.
RUN_FILE = "run.json"

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


class RunDirError(RewardlabError):
    """The output directory or the checkpoint to resume cannot be used as asked."""


class TrainingStopped(StoppedWithWork):
    """Training stopped on a signal after saving; the message says what was saved where and how to continue.

    Attributes:
        signum: The signal that stopped the run.
        step: The optimizer steps done.
        checkpoint: The resumable checkpoint written at that step, or None when none could be.
        output_dir: Where the adapter (or model) and tokenizer were saved.

    """

    def __init__(self, signum: int, step: int, checkpoint: Path | None, output_dir: Path) -> None:
        self.step = step
        self.checkpoint = checkpoint
        self.output_dir = output_dir
        name = signal.Signals(signum).name
        saved = f"and a resumable checkpoint {checkpoint}" if checkpoint else "(no checkpoint: no step done)"
        super().__init__(
            signum,
            f"interrupted by {name} after {step} steps: saved the weights and tokenizer to {output_dir} "
            f"{saved}; continue with --resume-from-checkpoint last",
        )


def identity(config: RunConfig) -> dict[str, Any]:
    """What the trained weights are: a checkpoint resumes only into a run whose identity is the same."""
    return {
        "command": config.command,
        "model": config.model,
        "init_adapter": getattr(config, "init_adapter", None),
        "lora": config.lora,
        "lora_r": config.lora_r if config.lora else None,
        "lora_alpha": config.lora_alpha if config.lora else None,
        "lora_target_modules": config.target_modules if config.lora else None,
    }


def read_record(directory: str | Path) -> dict[str, Any] | None:
    """The run record in ``directory``, or None when it has none (or an unreadable one)."""
    try:
        record = json.loads((Path(directory) / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def write_record(record: dict[str, Any], directory: str | Path) -> None:
    """Write ``record`` as ``run.json`` into ``directory`` (whole or not at all)."""
    with atomic_writer(Path(directory) / RUN_FILE) as handle:
        handle.write(json.dumps(record, indent=2) + "\n")


def check_output_dir(config: RunConfig) -> None:
    """Refuse to train into a non-empty output directory unless the user chose to resume or to overwrite.

    Raises:
        RunDirError: The directory holds files and neither option was given.

    """
    path = Path(config.output_dir)
    if config.resume_from_checkpoint or config.overwrite_output_dir or not path.is_dir():
        return
    if any(child.name != lock.LOCK_FILE for child in path.iterdir()):
        raise RunDirError(
            f"--output-dir {path} is not empty (an earlier run's files are there): continue that run with "
            "--resume-from-checkpoint last, replace it with --overwrite-output-dir, or choose another directory"
        )


def start(config: RunConfig) -> tuple[str | None, dict[str, Any]]:
    """Check (and create) the output directory, find the checkpoint to resume, and make this run's record.

    A resumed run keeps the run id of the checkpoint it continues; any other run gets a new one. The output
    directory is locked for this run (:mod:`grpo_plugin.lock`) until :func:`grpo_plugin.lock.release`.

    Returns:
        The checkpoint to resume (or None) and the run record to write once training is set up.

    Raises:
        RunDirError: See :func:`check_output_dir` and :func:`resume_checkpoint`.
        OutputDirLocked: Another run is training into the output directory.
        CheckpointError: The checkpoint to resume is damaged.

    """
    check_output_dir(config)
    checkpoint = resume_checkpoint(config)
    try:
        Path(config.output_dir).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunDirError(f"--output-dir: cannot create {config.output_dir}: {error.strerror or error}") from None
    lock.acquire(config.output_dir)
    try:
        # Again under the lock: a run that started at the same moment may have written here since.
        check_output_dir(config)
    except RunDirError:
        lock.release(config.output_dir)
        raise
    previous = read_record(checkpoint) if checkpoint else None
    run_id = previous["run_id"] if previous and isinstance(previous.get("run_id"), str) else uuid.uuid4().hex
    return checkpoint, {"run_id": run_id, **identity(config)}


def checkpoints_of_run(output_dir: str | Path) -> list[Path]:
    """The ``checkpoint-N`` directories in ``output_dir`` written by the run whose record the directory holds, by N."""
    record = read_record(output_dir)
    if record is None:
        return []
    found = []
    for child in Path(output_dir).iterdir():
        match = _CHECKPOINT.match(child.name)
        if match and child.is_dir() and (read_record(child) or {}).get("run_id") == record.get("run_id"):
            found.append((int(match.group(1)), child))
    return [path for _, path in sorted(found)]


def resume_checkpoint(config: RunConfig) -> str | None:
    """The checkpoint ``--resume-from-checkpoint`` names (``last``: the newest of this output directory's run).

    Raises:
        RunDirError: There is no such checkpoint, or it holds other weights than this run trains.

    """
    resume = config.resume_from_checkpoint
    if resume is None:
        return None
    if resume == "last":
        found = checkpoints_of_run(config.output_dir) if Path(config.output_dir).is_dir() else []
        if not found:
            raise RunDirError(
                f"--resume-from-checkpoint last: no checkpoint-* directory in {config.output_dir} written by the run "
                f"recorded in its {RUN_FILE}; name a checkpoint directory to resume another run's"
            )
        checkpoint = found[-1]
    else:
        checkpoint = Path(resume)
        if not (checkpoint / "trainer_state.json").is_file():
            raise RunDirError(
                f"--resume-from-checkpoint: {resume} is not a checkpoint directory (no trainer_state.json)"
            )
    record = read_record(checkpoint)
    if record is not None:
        _check_same_weights(record, identity(config), checkpoint)
    check_checkpoint(checkpoint)
    return str(checkpoint)


def _check_same_weights(record: dict[str, Any], current: dict[str, Any], checkpoint: Path) -> None:
    differ = [key for key, value in current.items() if record.get(key) != value]
    if differ:
        key = differ[0]
        raise RunDirError(
            f"--resume-from-checkpoint: {checkpoint} was written by a run with {key} {record.get(key)!r}, this run "
            f"has {current[key]!r}; resume with the same settings or start a new run"
        )


def check_init_adapter(config: TrainConfig) -> dict[str, Any]:
    """Read ``--init-adapter``'s ``adapter_config.json`` and check it was trained on ``--model``.

    Returns:
        The adapter's configuration.

    Raises:
        ConfigError: Not an adapter directory, or trained on another base model.

    """
    path = Path(config.init_adapter)
    try:
        adapter = json.loads((path / "adapter_config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--init-adapter: {path} is not a LoRA adapter directory (no adapter_config.json)") from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"--init-adapter: cannot read {path / 'adapter_config.json'}: {error}") from None
    base = adapter.get("base_model_name_or_path") if isinstance(adapter, dict) else None
    if not isinstance(base, str) or not same_model(base, config.model):
        raise ConfigError(
            f"--init-adapter: {path} was trained on base model {base!r}, not on --model {config.model!r}; "
            "give its base model as --model (or a model merged from it without --init-adapter)"
        )
    return adapter


def same_model(first: str, second: str) -> bool:
    """Whether two model names or paths name the same model (local paths compared once resolved).

    Example:
        >>> same_model("Qwen/Qwen3-0.6B", "Qwen/Qwen3-0.6B"), same_model("Qwen/Qwen3-0.6B", "Qwen/Qwen3-8B")
        (True, False)

    """
    if first == second:
        return True
    a, b = Path(first).expanduser(), Path(second).expanduser()
    return a.exists() and b.exists() and a.resolve() == b.resolve()


def finish(trainer: Any, config: RunConfig, tokenizer: Any, stop: Any) -> Path | None:
    """Save what a run produced into the output directory, and merge the adapter when ``--merge`` asks.

    Saves the adapter (or the full model), the tokenizer and ``trainer_state.json``. A run stopped by a signal
    (``stop``, a :class:`~grpo_plugin.callbacks.StopOnSignal`) is saved the same way, not merged, and ends in
    :class:`TrainingStopped`.

    Returns:
        The merged model's directory, or None without ``--merge``.

    """
    output_dir = Path(config.output_dir)
    try:
        trainer.save_model(config.output_dir)
        trainer.save_state()
    except (OSError, RuntimeError) as error:
        raise CheckpointError(
            f"cannot save the trained weights to {output_dir}: {describe_write_error(error)}; the run's checkpoints "
            "are intact (free space, then continue with --resume-from-checkpoint last)"
        ) from None
    if stop.stopped_at is not None:
        checkpoint = output_dir / f"checkpoint-{trainer.state.global_step}"
        raise TrainingStopped(
            stop.received, trainer.state.global_step, checkpoint if checkpoint.is_dir() else None, output_dir
        )
    if not config.merge:
        return None
    merged_dir = output_dir / "merged"
    if trainer.is_world_process_zero():
        merged = trainer.accelerator.unwrap_model(trainer.model).merge_and_unload()
        merged.save_pretrained(merged_dir)
        tokenizer.save_pretrained(merged_dir)
    return merged_dir
