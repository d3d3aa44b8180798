"""A run reduced to per-prompt statistics in one streamed pass, in memory bounded by one bucket of prompts.

``passk``, ``accuracy`` and ``compare`` need, per prompt, only: the samples n, the correct count c, the correctness
of the first sample, the mean reward, and the Self-BLEU and distinct-n of its samples. Rows are read once, checked,
and filed by prompt (:mod:`eval.buckets`, so the file need not be sorted by ``prompt_id``); then each bucket is
scored with ``--reward`` where rows lack ``correct`` or ``reward`` (whole prompt groups, so group-level rewards see
them whole) and reduced to its prompts' statistics, and its rows are dropped. What stays in memory is one bucket of
rows plus a few numbers per prompt (its id, first line, prompt-text digest and statistics): O(prompts), not O(rows).
``accuracy`` also takes runs where some row has no ``prompt_id``; each row is then a unit of its own, and what stays
is three typed numbers per row, 17 bytes (:func:`summarize_units`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eval.buckets import PromptBuckets, bucket_count
from eval.distinct import grouped_distinct_counts
from eval.progress import Progress
from eval.runs import Generation, Provenance, Scorer, fill_scores, to_generation
from rewardlab.engine.read import InputError, Row, iter_jsonl, source_name
from rewardlab.engine.validate import validate_rows
from rewardlab.metrics.grouping import group_means
from rewardlab.metrics.selfbleu import sentence_self_bleu
from rewardlab.metrics.tokens import token_ids

#: Orders of distinct-n computed per prompt.
DISTINCT_ORDERS = (1, 2)
#: Texts tokenized and scored (Self-BLEU, distinct-n) at a time, whole prompts: n-gram arrays grow with the texts.
SELF_BLEU_TEXTS = 8192
#: Without a terminal, a progress line is printed every this many rows.
PROGRESS_EVERY = 100_000
#: What a row without ``correct`` is told when no reward is given.
MISSING_CORRECT = "missing; give --reward SPEC to score rows without it"
#: Digest of a prompt's text kept per prompt to check that runs sampled the same prompts (0: the rows have none).
NO_PROMPT = 0

# Fields of a spooled record, a list so that scoring can fill in correct and reward.
_LINE, _ID, _SAMPLE, _CORRECT, _REWARD, _TEXT, _DIGEST, _DATA, _COMPONENTS = range(9)


@dataclass
class Run:
    """One run summarised per prompt; every array is aligned with ``ids`` (prompts in order of first appearance).

    Attributes:
        name: How reports name the run.
        source: The file read.
        rows: Rows read.
        ids: Each prompt's ``prompt_id``.
        first_lines: The line of each prompt's first row.
        samples: Samples (rows) of each prompt.
        correct: Correct samples of each prompt.
        first_correct: Whether the sample with the lowest ``sample`` index of each prompt is correct.
        reward_mean: Mean reward of each prompt's samples; None when some row has no reward.
        self_bleu: Self-BLEU of each prompt's samples; None when not computed or a prompt has a single sample.
        distinct: distinct-n of each prompt's samples by order n (empty when texts were not kept).
        digests: A 64-bit digest of each prompt's text (:data:`NO_PROMPT` where the rows have no ``prompt``).
        provenance: Where ``correct`` and ``reward`` came from.
        components: Mean of each reward component over each prompt's samples, for the components every row has.

    """

    name: str
    source: str
    rows: int
    ids: list[str]
    first_lines: np.ndarray
    samples: np.ndarray
    correct: np.ndarray
    first_correct: np.ndarray
    reward_mean: np.ndarray | None
    self_bleu: np.ndarray | None
    distinct: dict[int, np.ndarray]
    digests: np.ndarray
    provenance: Provenance = field(default_factory=Provenance)
    components: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Spool:
    """A run read once and filed by prompt, waiting to be scored and reduced by :func:`summarize`.

    ``checked`` says whether its prompts are checked (every row has a ``prompt_id``, samples do not repeat within a
    prompt, a prompt's rows share one text); ``by_row`` that some row has no ``prompt_id`` (only when unchecked).
    """

    name: str
    source: str
    rows: int
    buckets: PromptBuckets
    provenance: Provenance
    scorer: Scorer | None
    texts: bool
    checked: bool = True
    by_row: bool = False


def spool_run(
    path: str | os.PathLike[str],
    name: str,
    *,
    scorer: Scorer | None = None,
    texts: bool = False,
    checked: bool = True,
) -> Spool:
    """Read and check every row of a run, filing it by prompt; rows needing ``--reward`` keep their columns.

    Args:
        path: The generations file.
        name: The run's name.
        scorer: Scores rows that lack ``correct`` or ``reward``; without it such a row is an error.
        texts: Keep completions (for Self-BLEU and distinct-n).
        checked: Check the prompts as pass@k and paired runs need: every row has a ``prompt_id``, no ``sample``
            repeats within a prompt, a prompt's rows share one text. Accuracy needs none of this (False).

    Raises:
        InputError: A row's field has the wrong type, it lacks ``prompt_id`` (when checked), it lacks ``correct``
            and no scorer is given, or it lacks a column the reward needs (each named by file and line).

    """
    source = source_name(path)
    provenance = Provenance()
    buckets = PromptBuckets(bucket_count(path))
    rows = 0
    by_row = False
    try:
        with Progress(f"reading {name}", every=PROGRESS_EVERY) as progress:
            for row in iter_jsonl(path):
                g = to_generation(row, source)
                if g.prompt_id is None and checked:
                    raise InputError(source, row.line, "missing (needed to group samples by prompt)", "prompt_id")
                by_row = by_row or g.prompt_id is None
                needs = provenance.count(g.correct, g.reward, scoring=scorer is not None)
                if needs:
                    validate_rows([row], scorer.reward, source)
                elif g.correct is None:
                    raise InputError(source, row.line, MISSING_CORRECT, "correct")
                digest = _digest(row.data.get("prompt"))
                record = [
                    row.line,
                    g.prompt_id,
                    g.sample,
                    g.correct,
                    g.reward,
                    g.completion if texts else None,
                    digest,
                    row.data if needs else None,
                    _numbers(row.data.get("components")),
                ]
                buckets.add(_bucket_key(g, digest), record)
                rows += 1
                progress.update(1)
    except BaseException:
        buckets.close()
        raise
    return Spool(name, source, rows, buckets, provenance, scorer, texts, checked, by_row)


def summarize(spool: Spool) -> Run:
    """Score what a spooled run lacks and reduce it to per-prompt statistics, one bucket at a time.

    Raises:
        InputError: Two rows of a prompt share a ``sample``, rows of a prompt have different prompt texts (both
            when the spool is checked), or the reward rejects a value.

    """
    if spool.by_row:
        raise ValueError(f"{spool.source}: some rows have no prompt_id, so the run has no prompts to summarise")
    stats = _Collected(spool.texts, spool.checked)
    _reduce(spool, stats)
    return stats.run(spool)


@dataclass
class Units:
    """What accuracy needs of a run: each unit's share of correct rows and mean reward, units in file order.

    The units are the prompts when every row has a ``prompt_id`` (a prompt's samples are not independent), else the
    rows.

    Attributes:
        rows: Rows read.
        prompts: Prompts, when they are the units; None when the units are the rows.
        correct: Each unit's fraction of correct rows.
        reward: Each unit's mean reward; None when some row has no reward.

    """

    rows: int
    prompts: int | None
    correct: np.ndarray
    reward: np.ndarray | None


def summarize_units(spool: Spool) -> Units:
    """Score what a spooled run lacks and reduce it to :class:`Units`: per prompt, or per row when some row has no id.

    Raises:
        InputError: As :func:`summarize`.

    """
    if not spool.by_row:
        run = summarize(spool)
        return Units(run.rows, len(run.ids), run.correct / run.samples, run.reward_mean)
    rows = _PerRow()
    _reduce(spool, rows)
    return rows.units(spool.rows)


def _reduce(spool: Spool, stats: _Collected | _PerRow) -> None:
    """Score each bucket's rows that need ``--reward`` and hand the bucket to ``stats``; the buckets are then gone."""
    with spool.buckets, Progress(f"summarising {spool.name}", spool.rows, every=PROGRESS_EVERY) as progress:
        for records in spool.buckets:
            todo = [r for r in records if r[_DATA] is not None]
            if todo and spool.scorer is not None:  # only rows a scorer must score keep their data
                rows = [Row(r[_LINE], r[_DATA]) for r in todo]
                fill_scores([_Fields(r) for r in todo], rows, spool.scorer, spool.source, spool.provenance)
                for r in todo:
                    r[_DATA] = None
            stats.add_bucket(records, spool.source)
            progress.update(len(records))


def read_run(path: str | os.PathLike[str], name: str, *, scorer: Scorer | None = None, texts: bool = False) -> Run:
    """:func:`spool_run` and :func:`summarize` in one call."""
    return summarize(spool_run(path, name, scorer=scorer, texts=texts))


class _Fields:
    """A spooled record seen as the ``correct``/``reward`` attributes :func:`eval.runs.fill_scores` sets."""

    def __init__(self, record: list[Any]) -> None:
        self.record = record

    @property
    def correct(self) -> bool | None:
        return self.record[_CORRECT]

    @correct.setter
    def correct(self, value: bool) -> None:
        self.record[_CORRECT] = value

    @property
    def reward(self) -> float | None:
        return self.record[_REWARD]

    @reward.setter
    def reward(self, value: float | None) -> None:
        self.record[_REWARD] = value

    @property
    def components(self) -> dict[str, float] | None:
        return self.record[_COMPONENTS]

    @components.setter
    def components(self, value: dict[str, Any]) -> None:
        self.record[_COMPONENTS] = _numbers(value)


def _numbers(components: Any) -> dict[str, float] | None:
    """A row's numeric components (None, NaN and text left out), or None when it has none."""
    if not isinstance(components, dict):
        return None
    return {
        str(name): float(value)
        for name, value in components.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    }


def _bucket_key(g: Generation, digest: int) -> str:
    """A row's bucket: its ``prompt_id``; without one, its prompt's text digest, else its line.

    Rows of one prompt text share a bucket, so a group-level reward scoring the bucket sees all of them, as
    :func:`rewardlab.reward.group_keys` groups rows without ``prompt_id``.
    """
    if g.prompt_id is not None:
        return g.prompt_id
    return f"{digest or g.row.line}"


def _digest(prompt: Any) -> int:
    if isinstance(prompt, str):
        text = prompt
    elif isinstance(prompt, list):
        text = json.dumps(prompt, sort_keys=True, ensure_ascii=False)
    else:
        return NO_PROMPT
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


def _sample_key(record: list[Any]) -> int:
    return -1 if record[_SAMPLE] is None else record[_SAMPLE]


class _Collected:
    """Per-prompt statistics gathered bucket by bucket, in typed arrays (a few bytes per prompt each)."""

    def __init__(self, texts: bool, checked: bool) -> None:
        self.texts = texts
        self.checked = checked
        # The ids are packed (UTF-8 end to end) until the run is built: kept as strings, 250k small objects made
        # among each bucket's transient rows pinned ~30 MiB of freed heap at 1M rows per run.
        self._id_bytes = bytearray()
        self._id_ends = array("q")
        self.first_lines = array("q")
        self.samples = array("q")
        self.correct = array("q")
        self.first_correct = array("b")
        self.reward_mean = array("d")
        self.rewards_complete = True
        self.self_bleu = array("d")
        self.distinct = {n: array("d") for n in DISTINCT_ORDERS}
        self.digests = array("Q")
        self.components: dict[str, array] = {}
        self.incomplete: set[str] = set()
        self._texts: list[str] = []
        self._sizes: list[int] = []

    def add_bucket(self, records: Sequence[list[Any]], source: str) -> None:
        """Reduce one bucket's rows (every row of its prompts) to the prompts' statistics."""
        groups: dict[str, list[list[Any]]] = {}
        for record in records:
            groups.setdefault(record[_ID], []).append(record)
        for prompt, members in groups.items():
            if self.checked:
                _check_samples(source, prompt, members)
            rewards = [r[_REWARD] for r in members]  # in file order: a bucket keeps its rows in the order read
            if None in rewards:
                self.rewards_complete = False
            self.reward_mean.append(math.fsum(rewards) / len(members) if self.rewards_complete else math.nan)
            self._add_components(members)
            members.sort(key=_sample_key)
            self._id_bytes += prompt.encode("utf-8", "surrogatepass")
            self._id_ends.append(len(self._id_bytes))
            self.first_lines.append(min(r[_LINE] for r in members))
            self.samples.append(len(members))
            self.correct.append(sum(bool(r[_CORRECT]) for r in members))
            self.first_correct.append(bool(members[0][_CORRECT]))
            self.digests.append(_prompt_digest(source, prompt, members) if self.checked else NO_PROMPT)
            if self.texts:
                self._add_texts([r[_TEXT] for r in members])
        self._score_texts()

    def _add_components(self, members: Sequence[list[Any]]) -> None:
        """Each component's mean over one prompt's rows; a component some row lacks is dropped for the whole run."""
        seen = dict.fromkeys([*self.components, *(n for r in members for n in (r[_COMPONENTS] or {}))])
        for name in [n for n in seen if n not in self.incomplete]:
            values = [(r[_COMPONENTS] or {}).get(name) for r in members]
            if None in values or (name not in self.components and len(self.samples)):
                self.incomplete.add(name)
                self.components.pop(name, None)
            else:
                self.components.setdefault(name, array("d")).append(math.fsum(values) / len(values))

    def _add_texts(self, texts: list[str]) -> None:
        self._texts.extend(texts)
        self._sizes.append(len(texts))
        if len(self._texts) >= SELF_BLEU_TEXTS:
            self._score_texts()

    def _score_texts(self) -> None:
        """Distinct-n and Self-BLEU of the prompts waiting for them (the last ones added), tokenized once.

        Every prompt gets distinct-n (0.0 without n-grams); Self-BLEU needs two samples, else it stays NaN.
        """
        if not self._texts:
            return
        tokens = token_ids(self._texts)
        sizes = np.array(self._sizes)
        groups = np.repeat(np.arange(len(sizes)), sizes)
        for n, (unique, total) in grouped_distinct_counts(tokens, groups, DISTINCT_ORDERS).items():
            self.distinct[n].extend(np.divide(unique, total, out=np.zeros(len(sizes)), where=total > 0).tolist())
        bleu = np.full(len(sizes), math.nan)
        several = sizes >= 2
        if several.any():
            labels = np.repeat(np.arange(int(several.sum())), sizes[several])
            scores = sentence_self_bleu(tokens.select(several[groups]), groups=labels)
            bleu[several] = group_means(scores, labels)
        self.self_bleu.extend(bleu.tolist())
        self._texts, self._sizes = [], []

    def _ids(self, order: np.ndarray) -> list[str]:
        """The prompt ids in ``order``, unpacked."""
        ends = self._id_ends
        starts = [0, *ends[:-1]]
        packed = bytes(self._id_bytes)
        return [packed[starts[i] : ends[i]].decode("utf-8", "surrogatepass") for i in order.tolist()]

    def run(self, spool: Spool) -> Run:
        """The statistics as numpy arrays in order of each prompt's first line."""
        order = np.argsort(np.frombuffer(self.first_lines, dtype=np.int64), kind="stable")

        def arranged(values: array) -> np.ndarray:
            return np.frombuffer(values, dtype=values.typecode)[order].copy() if len(values) else np.zeros(0)

        self_bleu = arranged(self.self_bleu) if self.texts else None
        return Run(
            name=spool.name,
            source=spool.source,
            rows=spool.rows,
            ids=self._ids(order),
            first_lines=arranged(self.first_lines),
            samples=arranged(self.samples),
            correct=arranged(self.correct),
            first_correct=arranged(self.first_correct).astype(bool),
            reward_mean=arranged(self.reward_mean) if self.rewards_complete else None,
            self_bleu=None if self_bleu is None or np.isnan(self_bleu).any() else self_bleu,
            distinct={n: arranged(values) for n, values in self.distinct.items()} if self.texts else {},
            digests=arranged(self.digests),
            provenance=spool.provenance,
            components={name: arranged(values) for name, values in self.components.items()},
        )


class _PerRow:
    """Each row's line, correctness and reward, for a run whose units are its rows: 17 bytes per row."""

    def __init__(self) -> None:
        self.lines = array("q")
        self.correct = array("b")
        self.reward = array("d")
        self.rewards_complete = True

    def add_bucket(self, records: Sequence[list[Any]], source: str) -> None:
        """Keep the line, correctness and reward of each of one bucket's rows."""
        for record in records:
            self.lines.append(record[_LINE])
            self.correct.append(bool(record[_CORRECT]))
            if record[_REWARD] is None:
                self.rewards_complete = False
                self.reward = array("d")
            elif self.rewards_complete:
                self.reward.append(record[_REWARD])

    def units(self, rows: int) -> Units:
        """The rows as units, in file order."""
        order = np.argsort(np.frombuffer(self.lines, dtype=np.int64), kind="stable")
        correct = np.frombuffer(self.correct, dtype=np.int8)[order].astype(float)
        reward = np.frombuffer(self.reward, dtype=np.float64)[order] if self.rewards_complete else None
        return Units(rows, None, correct, reward)


def _check_samples(source: str, prompt: str, members: Sequence[list[Any]]) -> None:
    seen: dict[int, int] = {}
    for r in members:
        sample = r[_SAMPLE]
        if sample is None:
            continue
        if sample in seen:
            raise InputError(
                source, r[_LINE], f"{sample} repeats for prompt '{prompt}' (also line {seen[sample]})", "sample"
            )
        seen[sample] = r[_LINE]


def _prompt_digest(source: str, prompt: str, members: Sequence[list[Any]]) -> int:
    """The digest of a prompt's text, checking that every row of the prompt that has a text has the same one."""
    first = None
    for r in sorted(members, key=lambda r: r[_LINE]):
        if r[_DIGEST] == NO_PROMPT:
            continue
        if first is None:
            first = r
        elif r[_DIGEST] != first[_DIGEST]:
            raise InputError(
                source, r[_LINE], f"differs from line {first[_LINE]}, another row of prompt_id '{prompt}'", "prompt"
            )
    return NO_PROMPT if first is None else first[_DIGEST]
