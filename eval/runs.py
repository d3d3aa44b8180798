"""Generation runs: find them, read their rows through rewardlab's JSONL reader, score rows that lack correctness.

A run is a directory holding ``generations.jsonl`` (``runs/baseline/generations.jsonl``) or any JSONL file. Each
row has ``completion`` (a string or chat messages) and usually ``prompt_id``, ``sample``, ``prompt``, ``correct``
(true/false) and ``reward`` (a number); rows without ``correct`` or ``reward`` can be scored with a rewardlab reward.

What *correct* means is the reward's own rule (:meth:`rewardlab.reward.Reward.correct`: ``math`` counts a row correct
when its ``math-accuracy`` part is 1, never because format points pushed the sum up; ``code`` when every test
passes). A reward without a rule (``engagement``, a user function) needs an explicit threshold on its value.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewardlab.describe import signature as reward_signature
from rewardlab.engine.read import InputError, Row, read_jsonl, source_name
from rewardlab.engine.score import score_rows
from rewardlab.engine.validate import require_text, validate_rows
from rewardlab.errors import RewardlabError
from rewardlab.reward import Reward, Score
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
    return [to_generation(row, name) for row in read_jsonl(source)]


def to_generation(row: Row, source: str) -> Generation:
    """Check one row's fields and type them.

    Raises:
        InputError: ``completion``, ``prompt_id``, ``sample``, ``correct`` or ``reward`` has the wrong type.

    """
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


def locate_runs(names: Sequence[str], runs_dir: str | os.PathLike[str] = "runs") -> list[tuple[str, Path]]:
    """Resolve runs to ``(label, file)``; each is labelled by :func:`run_name`, or as given when names clash.

    Raises:
        RunError: A run is not found, or two names are the same run (a run compared with itself).

    """
    paths = [resolve_run(name, runs_dir) for name in names]
    for index, path in enumerate(paths):
        for other in range(index):
            if path.resolve() == paths[other].resolve():
                same = f"'{names[other]}' and '{names[index]}' are the same run ({path})"
                raise RunError(f"{same}: compare different runs")
    labels = [run_name(p) for p in paths]
    if len(set(labels)) < len(labels):
        labels = list(names)
    return list(zip(labels, paths, strict=True))


def mixed_sources(provenances: Sequence[tuple[str, Provenance]]) -> list[str]:
    """Name each field (``correct``, ``reward``) that comes from the file for some rows and from --reward for others.

    One line per such field, naming a run of each side; empty when every field has one source.

    Example:
        >>> mixed_sources([("base", Provenance(correct_stored=4)), ("tuned", Provenance(correct_scored=4))])
        ['correct comes from the file in base and from --reward in tuned']

    """
    found = []
    for field in ("correct", "reward"):
        file_runs = [name for name, p in provenances if "file" in p.sources(field)]
        scored_runs = [name for name, p in provenances if "--reward" in p.sources(field)]
        if file_runs and scored_runs:
            found.append(f"{field} comes from the file in {file_runs[0]} and from --reward in {scored_runs[0]}")
    return found


def listing(prompts: Sequence[str]) -> str:
    """``2 prompts ('a', 'b')``, naming at most :data:`SHOWN` of them."""
    shown = ", ".join(f"'{p}'" for p in prompts[:SHOWN])
    more = f" and {len(prompts) - SHOWN} more" if len(prompts) > SHOWN else ""
    noun = "prompt" if len(prompts) == 1 else "prompts"
    return f"{len(prompts)} {noun} ({shown}{more})"


@dataclass(frozen=True)
class Scorer:
    """A reward and what makes a row it scores *correct*: the reward's own rule, or ``value >= threshold``.

    Build it with :func:`make_scorer`, which refuses a reward without a rule unless a threshold is given.

    Attributes:
        reward: The reward.
        threshold: When given, a row is correct when its value is at least this (the reward's rule is not used).

    """

    reward: Reward
    threshold: float | None = None

    def correct(self, score: Score) -> bool:
        """Whether a scored row counts as correct; a row the reward did not judge (value None) does not."""
        if self.threshold is not None:
            return score.value is not None and score.value >= self.threshold
        return self.reward.correct(score) is True

    @property
    def rule(self) -> str:
        """What correct means, in words: ``math-accuracy = 1`` or ``engagement >= 0.7 (--threshold)``."""
        if self.threshold is not None:
            return f"{self.reward.name} >= {self.threshold:g} (--threshold)"
        return str(self.reward.correct_rule())

    def settings(self) -> dict[str, Any]:
        """For reports: the reward's signature, the rule of correctness and the threshold (None: the rule)."""
        return {"signature": reward_signature(self.reward), "correct": self.rule, "threshold": self.threshold}


def make_scorer(reward: Reward, threshold: float | None) -> Scorer:
    """Pair a reward with its rule of correctness, or with ``threshold`` when one is given.

    Raises:
        RunError: The threshold is not a finite number, or the reward has no rule and no threshold is given.

    Example:
        >>> import rewardlab
        >>> make_scorer(rewardlab.get("math"), None).rule
        'math-accuracy = 1'
        >>> make_scorer(rewardlab.get("math-format"), None)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        eval.runs.RunError: reward 'math-format' has no rule for a correct row; give --threshold T ...

    """
    if threshold is not None and not math.isfinite(threshold):
        raise RunError(f"--threshold must be a finite number, got {threshold}")
    if threshold is None and reward.correct_rule() is None:
        raise RunError(
            f"reward '{reward.name}' has no rule for a correct row; give --threshold T (a row is correct when its "
            "reward is at least T)"
        )
    return Scorer(reward, threshold)


@dataclass
class Provenance:
    """Where the ``correct`` and ``reward`` of a run's rows came from: the file, or the reward given to evalkit.

    Attributes:
        correct_stored: Rows whose ``correct`` is in the file.
        correct_scored: Rows whose ``correct`` the reward decided.
        reward_stored: Rows whose ``reward`` is in the file.
        reward_scored: Rows whose ``reward`` the reward gave.
        scored: Rows the reward scored (for either field).
        unjudged: Scored rows the reward did not judge (value None); they count as not correct.

    """

    correct_stored: int = 0
    correct_scored: int = 0
    reward_stored: int = 0
    reward_scored: int = 0
    scored: int = 0
    unjudged: int = 0

    def count(self, correct: bool | None, reward: float | None, scoring: bool) -> bool:
        """Count one row as read; return whether the reward must score it."""
        needs = scoring and (correct is None or reward is None)
        self.correct_stored += correct is not None
        self.reward_stored += reward is not None
        self.correct_scored += needs and correct is None
        self.reward_scored += needs and reward is None
        self.scored += needs
        return needs

    def sources(self, field: str) -> list[str]:
        """Where ``field`` (``correct`` or ``reward``) came from: ``file``, ``--reward``, or both."""
        stored, scored = getattr(self, f"{field}_stored"), getattr(self, f"{field}_scored")
        return [name for name, count in (("file", stored), ("--reward", scored)) if count]

    def describe(self) -> str:
        """One line: ``correct from the file (200 rows); reward scored by --reward (200 rows)``."""
        parts = []
        for field in ("correct", "reward"):
            stored, scored = getattr(self, f"{field}_stored"), getattr(self, f"{field}_scored")
            where = [f"from the file ({stored} rows)"] if stored else []
            where += [f"scored by --reward ({scored} rows)"] if scored else []
            parts.append(f"{field} {' and '.join(where) or 'absent'}")
        unjudged = f"; {self.unjudged} rows not judged by the reward count as not correct" if self.unjudged else ""
        return "; ".join(parts) + unjudged


def fill_scores(
    items: Sequence[Any],
    rows: Sequence[Row],
    scorer: Scorer,
    source: str,
    provenance: Provenance,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Score ``rows`` and set the missing ``correct`` and ``reward`` of the matching ``items`` (Generations or alike).

    Raises:
        InputError: The reward rejected a column's type or value.

    """
    for item, s in zip(items, score_rows(rows, scorer.reward, source, progress), strict=True):
        if item.reward is None:
            item.reward = s.value
        if item.correct is None:
            item.correct = scorer.correct(s)
        if getattr(item, "components", False) is None:
            item.components = s.components
        provenance.unjudged += s.value is None


def score_generations(generations: Sequence[Generation], scorer: Scorer, source: str) -> Provenance:
    """Fill in ``reward`` and ``correct`` (by the scorer's rule) for the generations that lack them.

    Raises:
        InputError: A row lacks a column the reward needs, or the reward rejects a value.

    """
    provenance = Provenance()
    todo = [g for g in generations if provenance.count(g.correct, g.reward, scoring=True)]
    if todo:
        rows = [g.row for g in todo]
        validate_rows(rows, scorer.reward, source)
        fill_scores(todo, rows, scorer, source, provenance)
    return provenance
