"""pass@k: the chance that at least one of k samples is correct, estimated without bias from n ≥ k samples.

Chen et al. (2021), "Evaluating Large Language Models Trained on Code", §2.1: with n samples of which c are
correct, pass@k = 1 − C(n−c, k) / C(n, k), computed as the numerically stable product 1 − ∏_{i=n−c+1}^{n} (1 − k/i).
The estimate is made per problem and then averaged over problems; n is reported beside every pass@k because the
estimate's variance depends on it. Unlike the reference implementation, n < k is an error rather than 1.0.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eval.stats import Estimate, mean_estimate


def pass_at_k(n: int, c: int, k: int) -> float:
    """Return the unbiased pass@k estimate for one problem with ``n`` samples, ``c`` of them correct.

    Args:
        n: Samples drawn for the problem.
        c: Correct samples among them.
        k: Samples the metric allows.

    Returns:
        1 − C(n−c, k)/C(n, k), in [0, 1].

    Raises:
        ValueError: ``n < k`` (too few samples to estimate pass@k), ``k < 1``, ``c < 0`` or ``c > n``.

    Example:
        >>> round(pass_at_k(10, 3, 1), 6)
        0.3
        >>> round(pass_at_k(10, 3, 5), 6)
        0.916667
        >>> pass_at_k(4, 0, 5)
        Traceback (most recent call last):
        ...
        ValueError: pass@5 needs at least 5 samples, got n=4

    """
    n, c, k = operator.index(n), operator.index(c), operator.index(k)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if n < k:
        raise ValueError(f"pass@{k} needs at least {k} samples, got n={n}")
    if not 0 <= c <= n:
        raise ValueError(f"the number of correct samples must be between 0 and n={n}, got c={c}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


@dataclass
class PassAtK:
    """pass@k over problems: the mean of the per-problem estimates, with the sample counts behind it.

    Attributes:
        k: The k.
        estimate: Mean over problems, with its standard error and bootstrap interval over problems.
        per_problem: Each problem's estimate, in the order given.
        n_min: Fewest samples of any problem.
        n_max: Most samples of any problem.

    """

    k: int
    estimate: Estimate
    per_problem: list[float]
    n_min: int
    n_max: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``n`` is the samples per problem (None when problems differ; see ``n_min``, ``n_max``)."""
        n = self.n_min if self.n_min == self.n_max else None
        return {"k": self.k, **self.estimate.as_dict(), "n": n, "n_min": self.n_min, "n_max": self.n_max}

    @property
    def n_label(self) -> str:
        """``n=10``, or ``n=8-10`` when problems have different sample counts."""
        return f"n={self.n_min}" if self.n_min == self.n_max else f"n={self.n_min}-{self.n_max}"


def mean_pass_at_k(
    samples: Sequence[int], correct: Sequence[int], k: int, *, n_boot: int = 1000, seed: int = 0
) -> PassAtK:
    """Average :func:`pass_at_k` over problems, given each problem's sample count and correct count.

    Args:
        samples: Samples per problem (n).
        correct: Correct samples per problem (c).
        k: The k.
        n_boot: Bootstrap resamples (over problems) for the interval.
        seed: Seed of the resampling.

    Returns:
        The mean estimate and the per-problem values.

    Raises:
        ValueError: As :func:`pass_at_k`, for the first problem that fails, or no problems.

    Example:
        >>> result = mean_pass_at_k([4, 4], [1, 4], k=2)
        >>> result.estimate.value, result.n_label
        (0.75, 'n=4')

    """
    if len(samples) != len(correct):
        raise ValueError(f"{len(samples)} sample counts given for {len(correct)} correct counts")
    if not samples:
        raise ValueError("pass@k needs at least one problem")
    values = [pass_at_k(n, c, k) for n, c in zip(samples, correct, strict=True)]
    return PassAtK(k, mean_estimate(values, n_boot=n_boot, seed=seed), values, min(samples), max(samples))
