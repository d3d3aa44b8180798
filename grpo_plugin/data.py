"""Prompts for GRPO (a JSONL file or a saved Hugging Face dataset) and pairs for SFT, checked before any model loads.

Each row needs ``prompt``, a string or chat messages; every other column travels with the row and reaches the
reward functions (TRL passes extra dataset columns as keyword lists). A system prompt, when given, turns string
prompts into chat messages and is put in front of chat prompts that have none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewardlab.engine.read import InputError, read_jsonl
from rewardlab.engine.validate import require_text
from rewardlab.reward import TRAINER_KWARGS, Reward

#: Keyword names TRL uses when it calls a reward function; a column with one of these names cannot be passed.
RESERVED_COLUMNS = ("prompts", "completions", "completion_ids", *TRAINER_KWARGS)


@dataclass
class Prompts:
    """The rows of a prompt file and where each came from, for error messages.

    Attributes:
        rows: One dict per prompt, every column kept.
        source: The path as the user gave it.
        lines: For JSONL, the line of each row; for a saved dataset, None (rows are named by index).

    """

    rows: list[dict[str, Any]]
    source: str
    lines: list[int] | None = None

    def where(self, index: int) -> str:
        """``file:line`` (JSONL) or ``dir[row i]`` (saved dataset) of row ``index``."""
        if self.lines is not None:
            return f"{self.source}:{self.lines[index]}"
        return f"{self.source}[row {index}]"

    def __len__(self) -> int:
        return len(self.rows)


def load_prompts(path: str | Path, system_prompt: str | None = None) -> Prompts:
    """Read prompts from a JSONL file or a directory written by ``datasets.Dataset.save_to_disk``.

    Raises:
        InputError: Missing file, malformed JSON, a row without a usable ``prompt``, a reserved column name.

    """
    source = str(path)
    if Path(path).is_dir():
        prompts = Prompts(_load_saved_dataset(Path(path)), source)
        for index, row in enumerate(prompts.rows):
            _check_prompt(row, prompts.where(index))
    else:
        rows = read_jsonl(path)
        for row in rows:
            require_text(row, "prompt", source)
        prompts = Prompts([row.data for row in rows], source, [row.line for row in rows])
    if prompts.rows and all(_empty_prompt(row["prompt"]) for row in prompts.rows):
        raise InputError(source, None, "every prompt is empty: the model would be asked to continue nothing")
    reserved = sorted({key for row in prompts.rows for key in row if key in RESERVED_COLUMNS})
    if reserved:
        raise InputError(source, None, f"column '{reserved[0]}' has a name TRL uses when it calls rewards; rename it")
    if system_prompt:
        prompts.rows = [{**row, "prompt": with_system_prompt(row["prompt"], system_prompt)} for row in prompts.rows]
    return prompts


def _empty_prompt(prompt: Any) -> bool:
    if isinstance(prompt, str):
        return not prompt.strip()
    for message in prompt:
        content = message.get("content")
        parts = content if isinstance(content, list) else [content]
        texts = [part.get("text") if isinstance(part, dict) else part for part in parts]
        if any(isinstance(text, str) and text.strip() for text in texts):
            return False
    return True


def _load_saved_dataset(path: Path) -> list[dict[str, Any]]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except FileNotFoundError:
        raise InputError(str(path), None, "is a directory but not a dataset saved with save_to_disk") from None
    if isinstance(loaded, datasets.DatasetDict):
        if "train" not in loaded:
            raise InputError(str(path), None, f"has splits {', '.join(loaded)} but no 'train' split")
        loaded = loaded["train"]
    if len(loaded) == 0:
        raise InputError(str(path), None, "no rows: the dataset is empty")
    return loaded.to_list()


def _check_prompt(row: dict[str, Any], where: str) -> None:
    value = row.get("prompt")
    if isinstance(value, str):
        return
    if isinstance(value, list) and value and all(isinstance(m, dict) and "content" in m for m in value):
        return
    what = "missing" if value is None else f"expected a string or a list of chat messages, got {type(value).__name__}"
    raise InputError(where, None, f"field 'prompt': {what}")


def with_system_prompt(prompt: str | list[dict[str, Any]], system_prompt: str) -> list[dict[str, Any]]:
    """Return ``prompt`` as chat messages that begin with ``system_prompt`` (an existing system message stays).

    Example:
        >>> with_system_prompt("Rain again.", "Reply kindly.")
        [{'role': 'system', 'content': 'Reply kindly.'}, {'role': 'user', 'content': 'Rain again.'}]

    """
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
    if messages and messages[0].get("role") == "system":
        return messages
    return [{"role": "system", "content": system_prompt}, *messages]


def check_columns(prompts: Prompts, rewards: Sequence[Reward]) -> None:
    """Fail before training when a row lacks a column one of the rewards needs.

    Raises:
        InputError: Naming the first such row, the reward and the column.

    """
    for index, row in enumerate(prompts.rows):
        for reward in rewards:
            missing = reward.missing_columns(row)
            if missing:
                raise InputError(
                    prompts.where(index), None, f"reward '{reward.name}' needs column '{missing[0]}', which is missing"
                )


def check_difficulty(prompts: Prompts) -> list[float] | None:
    """Return each row's ``difficulty`` (lower is easier), or None when no row has one.

    Raises:
        InputError: Some rows have a difficulty and others do not, or one is not a finite number.

    """
    if not any("difficulty" in row for row in prompts.rows):
        return None
    values = []
    for index, row in enumerate(prompts.rows):
        value = row.get("difficulty")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            problem = "missing" if value is None else f"expected a number, got {value!r}"
            raise InputError(prompts.where(index), None, f"field 'difficulty': {problem}")
        values.append(float(value))
    return values


def to_dataset(prompts: Prompts, extra: dict[str, list[Any]] | None = None) -> Any:
    """Turn the rows into a ``datasets.Dataset`` (the form GRPOTrainer takes), adding ``extra`` columns.

    Raises:
        InputError: A column holds values of kinds Arrow cannot store together (say a number in one row and a
            string in another).

    """
    import datasets

    keys: dict[str, None] = {}
    for row in prompts.rows:
        keys.update(dict.fromkeys(row))
    columns = {key: [row.get(key) for row in prompts.rows] for key in keys}
    columns.update(extra or {})
    try:
        return datasets.Dataset.from_dict(columns)
    except Exception as error:  # pyarrow raises several types for mixed columns
        column = next((key for key, values in columns.items() if not _one_kind(values)), None)
        what = f"column '{column}' mixes value types" if column else f"cannot build a dataset: {error}"
        raise InputError(prompts.source, None, what) from None


def to_training_dataset(prompts: Prompts, extra: dict[str, list[Any]] | None = None) -> tuple[Any, list[str]]:
    """Like :func:`to_dataset`, but a column Arrow cannot store as it is is stored as JSON text instead.

    Arrow wants one type per column, down to nested fields: the ``test_cases`` of ``fixtures/code_problems.jsonl``
    hold an ``expected`` that is a list in one case and a number in another. And where it can store a column it
    may change it: dicts with different keys all get every key (the missing ones None), which a reward that reads
    the keys present would misread. A column whose values do not come back from Arrow as they went in travels as
    JSON text and is decoded again before the rewards see it (:func:`grpo_plugin.guards.decode_rows`).

    Returns:
        The dataset and the names of the columns stored as JSON text.

    """
    import json

    import pyarrow

    keys: dict[str, None] = {}
    for row in prompts.rows:
        keys.update(dict.fromkeys(row))
    encoded = []
    for key in keys:
        if key == "prompt":
            continue
        values = [row.get(key) for row in prompts.rows]
        try:
            kept = pyarrow.array(values).to_pylist() == values
        except (pyarrow.ArrowException, TypeError, ValueError, OverflowError):
            kept = False
        if not kept:
            encoded.append(key)
    if not encoded:
        return to_dataset(prompts, extra), []
    rows = [
        {key: json.dumps(value) if key in encoded and value is not None else value for key, value in row.items()}
        for row in prompts.rows
    ]
    return to_dataset(Prompts(rows, prompts.source, prompts.lines), extra), encoded


def _one_kind(values: list[Any]) -> bool:
    kinds = {type(v) for v in values if v is not None}
    return len(kinds - {int, float}) + (1 if kinds & {int, float} else 0) <= 1


def load_pairs(path: str | Path, system_prompt: str | None = None) -> Prompts:
    """Read supervised pairs for ``sft-train``: ``prompt`` and ``completion``, each a string or chat messages.

    Other columns (the ``reward``, ``components`` and ``details`` of ``rewardlab split``'s ``sft.jsonl``) are
    dropped. When either side is chat messages (or a system prompt is given), both become messages, the completion
    one assistant turn: TRL's prompt-completion format wants both of one kind, and then computes the loss on the
    completion's tokens only.

    Raises:
        InputError: Missing file, malformed JSON, a row without a usable ``prompt`` or ``completion``.

    """
    source = str(path)
    rows = read_jsonl(path)
    for row in rows:
        require_text(row, "prompt", source)
        require_text(row, "completion", source)
    pairs = [_pair(row.data["prompt"], row.data["completion"], system_prompt) for row in rows]
    return Prompts(pairs, source, [row.line for row in rows])


def _pair(prompt: Any, completion: Any, system_prompt: str | None) -> dict[str, Any]:
    if system_prompt:
        prompt = with_system_prompt(prompt, system_prompt)
    if isinstance(prompt, str) and isinstance(completion, str):
        return {"prompt": prompt, "completion": completion}
    if isinstance(prompt, str):
        prompt = [{"role": "user", "content": prompt}]
    if isinstance(completion, str):
        completion = [{"role": "assistant", "content": completion}]
    return {"prompt": prompt, "completion": completion}
