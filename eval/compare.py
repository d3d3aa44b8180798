"""Compare runs over the same prompts: every metric per prompt, then per run, then paired against the first run.

Each metric is reduced to one value per prompt (its pass@k, the correctness of its first sample, its mean reward,
the Self-BLEU and distinct-n of its samples; see :mod:`eval.aggregate`), so every run gets a mean with a bootstrap
interval over prompts and every later run a paired test against the first: a paired bootstrap over prompts, and
McNemar's test for the single-sample correctness.

With three or more runs, each metric's p-values (one per run tested against the first) are adjusted by Holm's
step-down method (Holm 1979) and the winner is called on the adjusted p. The family is one metric's comparisons,
not the whole table: each metric answers its own question ("does any run differ from the baseline on pass@1?"),
and the metrics of one table are strongly dependent (pass@1, pass@5 and pass@10 move together), so correcting over
all of them would make every metric added to the report weaken every other one.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from eval.aggregate import DISTINCT_ORDERS, NO_PROMPT, Run
from eval.passk import PassAtK, mean_pass_at_k, pass_at_k
from eval.runs import Provenance, RunError, listing
from eval.stats import Estimate, PairedTest, holm, mcnemar, mean_estimate, paired_bootstrap
from rewardlab import __version__
from rewardlab.metrics.selfbleu import signature as self_bleu_signature
from rewardlab.metrics.tokens import DEFAULT_TOKENIZER

#: pass@k reported when no k is asked for; those above the samples per prompt are left out, with a note.
DEFAULT_KS = (1, 5, 10)
#: A difference is called for one run when its p-value is below this.
ALPHA = 0.05
CONFIDENCE = 0.95
#: How p-values are adjusted when several runs are tested against the first.
MULTIPLE_COMPARISONS = "Holm step-down over the runs tested against the first, per metric"
#: Below this many prompts, a note says the bootstrap intervals and p-values are unreliable.
FEW_PROMPTS = 10
#: pass@k curves are drawn for every k up to this; beyond, for powers of two and the requested k.
CURVE_EVERY_K_UP_TO = 32


@dataclass
class MetricResult:
    """One metric for every run, and each later run's paired test against the first.

    Attributes:
        name: ``pass@5``, ``Self-BLEU``, …
        better: ``higher`` or ``lower``.
        note: What the value is computed over.
        estimates: Per run name, the mean over prompts with its interval.
        tests: Per later run name, its test against the first run.
        adjusted: Per later run name, its p-value adjusted for the comparisons of this metric (Holm); the raw
            p-value when there is one comparison.

    """

    name: str
    better: str
    note: str
    estimates: dict[str, Estimate]
    tests: dict[str, PairedTest]
    adjusted: dict[str, float] = field(default_factory=dict)

    def winner(self, baseline: str, other: str, alpha: float = ALPHA) -> str | None:
        """The better run on this metric, or None when the difference is not significant at ``alpha`` (adjusted p)."""
        test = self.tests[other]
        p_value = self.adjusted.get(other, test.p_value)
        if not p_value < alpha or test.difference == 0:
            return None
        other_higher = test.difference > 0
        return other if other_higher == (self.better == "higher") else baseline


@dataclass
class RunInfo:
    """What a report says of a run once its per-prompt values are reduced (they are not kept, to spare memory)."""

    name: str
    source: str
    rows: int
    provenance: Provenance


@dataclass
class PerPrompt:
    """Each prompt's pass rate (correct samples / samples) in every run, prompts in the first run's order."""

    ids: list[str]
    samples: list[int]
    correct: dict[str, list[int]]

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready row per prompt: ``prompt_id``, ``samples``, ``correct`` and ``pass_rate`` per run."""
        return [
            {
                "prompt_id": prompt,
                "samples": n,
                "correct": {run: counts[i] for run, counts in self.correct.items()},
                "pass_rate": {run: counts[i] / n for run, counts in self.correct.items()},
            }
            for i, (prompt, n) in enumerate(zip(self.ids, self.samples, strict=True))
        ]


@dataclass
class Comparison:
    """Everything a report shows: the runs, the metrics, pass@k against k, the settings, and notes."""

    runs: list[RunInfo]
    prompts: int
    samples: int
    metrics: list[MetricResult]
    pass_curves: dict[str, list[tuple[int, Estimate]]]
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    per_prompt: PerPrompt | None = None

    @property
    def baseline(self) -> str:
        """The first run, which every other run is compared with."""
        return self.runs[0].name

    def signature(self) -> str:
        """A sacrebleu-style signature of the settings that produced the numbers."""
        s = self.settings
        parts = [
            "evalkit",
            f"k:{','.join(map(str, s['k']))}",
            f"boot:{s['n_boot']}",
            f"seed:{s['seed']}",
            f"conf:{s['confidence']}",
            f"alpha:{s['alpha']}",
            f"tok:{s['tokenize']}",
            f"version:{__version__}",
        ]
        return "|".join(parts)


def choose_ks(run: Run, ks: Sequence[int] | None) -> tuple[list[int], str | None]:
    """The k values to report and a note on those left out.

    Asked-for k values are all kept (a k above a prompt's samples is then an error, never a silent 1.0 or a
    silently dropped k); with ``ks=None`` the :data:`DEFAULT_KS` that the fewest samples per prompt allow are kept.
    """
    if ks is not None:
        return list(ks), None
    fewest = int(run.samples.min())
    left_out = [k for k in DEFAULT_KS if k > fewest]
    note = f"{', '.join(f'pass@{k}' for k in left_out)} not reported: a prompt has only {fewest} samples"
    return [k for k in DEFAULT_KS if k <= fewest], note if left_out else None


def run_pass_at_k(run: Run, ks: Sequence[int], *, n_boot: int = 1000, seed: int = 0) -> list[PassAtK]:
    """pass@k of one run for each k: per prompt (from its samples' ``correct``), then the mean over prompts.

    Raises:
        RunError: A prompt has fewer than k samples.

    """
    for k in ks:
        _check_k(run, k)
    samples, correct = run.samples.tolist(), run.correct.tolist()
    return [mean_pass_at_k(samples, correct, k, n_boot=n_boot, seed=seed) for k in ks]


def _check_k(run: Run, k: int) -> None:
    short = np.flatnonzero(run.samples < k)
    if short.size:
        prompt = short[0]
        raise RunError(
            f"pass@{k} needs at least {k} samples per prompt; prompt '{run.ids[prompt]}' of {run.name} ({run.source}) "
            f"has {run.samples[prompt]}: use --k values up to {run.samples.min()}"
        )


def check_paired(runs: Sequence[Run]) -> list[np.ndarray]:
    """Check that every run has the first run's prompts, with as many samples and the same prompt text.

    Returns:
        For each run, the positions of the first run's prompts in its arrays.

    Raises:
        RunError: Naming the prompts that one run lacks or adds, or the first prompt whose sample count or prompt
            text differs.

    """
    first = runs[0]
    position = {prompt: i for i, prompt in enumerate(first.ids)}
    orders = [np.arange(len(first.ids))]
    for other in runs[1:]:
        order = np.full(len(first.ids), -1, dtype=np.int64)
        extra = []
        for j, prompt in enumerate(other.ids):
            i = position.get(prompt)
            if i is None:
                extra.append(prompt)
            else:
                order[i] = j
        missing = [first.ids[i] for i in np.flatnonzero(order < 0).tolist()]
        problems = []
        if missing:
            problems.append(f"{other.name} lacks {listing(missing)} of {first.name}")
        if extra:
            problems.append(f"{other.name} has {listing(extra)} that {first.name} lacks")
        if problems:
            raise RunError(f"runs do not share prompts: {'; '.join(problems)}")
        differ = np.flatnonzero(other.samples[order] != first.samples)
        if differ.size:
            i = differ[0]
            raise RunError(
                f"runs differ in samples per prompt: prompt '{first.ids[i]}' has {first.samples[i]} in {first.name} "
                f"({first.source}) and {other.samples[order[i]]} in {other.name} ({other.source})"
            )
        mine, theirs = first.digests, other.digests[order]
        texts_differ = np.flatnonzero((mine != NO_PROMPT) & (theirs != NO_PROMPT) & (mine != theirs))
        if texts_differ.size:
            i = texts_differ[0]
            raise RunError(
                f"runs differ in prompt text: prompt_id '{first.ids[i]}' has one text in {first.name} "
                f"({first.source}:{first.first_lines[i]}) and another in {other.name} "
                f"({other.source}:{other.first_lines[order[i]]}); were they sampled from the same prompts file?"
            )
        orders.append(order)
    return orders


def compare_runs(
    runs: Sequence[Run],
    *,
    ks: Sequence[int] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    per_prompt_rates: bool = False,
) -> Comparison:
    """Compute every metric for every run and test each later run against the first.

    Args:
        runs: Two or more runs (read with ``texts=True`` for Self-BLEU and distinct-n) over the same prompts with the
            same number of samples per prompt.
        ks: The k of pass@k; None for :data:`DEFAULT_KS` up to the samples per prompt (see :func:`choose_ks`).
        n_boot: Bootstrap resamples (over prompts) for intervals and paired tests.
        seed: Seed of the resampling; every metric uses the same resamples.
        per_prompt_rates: Keep each prompt's correct count in every run (:class:`PerPrompt`, for ``--per-prompt``).

    Returns:
        The comparison.

    Raises:
        RunError: Fewer than two runs, runs over different prompts, sample counts or prompt texts, or a k above the
            samples.

    """
    if len(runs) < 2:
        raise RunError(f"compare needs at least two runs, got {len(runs)}")
    orders = check_paired(runs)
    ks, note = choose_ks(runs[0], ks)
    notes = [note] if note else []
    if len(runs[0].ids) < FEW_PROMPTS:
        notes.append(f"only {len(runs[0].ids)} prompts: bootstrap intervals and p-values are unreliable")
    for run in runs:
        for k in ks:
            _check_k(run, k)
    aligned = {run.name: _Aligned(run, order) for run, order in zip(runs, orders, strict=True)}
    sample_counts = runs[0].samples.tolist()

    per_prompt: list[_PerPrompt] = []
    for k in ks:
        per_prompt.append(_PerPrompt(f"pass@{k}", "higher", _n_note(sample_counts), functools.partial(_pass_of, k=k)))
    note = "sample with the lowest index of each prompt"
    per_prompt.append(_PerPrompt("accuracy, first sample", "higher", note, _first_correct, binary=True))
    if all(run.reward_mean is not None for run in runs):
        per_prompt.append(_PerPrompt("mean reward", "higher", "mean over a prompt's samples", _reward_mean))
    else:
        notes.append("mean reward not reported: some rows have no reward (add a reward column or give --reward)")
    per_prompt += _component_metrics(runs, notes)
    if min(sample_counts) >= 2:
        per_prompt.append(_PerPrompt("Self-BLEU", "lower", "among a prompt's samples", _self_bleu))
        if len(set(sample_counts)) > 1:
            notes.append("prompts have different sample counts; Self-BLEU rises with the count")
    else:
        notes.append("Self-BLEU not reported: it needs at least two samples per prompt")
    for n in DISTINCT_ORDERS:
        note = "distinct/all n-grams among a prompt's samples"
        per_prompt.append(_PerPrompt(f"distinct-{n}", "higher", note, functools.partial(_distinct, n=n)))

    metrics = [_metric(metric, aligned, n_boot, seed) for metric in per_prompt]
    # The first len(ks) metrics are pass@k: the curve reuses their estimates rather than bootstrapping them again.
    curves = {
        run.name: _pass_curve(
            aligned[run.name], {k: metrics[i].estimates[run.name] for i, k in enumerate(ks)}, n_boot, seed
        )
        for run in runs
    }
    settings = {
        "k": list(ks),
        "n_boot": n_boot,
        "seed": seed,
        "confidence": CONFIDENCE,
        "alpha": ALPHA,
        "tokenize": DEFAULT_TOKENIZER,
        "self_bleu": self_bleu_signature(),
        "distinct": "distinct n-grams / all n-grams among a prompt's samples, mean over prompts",
        "resampling": "prompts, with replacement; the same resamples for every metric",
    }
    if len(runs) > 2:
        settings["multiple_comparisons"] = MULTIPLE_COMPARISONS
    infos = [RunInfo(run.name, run.source, run.rows, run.provenance) for run in runs]
    rates = None
    if per_prompt_rates:
        correct = {name: a.correct for name, a in aligned.items()}
        rates = PerPrompt(list(runs[0].ids), sample_counts, correct)
    return Comparison(infos, len(runs[0].ids), max(sample_counts), metrics, curves, settings, notes, rates)


def _component_metrics(runs: Sequence[Run], notes: list[str]) -> list[_PerPrompt]:
    """One metric per reward component that every run carries (mean over a prompt's samples), in the first's order."""
    shared = [name for name in runs[0].components if all(name in run.components for run in runs)]
    partial = sorted({name for run in runs for name in run.components} - set(shared))
    if partial:
        notes.append(f"components not compared (not in every run, or missing in some rows): {', '.join(partial)}")
    note = "reward component, mean over a prompt's samples"
    return [
        _PerPrompt(f"component {name}", "higher", note, functools.partial(_component, name=name)) for name in shared
    ]


class _Aligned:
    """A run's per-prompt arrays taken in the first run's prompt order."""

    def __init__(self, run: Run, order: np.ndarray) -> None:
        self.run = run
        self.order = order
        self.samples = run.samples[order].tolist()
        self.correct = run.correct[order].tolist()

    def take(self, values: np.ndarray) -> np.ndarray:
        return values[self.order]

    def pass_values(self, k: int) -> np.ndarray:
        return np.fromiter(
            (pass_at_k(n, c, k) for n, c in zip(self.samples, self.correct, strict=True)),
            dtype=float,
            count=len(self.samples),
        )


def _n_note(sample_counts: Sequence[int]) -> str:
    low, high = min(sample_counts), max(sample_counts)
    return f"n={low}" if low == high else f"n={low}-{high}"


class _PerPrompt(NamedTuple):
    """A metric, and how to take its value per prompt from a run; binary values (0/1) get McNemar's test.

    Values are numpy arrays, taken for one metric at a time: at a million prompts a metric's arrays are megabytes.
    """

    name: str
    better: str
    note: str
    values_of: Callable[[_Aligned], np.ndarray]
    binary: bool = False


def _pass_of(aligned: _Aligned, k: int) -> np.ndarray:
    return aligned.pass_values(k)


def _first_correct(aligned: _Aligned) -> np.ndarray:
    return aligned.take(aligned.run.first_correct).astype(float)


def _reward_mean(aligned: _Aligned) -> np.ndarray:
    assert aligned.run.reward_mean is not None
    return aligned.take(aligned.run.reward_mean)


def _component(aligned: _Aligned, name: str) -> np.ndarray:
    return aligned.take(aligned.run.components[name])


def _self_bleu(aligned: _Aligned) -> np.ndarray:
    assert aligned.run.self_bleu is not None
    return aligned.take(aligned.run.self_bleu)


def _distinct(aligned: _Aligned, n: int) -> np.ndarray:
    return aligned.take(aligned.run.distinct[n])


def _metric(metric: _PerPrompt, aligned: dict[str, _Aligned], n_boot: int, seed: int) -> MetricResult:
    options = {"n_boot": n_boot, "seed": seed, "confidence": CONFIDENCE}
    values = {name: metric.values_of(a) for name, a in aligned.items()}
    baseline, *others = values
    estimates = {name: mean_estimate(v, **options) for name, v in values.items()}
    base = values[baseline]
    tests = {}
    for name in others:
        test = paired_bootstrap(base, values[name], **options)
        if metric.binary:
            exact = mcnemar(base == 1.0, values[name] == 1.0)
            interval = {"ci_low": test.ci_low, "ci_high": test.ci_high}
            test = dataclasses.replace(exact, **interval, details={**exact.details, "ci": test.details})
        tests[name] = test
    adjusted = dict(zip(tests, holm([test.p_value for test in tests.values()]), strict=True))
    return MetricResult(metric.name, metric.better, metric.note, estimates, tests, adjusted)


def _pass_curve(aligned: _Aligned, known: dict[int, Estimate], n_boot: int, seed: int) -> list[tuple[int, Estimate]]:
    """pass@k against k on a grid of k, plus the k already estimated (``known``, reused as they are)."""
    fewest = min(aligned.samples)
    if fewest <= CURVE_EVERY_K_UP_TO:
        grid = set(range(1, fewest + 1))
    else:
        grid = {2**i for i in range(fewest.bit_length()) if 2**i <= fewest} | {fewest}
    return [
        (
            k,
            known[k]
            if k in known
            else mean_estimate(aligned.pass_values(k), n_boot=n_boot, seed=seed, confidence=CONFIDENCE),
        )
        for k in sorted(grid | set(known))
    ]
