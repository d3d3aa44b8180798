"""Compare runs over the same prompts: every metric per prompt, then per run, then paired against the first run.

Each metric is reduced to one value per prompt (its pass@k, the correctness of its first sample, its mean reward,
the Self-BLEU and distinct-n of its samples), so every run gets a mean with a bootstrap interval over prompts and
every later run a paired test against the first: a paired bootstrap over prompts, and McNemar's test for the
single-sample correctness.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from eval.distinct import distinct_counts
from eval.passk import PassAtK, mean_pass_at_k, pass_at_k
from eval.runs import Generation, Run, RunError, check_paired
from eval.selfbleu import sentence_self_bleu
from eval.selfbleu import signature as self_bleu_signature
from eval.stats import Estimate, PairedTest, group_means, mcnemar, mean_estimate, paired_bootstrap
from eval.tokens import DEFAULT_TOKENIZER, tokenize
from rewardlab import __version__

#: pass@k reported when no k is asked for; those above the samples per prompt are left out, with a note.
DEFAULT_KS = (1, 5, 10)
#: A difference is called for one run when its p-value is below this.
ALPHA = 0.05
CONFIDENCE = 0.95
#: Orders of distinct-n reported.
DISTINCT_ORDERS = (1, 2)
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

    """

    name: str
    better: str
    note: str
    estimates: dict[str, Estimate]
    tests: dict[str, PairedTest]

    def winner(self, baseline: str, other: str, alpha: float = ALPHA) -> str | None:
        """The run that is better on this metric, or None when the difference is not significant at ``alpha``."""
        test = self.tests[other]
        if not test.p_value < alpha or test.difference == 0:
            return None
        other_higher = test.difference > 0
        return other if other_higher == (self.better == "higher") else baseline


@dataclass
class Comparison:
    """Everything a report shows: the runs, the metrics, pass@k against k, the settings, and notes."""

    runs: list[Run]
    prompts: int
    samples: int
    metrics: list[MetricResult]
    pass_curves: dict[str, list[tuple[int, Estimate]]]
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)

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

    Example:
        >>> from eval.runs import Generation, Run
        >>> from rewardlab.io import Row
        >>> run = Run("r", "r.jsonl", [Generation(Row(i, {}), "x", "p", i, True, None) for i in range(4)])
        >>> choose_ks(run, None)
        ([1], 'pass@5, pass@10 not reported: a prompt has only 4 samples')

    """
    if ks is not None:
        return list(ks), None
    fewest = min(len(members) for members in run.prompts.values())
    left_out = [k for k in DEFAULT_KS if k > fewest]
    note = f"{', '.join(f'pass@{k}' for k in left_out)} not reported: a prompt has only {fewest} samples"
    return [k for k in DEFAULT_KS if k <= fewest], note if left_out else None


def run_pass_at_k(run: Run, ks: Sequence[int], *, n_boot: int = 1000, seed: int = 0) -> list[PassAtK]:
    """pass@k of one run for each k: per prompt (from its samples' ``correct``), then the mean over prompts.

    Raises:
        RunError: A prompt has fewer than k samples.
        InputError: A row lacks ``prompt_id`` or ``correct``.

    """
    run.require_correct()
    groups = run.prompts
    samples = [len(members) for members in groups.values()]
    correct = [sum(g.correct for g in members) for members in groups.values()]
    for k in ks:
        _check_k(run, k)
    return [mean_pass_at_k(samples, correct, k, n_boot=n_boot, seed=seed) for k in ks]


def _check_k(run: Run, k: int) -> None:
    for prompt, members in run.prompts.items():
        if len(members) < k:
            fewest = min(len(m) for m in run.prompts.values())
            raise RunError(
                f"pass@{k} needs at least {k} samples per prompt; prompt '{prompt}' of {run.name} ({run.source}) "
                f"has {len(members)}: use --k values up to {fewest}"
            )


def compare_runs(
    runs: Sequence[Run], *, ks: Sequence[int] | None = None, n_boot: int = 1000, seed: int = 0
) -> Comparison:
    """Compute every metric for every run and test each later run against the first.

    Args:
        runs: Two or more runs over the same prompts with the same number of samples per prompt; every row
            needs ``correct`` (score rows first with :func:`eval.runs.score_missing`).
        ks: The k of pass@k; None for :data:`DEFAULT_KS` up to the samples per prompt (see :func:`choose_ks`).
        n_boot: Bootstrap resamples (over prompts) for intervals and paired tests.
        seed: Seed of the resampling; every metric uses the same resamples.

    Returns:
        The comparison.

    Raises:
        RunError: Fewer than two runs, runs over different prompts or sample counts, or a k above the samples.
        InputError: A row without ``prompt_id`` or ``correct``.

    """
    if len(runs) < 2:
        raise RunError(f"compare needs at least two runs, got {len(runs)}")
    check_paired(runs)
    ks, note = choose_ks(runs[0], ks)
    notes = [note] if note else []
    if len(runs[0].prompts) < FEW_PROMPTS:
        notes.append(f"only {len(runs[0].prompts)} prompts: bootstrap intervals and p-values are unreliable")
    for run in runs:
        run.require_correct()
        for k in ks:
            _check_k(run, k)
    order = list(runs[0].prompts)
    grouped = {run.name: [run.prompts[p] for p in order] for run in runs}
    sample_counts = [len(members) for members in grouped[runs[0].name]]

    per_prompt: list[_PerPrompt] = []
    for k in ks:
        values = {name: _pass_values(groups, k) for name, groups in grouped.items()}
        per_prompt.append(_PerPrompt(f"pass@{k}", "higher", _n_note(sample_counts), values))
    first = {name: [float(m[0].correct) for m in groups] for name, groups in grouped.items()}
    note = "sample with the lowest index of each prompt"
    per_prompt.append(_PerPrompt("accuracy, first sample", "higher", note, first, binary=True))
    if all(g.reward is not None for run in runs for g in run.generations):
        rewards = {name: [math.fsum(g.reward for g in m) / len(m) for m in groups] for name, groups in grouped.items()}
        per_prompt.append(_PerPrompt("mean reward", "higher", "mean over a prompt's samples", rewards))
    else:
        notes.append("mean reward not reported: some rows have no reward (add a reward column or give --reward)")
    if min(sample_counts) >= 2:
        values = {name: _self_bleu_per_prompt(groups) for name, groups in grouped.items()}
        per_prompt.append(_PerPrompt("Self-BLEU", "lower", "among a prompt's samples", values))
        if len(set(sample_counts)) > 1:
            notes.append("prompts have different sample counts; Self-BLEU rises with the count")
    else:
        notes.append("Self-BLEU not reported: it needs at least two samples per prompt")
    distinct = {name: _distinct_per_prompt(groups, DISTINCT_ORDERS) for name, groups in grouped.items()}
    for n in DISTINCT_ORDERS:
        values = {name: by_order[n] for name, by_order in distinct.items()}
        per_prompt.append(
            _PerPrompt(f"distinct-{n}", "higher", "distinct/all n-grams among a prompt's samples", values)
        )

    metrics = [_metric(metric, runs, n_boot, seed) for metric in per_prompt]
    # The first len(ks) metrics are pass@k: the curve reuses their estimates rather than bootstrapping them again.
    curves = {
        run.name: _pass_curve(
            grouped[run.name], {k: metrics[i].estimates[run.name] for i, k in enumerate(ks)}, n_boot, seed
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
    return Comparison(list(runs), len(order), max(sample_counts), metrics, curves, settings, notes)


def _n_note(sample_counts: Sequence[int]) -> str:
    low, high = min(sample_counts), max(sample_counts)
    return f"n={low}" if low == high else f"n={low}-{high}"


class _PerPrompt(NamedTuple):
    """A metric's value per prompt for every run; binary values (0/1) are tested with McNemar's test."""

    name: str
    better: str
    note: str
    values: dict[str, list[float]]
    binary: bool = False


def _metric(metric: _PerPrompt, runs: Sequence[Run], n_boot: int, seed: int) -> MetricResult:
    options = {"n_boot": n_boot, "seed": seed, "confidence": CONFIDENCE}
    estimates = {run.name: mean_estimate(metric.values[run.name], **options) for run in runs}
    base = metric.values[runs[0].name]
    tests = {}
    for run in runs[1:]:
        test = paired_bootstrap(base, metric.values[run.name], **options)
        if metric.binary:
            exact = mcnemar([v == 1.0 for v in base], [v == 1.0 for v in metric.values[run.name]])
            interval = {"ci_low": test.ci_low, "ci_high": test.ci_high}
            test = dataclasses.replace(exact, **interval, details={**exact.details, "ci": test.details})
        tests[run.name] = test
    return MetricResult(metric.name, metric.better, metric.note, estimates, tests)


def _self_bleu_per_prompt(groups: Sequence[Sequence[Generation]]) -> list[float]:
    texts = [g.completion for members in groups for g in members]
    labels = [i for i, members in enumerate(groups) for _ in members]
    return group_means(sentence_self_bleu(texts, groups=labels), labels).tolist()


def _distinct_per_prompt(groups: Sequence[Sequence[Generation]], orders: Sequence[int]) -> dict[int, list[float]]:
    """distinct-n of each prompt's samples for every order, tokenising each prompt's samples once."""
    values: dict[int, list[float]] = {n: [] for n in orders}
    for members in groups:
        tokens = tokenize([g.completion for g in members])
        for n in orders:
            unique, total = distinct_counts(tokens, n)
            values[n].append(unique / total if total else 0.0)
    return values


def _pass_curve(
    groups: Sequence[Sequence[Generation]], known: dict[int, Estimate], n_boot: int, seed: int
) -> list[tuple[int, Estimate]]:
    """pass@k against k on a grid of k, plus the k already estimated (``known``, reused as they are)."""
    fewest = min(len(members) for members in groups)
    if fewest <= CURVE_EVERY_K_UP_TO:
        grid = set(range(1, fewest + 1))
    else:
        grid = {2**i for i in range(fewest.bit_length()) if 2**i <= fewest} | {fewest}
    return [
        (
            k,
            known[k]
            if k in known
            else mean_estimate(_pass_values(groups, k), n_boot=n_boot, seed=seed, confidence=CONFIDENCE),
        )
        for k in sorted(grid | set(known))
    ]


def _pass_values(groups: Sequence[Sequence[Generation]], k: int) -> list[float]:
    return [pass_at_k(len(members), sum(g.correct for g in members), k) for members in groups]
