"""Guards that stop a training run which would waste its compute, each with one line saying why.

- :class:`UnscoredRewards` (GRPO): a reward that scores no completion at all (NaN or None for every row) over the
  first generation batches gives GRPO nothing to learn from; TRL would train on to the end with a loss of 0.
- :class:`SafeCheckpoints` (every trainer): a checkpoint that cannot be written whole (a full disk) is removed,
  so ``--resume-from-checkpoint last`` never picks a partial one, and the run ends with one line.
- :func:`check_checkpoint`: a checkpoint whose weights or optimizer state are damaged is refused before the model
  loads, instead of a ``SafetensorError`` traceback mid-resume.

The mixins go in front of TRL's trainer classes (``class T(UnscoredRewards, SafeCheckpoints, GRPOTrainer)``).
"""

from __future__ import annotations

import errno
import json
import shutil
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rewardlab.errors import RewardlabError, first_line

#: Generation batches a reward has to score nothing in, one after another from the start, to stop the run.
UNSCORED_PATIENCE = 2


class WastedRunError(RewardlabError):
    """The run was stopped because going on would waste it (see the message)."""


class RewardWatch:
    """Notice a reward that scores no completion in each of the first ``patience`` generation batches.

    Args:
        names: The reward functions' names, in TRL's column order.
        patience: Batches to watch; after them the watch is over.

    Example:
        >>> watch = RewardWatch(["math", "length"], patience=2)
        >>> watch.observe([True, False])
        >>> watch.observe([True, False])
        Traceback (most recent call last):
        ...
        grpo_plugin.guards.WastedRunError: reward 'math' scored no completion (NaN or None for every row) in ...

    """

    def __init__(self, names: Sequence[str], patience: int = UNSCORED_PATIENCE) -> None:
        self.names = list(names)
        self.patience = patience
        self.batches = 0
        self.never_scored = [True] * len(self.names)

    def observe(self, unscored: Sequence[bool]) -> None:
        """Take one generation batch: for each reward, whether it scored none of the batch's completions.

        Raises:
            WastedRunError: After ``patience`` batches, naming the first reward that never scored a completion.

        """
        if self.batches >= self.patience:
            return
        self.batches += 1
        self.never_scored = [before and now for before, now in zip(self.never_scored, unscored, strict=True)]
        if self.batches < self.patience:
            return
        dead = [name for name, never in zip(self.names, self.never_scored, strict=True) if never]
        if dead:
            raise WastedRunError(
                f"reward '{dead[0]}' scored no completion (NaN or None for every row) in the first {self.patience} "
                "generation batches: it gives GRPO nothing to learn from, so the run was stopped; check the columns "
                "and parameters it needs (rewardlab score on the prompts shows its reasons)"
            )


class UnscoredRewards:
    """GRPOTrainer mixin: decode JSON-stored columns for the rewards, and stop on rewards that score nothing.

    Set ``json_columns`` (see :func:`grpo_plugin.data.to_training_dataset`) before training.
    """

    json_columns: Sequence[str] = ()
    reward_watch: RewardWatch | None = None

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):  # noqa: D102
        inputs = decode_rows(inputs, self.json_columns)
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        if self.model.training:
            if self.reward_watch is None:
                self.reward_watch = RewardWatch(self.reward_func_names)
            import torch

            self.reward_watch.observe(torch.isnan(rewards_per_func).all(dim=0).tolist())
        return rewards_per_func


def decode_rows(rows: list[dict[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows with the values of ``columns`` (JSON text in the dataset) decoded back to what the file held.

    Example:
        >>> decode_rows([{"tests": '[{"expected": [1, 2]}]', "prompt": "p"}], ["tests"])
        [{'tests': [{'expected': [1, 2]}], 'prompt': 'p'}]

    """
    if not columns:
        return rows
    return [
        {key: json.loads(value) if key in columns and isinstance(value, str) else value for key, value in row.items()}
        for row in rows
    ]


class CheckpointError(RewardlabError):
    """A checkpoint could not be written, or the one to resume from is damaged."""


class SafeCheckpoints:
    """Trainer mixin: a checkpoint that fails to write (a full disk, a lost mount) is removed and ends the run.

    The Trainer writes ``checkpoint-N`` file by file; a failure half-way leaves a directory that looks like a
    checkpoint. Here it is deleted (by the main process) before the one-line error, so nothing partial is left for
    ``--resume-from-checkpoint last``.
    """

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        try:
            super()._save_checkpoint(model, trial)
        except (OSError, RuntimeError) as error:
            folder = Path(self._get_output_dir(trial=trial)) / f"checkpoint-{self.state.global_step}"
            if self.args.should_save:
                shutil.rmtree(folder, ignore_errors=True)
            raise CheckpointError(
                f"cannot write the checkpoint {folder}: {describe_write_error(error)}; the partial checkpoint was "
                "removed, the earlier ones are intact (free space, then continue with --resume-from-checkpoint last)"
            ) from None


def describe_write_error(error: BaseException) -> str:
    """A write failure in a few words: ``no space left on device`` for ENOSPC, wherever torch wrapped it.

    Example:
        >>> describe_write_error(OSError(28, "No space left on device"))
        'no space left on device'

    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return "no space left on device"
        seen = seen.__cause__ or seen.__context__
    return first_line(error)


def check_checkpoint(checkpoint: str | Path) -> None:
    """Check that the weights and the saved training state of ``checkpoint`` are whole before resuming from it.

    Reads the header of each ``*.safetensors`` file and checks its size against it, and checks the archive of each
    ``*.pt``/``*.pth`` file (optimizer, scheduler, RNG states); neither loads a tensor.

    Raises:
        CheckpointError: Naming the first damaged file.

    """
    folder = Path(checkpoint)
    for path in sorted(folder.glob("*.safetensors")):
        problem = _safetensors_problem(path)
        if problem:
            raise CheckpointError(f"--resume-from-checkpoint: {path} is damaged ({problem}); resume an earlier one")
    for path in sorted([*folder.glob("*.pt"), *folder.glob("*.pth")]):
        problem = _archive_problem(path)
        if problem:
            raise CheckpointError(f"--resume-from-checkpoint: {path} is damaged ({problem}); resume an earlier one")


def _safetensors_problem(path: Path) -> str | None:
    """What is wrong with a safetensors file's layout: 8-byte header length, JSON header, data of that length."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return "shorter than a safetensors header"
        (length,) = struct.unpack("<Q", head)
        if length > size - 8:
            return "header longer than the file"
        try:
            header = json.loads(handle.read(length))
        except ValueError:
            return "header is not JSON"
    if not isinstance(header, dict):
        return "header is not a mapping"
    ends = [
        entry["data_offsets"][1]
        for key, entry in header.items()
        if key != "__metadata__" and isinstance(entry, dict) and isinstance(entry.get("data_offsets"), list)
    ]
    expected = 8 + length + max(ends, default=0)
    if size != expected:
        return f"{size} bytes where its header describes {expected}"
    return None


def _archive_problem(path: Path) -> str | None:
    """What is wrong with a file ``torch.save`` wrote (a zip archive): not an archive, or a member that fails CRC."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return first_line(error) or "not a torch archive"
    return f"member {bad} is corrupt" if bad else None
