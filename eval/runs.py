"""Generation runs: find them, read them through rewardlab's JSONL reader, score rows that lack correctness.

A run is a directory holding ``generations.jsonl`` (``runs/baseline/generations.jsonl``) or any JSONL file. Each
row has ``completion`` (a string or chat messages) and usually ``prompt_id``, ``sample``, ``prompt``, ``correct``
(true/false) and ``reward`` (a number); rows without ``correct`` or ``reward`` can be scored with a rewardlab reward.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from rewardlab.core import Reward, RewardlabError
from rewardlab.io import InputError, Row, read_jsonl, require_text, source_name
from rewardlab.scoring import score_rows, validate_rows
from rewardlab.text import to_text

#: The file a run directory holds.
GENERATIONS = "generations.jsonl"
#: Prompts named in a mismatch error before "and N more".
SHOWN = 5


class RunError(RewardlabError):
    """Runs that cannot be evaluated or compared as asked (not found, different prompts, too few samples)."""


@dataclass
class Generation:
    """One generated completion, checked and typed.

    Attributes:
        row: The JSONL row it came from (its line and every column, for scoring).
        completion: The completion as text.
        prompt_id: The prompt it answers, as text, or None when the row has none.
        sample: The row's ``sample`` index, or None.
        correct: Whether it is correct, or None when unknown.
        reward: Its reward, or None when unknown.

    """

    row: Row
    completion: str
    prompt_id: str | None
    sample: int | None
    correct: bool | None
    reward: float | None


@dataclass
class Run:
    """The generations of one run, in file order, and where they came from.

    Attributes:
        name: How reports name the run.
        source: The file read.
        generations: Its rows.
        scored: How many rows got ``correct`` or ``reward`` from a reward rather than from the file.

    """

    name: str
    source: str
    generations: list[Generation]
    scored: int = 0

    @cached_property
    def prompts(self) -> dict[str, list[Generation]]:
        """Generations per ``prompt_id`` (in order of first appearance), each list ordered by ``sample``.

        Raises:
            InputError: A row has no ``prompt_id``, or two rows of a prompt have the same ``sample``.

        """
        groups: dict[str, list[Generation]] = {}
        for g in self.generations:
            if g.prompt_id is None:
                raise InputError(self.source, g.row.line, "missing (needed to group samples by prompt)", "prompt_id")
            groups.setdefault(g.prompt_id, []).append(g)
        for members in groups.values():
            _check_samples(self.source, members)
            members.sort(key=lambda g: -1 if g.sample is None else g.sample)
        return groups

    def require_correct(self) -> None:
        """Check that every row says whether it is correct.

        Raises:
            InputError: The first row without ``correct``.

        """
        for g in self.generations:
            if g.correct is None:
                raise InputError(
                    self.source, g.row.line, "missing; give --reward SPEC to score rows without it", "correct"
                )


def _check_samples(source: str, members: Sequence[Generation]) -> None:
    seen: dict[int, int] = {}
    for g in members:
        if g.sample is None:
            continue
        if g.sample in seen:
            raise InputError(
                source,
                g.row.line,
                f"{g.sample} repeats for prompt '{g.prompt_id}' (also line {seen[g.sample]})",
                "sample",
            )
        seen[g.sample] = g.row.line


def read_generations(source: str | os.PathLike[str]) -> list[Generation]:
    r"""Read and check a generations JSONL file.

    Raises:
        InputError: The file cannot be read, or a row's field has the wrong type (reported as ``file:line``).

    Example:
        >>> import json, tempfile
        >>> with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        ...     _ = f.write(json.dumps({"prompt_id": 7, "completion": "4", "correct": True}) + "\n")
        >>> [(g.prompt_id, g.completion, g.correct) for g in read_generations(f.name)]
        [('7', '4', True)]

    """
    name = source_name(source)
    return [_generation(row, name) for row in read_jsonl(source)]


def _generation(row: Row, source: str) -> Generation:
    data = row.data
    require_text(row, "completion", source)
    prompt_id = data.get("prompt_id")
    if prompt_id is not None and (isinstance(prompt_id, bool) or not isinstance(prompt_id, (str, int))):
        raise InputError(source, row.line, f"expected a string or an integer, got {_kind(prompt_id)}", "prompt_id")
    sample = data.get("sample")
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, int)):
        raise InputError(source, row.line, f"expected an integer, got {_kind(sample)}", "sample")
    correct = data.get("correct")
    if correct is not None and not (isinstance(correct, bool) or correct in (0, 1)):
        raise InputError(source, row.line, f"expected true or false, got {_kind(correct)}", "correct")
    reward = data.get("reward")
    if reward is not None and (
        isinstance(reward, bool) or not isinstance(reward, (int, float)) or not math.isfinite(reward)
    ):
        raise InputError(source, row.line, f"expected a finite number or null, got {_kind(reward)}", "reward")
    return Generation(
        row=row,
        completion=to_text(data["completion"]),
        prompt_id=None if prompt_id is None else str(prompt_id),
        sample=sample,
        correct=None if correct is None else bool(correct),
        reward=None if reward is None else float(reward),
    )


def _kind(value: Any) -> str:
    return repr(value) if isinstance(value, (str, int, float, bool)) else type(value).__name__


def resolve_run(name: str, runs_dir: str | os.PathLike[str] = "runs") -> Path:
    """Find a run's file from what the user typed.

    ``name`` itself if it is a file, ``name/generations.jsonl`` if a directory, else
    ``runs_dir/name/generations.jsonl``.

    Raises:
        RunError: None of these exists.

    """
    path = Path(name)
    if path.is_file():
        return path
    if path.is_dir() and (path / GENERATIONS).is_file():
        return path / GENERATIONS
    candidate = Path(runs_dir) / name / GENERATIONS
    if candidate.is_file():
        return candidate
    raise RunError(f"run '{name}' not found: it is not a file, and {candidate} does not exist")


def run_name(path: Path) -> str:
    """A run's name: its directory's for ``NAME/generations.jsonl``, else the file's stem."""
    return path.parent.name if path.name == GENERATIONS else path.stem


def load_runs(names: Sequence[str], runs_dir: str | os.PathLike[str] = "runs") -> list[Run]:
    """Resolve and read runs; each is named by :func:`run_name`, or as given when names clash."""
    paths = [resolve_run(name, runs_dir) for name in names]
    labels = [run_name(p) for p in paths]
    if len(set(labels)) < len(labels):
        labels = list(names)
    return [Run(label, str(path), read_generations(path)) for label, path in zip(labels, paths)]


def score_missing(run: Run, reward: Reward, threshold: float) -> None:
    """Fill in ``reward`` (and ``correct`` as reward ≥ ``threshold``) for the rows of ``run`` that lack them.

    A row whose reward is None (the reward does not apply) counts as not correct.

    Raises:
        InputError: A row lacks a column the reward needs, or the reward rejects a value.

    """
    todo = [g for g in run.generations if g.correct is None or g.reward is None]
    if not todo:
        return
    rows = [g.row for g in todo]
    validate_rows(rows, reward, run.source)
    for g, s in zip(todo, score_rows(rows, reward, run.source)):
        if g.reward is None:
            g.reward = s.value
        if g.correct is None:
            g.correct = s.value is not None and s.value >= threshold
    run.scored = len(todo)


def check_paired(runs: Sequence[Run]) -> None:
    """Check that every run has the first run's prompts, with as many samples of each.

    Raises:
        RunError: Naming the prompts that one run lacks or adds, or the first prompt whose sample count differs.
        InputError: A row without ``prompt_id``.

    """
    first = runs[0]
    reference = first.prompts
    for other in runs[1:]:
        prompts = other.prompts
        missing = [p for p in reference if p not in prompts]
        extra = [p for p in prompts if p not in reference]
        problems = []
        if missing:
            problems.append(f"{other.name} lacks {_listing(missing)} of {first.name}")
        if extra:
            problems.append(f"{other.name} has {_listing(extra)} that {first.name} lacks")
        if problems:
            raise RunError(f"runs do not share prompts: {'; '.join(problems)}")
        for prompt, members in reference.items():
            if len(prompts[prompt]) != len(members):
                raise RunError(
                    f"runs differ in samples per prompt: prompt '{prompt}' has {len(members)} in {first.name} "
                    f"({first.source}) and {len(prompts[prompt])} in {other.name} ({other.source})"
                )


def _listing(prompts: Sequence[str]) -> str:
    shown = ", ".join(f"'{p}'" for p in prompts[:SHOWN])
    more = f" and {len(prompts) - SHOWN} more" if len(prompts) > SHOWN else ""
    noun = "prompt" if len(prompts) == 1 else "prompts"
    return f"{len(prompts)} {noun} ({shown}{more})"
