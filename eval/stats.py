"""Uncertainty and significance, kept apart from the metrics: bootstrap intervals, paired bootstrap, McNemar.

Everything resamples *prompts* (units), not rows: samples of one prompt are correlated, so a prompt's samples are
first reduced to one value per prompt (its pass@k, its accuracy, its Self-BLEU) and intervals and tests are taken
over prompts. Resampling is seeded and every function with the same seed and the same number of prompts draws the
same resamples, so the metrics of one comparison are tested on the same bootstrap samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Resamples drawn at once are capped at this many indices, which bounds memory for large evaluations.
CHUNK_INDICES = 4_000_000
#: Below this many discordant pairs McNemar's test uses the exact binomial distribution (Fagerland et al., 2013).
MCNEMAR_EXACT_BELOW = 25


@dataclass
class Estimate:
    """A mean over units (usually prompts) with its standard error and a percentile bootstrap interval.

    Attributes:
        value: The mean.
        stderr: Sample standard deviation / √n (0 for a single unit).
        ci_low: Lower end of the bootstrap interval.
        ci_high: Upper end of the bootstrap interval.
        n: Number of units.
        confidence: Coverage of the interval.

    """

    value: float
    stderr: float
    ci_low: float
    ci_high: float
    n: int
    confidence: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "value": self.value,
            "stderr": self.stderr,
            "ci": [self.ci_low, self.ci_high],
            "confidence": self.confidence,
            "units": self.n,
        }


@dataclass
class PairedTest:
    """The difference between two runs on the same units (second minus first), its interval and its p-value.

    Attributes:
        difference: Statistic of the second run minus that of the first.
        ci_low: Lower end of the paired bootstrap interval of the difference.
        ci_high: Upper end of that interval.
        p_value: Two-sided p-value of "no difference".
        test: The test that gave the p-value.
        details: What the test counted (resamples, seed, discordant pairs, …).

    """

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "difference": self.difference,
            "ci": [self.ci_low, self.ci_high],
            "p_value": self.p_value,
            "test": self.test,
            "details": self.details,
        }


def bootstrap_indices(n_units: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Yield ``(rows, n_units)`` blocks of unit indices drawn with replacement, ``n_boot`` rows in all.

    The draws depend only on ``n_units``, ``n_boot`` and ``seed``.
    """
    rng = np.random.default_rng(seed)
    per_block = max(1, CHUNK_INDICES // max(n_units, 1))
    for start in range(0, n_boot, per_block):
        yield rng.integers(0, n_units, size=(min(per_block, n_boot - start), n_units))


def _interval(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return float(low), float(high)


def mean_estimate(values: Sequence[float], *, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95) -> Estimate:
    """Mean of per-unit values with its standard error and a percentile bootstrap interval (Efron & Tibshirani 1993).

    Args:
        values: One value per unit (prompt).
        n_boot: Bootstrap resamples.
        seed: Seed of the resampling.
        confidence: Coverage of the interval.

    Returns:
        The estimate.

    Example:
        >>> e = mean_estimate([0.0, 1.0, 1.0, 1.0])
        >>> e.value, round(e.stderr, 4), e.n
        (0.75, 0.25, 4)

    """
    data = _units(values)
    n = len(data)
    stderr = float(np.std(data, ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    draws = np.concatenate([data[idx].mean(axis=1) for idx in bootstrap_indices(n, n_boot, seed)])
    return Estimate(float(data.mean()), stderr, *_interval(draws, confidence), n, confidence)


def paired_bootstrap(
    first: Sequence[float],
    second: Sequence[float],
    *,
    statistic: Callable[..., Any] = np.mean,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> PairedTest:
    """Paired bootstrap over units of ``statistic(second) − statistic(first)`` (Koehn 2004; Efron & Tibshirani 1993).

    Both runs are resampled with the same unit indices. The interval is the percentile interval of the resampled
    differences; the two-sided p-value shifts their distribution to the null of no difference and counts resamples
    at least as far from it as the observed difference: (1 + #{|d*_b − d| ≥ |d|}) / (B + 1).

    Args:
        first: One value per unit for the first run.
        second: One value per unit for the second run, aligned with ``first``.
        statistic: A numpy reduction taking ``axis`` (``np.mean``, ``np.median``); applied per resample.
        n_boot: Bootstrap resamples.
        seed: Seed of the resampling.
        confidence: Coverage of the interval.

    Returns:
        The test result.

    Example:
        >>> test = paired_bootstrap([0, 0, 1, 0, 1, 0, 0, 1], [1, 1, 1, 1, 1, 0, 1, 1])
        >>> test.difference, test.p_value < 0.05
        (0.5, True)

    """
    a, b = _units(first), _units(second)
    if a.shape != b.shape:
        raise ValueError(f"paired values differ in number: {len(a)} and {len(b)}")
    observed = float(statistic(b) - statistic(a))
    draws = np.concatenate(
        [statistic(b[idx], axis=1) - statistic(a[idx], axis=1) for idx in bootstrap_indices(len(a), n_boot, seed)]
    )
    extreme = int(np.count_nonzero(np.abs(draws - observed) >= abs(observed) - 1e-12))
    p_value = (1 + extreme) / (n_boot + 1)
    details = {"n_boot": n_boot, "seed": seed, "n_units": len(a), "confidence": confidence}
    return PairedTest(observed, *_interval(draws, confidence), min(1.0, p_value), "paired bootstrap", details)


def mcnemar(first: Sequence[bool], second: Sequence[bool]) -> PairedTest:
    """McNemar's test of paired binary outcomes (McNemar 1947), exact binomial for few discordant pairs.

    Only pairs where the runs disagree count: ``b`` where the second run is right and the first wrong, ``c`` the
    reverse. Under the null both are equally likely. With fewer than 25 discordant pairs the p-value is the exact
    two-sided binomial one, min(1, 2·P(X ≤ min(b, c))) for X ~ Bin(b + c, ½); above, the χ² statistic with
    continuity correction, (|b − c| − 1)² / (b + c), on one degree of freedom. The difference is the accuracy of
    the second run minus that of the first; its interval is left to :func:`paired_bootstrap`.

    Example:
        >>> test = mcnemar([0, 0, 0, 0, 0, 0, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1])
        >>> test.details["b"], test.details["c"], round(test.p_value, 4), test.test
        (6, 0, 0.0312, 'McNemar exact')

    """
    a = np.asarray(first, dtype=bool)
    b = np.asarray(second, dtype=bool)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"McNemar's test needs two equally long non-empty sequences, got {a.size} and {b.size}")
    gains, losses = int(np.count_nonzero(b & ~a)), int(np.count_nonzero(a & ~b))
    discordant = gains + losses
    if discordant < MCNEMAR_EXACT_BELOW:
        tail = sum(math.comb(discordant, i) for i in range(min(gains, losses) + 1)) / 2**discordant
        p_value, test = min(1.0, 2 * tail), "McNemar exact"
    else:
        chi2 = max(0, abs(gains - losses) - 1) ** 2 / discordant
        p_value, test = math.erfc(math.sqrt(chi2 / 2)), "McNemar chi2"
    difference = (gains - losses) / a.size
    return PairedTest(difference, math.nan, math.nan, p_value, test, {"b": gains, "c": losses, "n": int(a.size)})


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979, "A simple sequentially rejective multiple test procedure").

    With m tests sorted by p-value, the i-th smallest (from 0) is multiplied by m − i, capped at 1, and made no
    smaller than the adjusted p before it; rejecting where the adjusted p is below alpha controls the family-wise
    error rate at alpha under any dependence between the tests. One test is left as it is.

    Example:
        >>> holm([0.01, 0.04, 0.03])
        [0.03, 0.06, 0.06]

    """
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def _units(values: Sequence[float]) -> np.ndarray:
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or data.size == 0:
        raise ValueError("expected a non-empty sequence of numbers, one per unit")
    if not np.all(np.isfinite(data)):
        raise ValueError("values must be finite numbers")
    return data
