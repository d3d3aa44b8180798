"""Score the probes beside DATA's real completions and place each probe among them.

The real rows are read and checked as ``rewardlab score`` reads them (:mod:`rewardlab.engine.read`,
:mod:`rewardlab.engine.validate`) and scored by :func:`rewardlab.engine.score.score_rows`; each probe is then one
row per prompt group, carrying the group's columns, scored the same way. A group-level reward scores each probe's
rows together with the real rows, so every probe is judged inside its prompt's real group, as GRPO would judge it.
Rows a reward cannot judge (None) are counted apart and never enter a mean as 0.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rewardlab.audit.probes import Group, Probe, build, families, probes_for
from rewardlab.describe import signature
from rewardlab.engine.read import InputError, Row, iter_jsonl, source_name
from rewardlab.engine.score import score_rows
from rewardlab.engine.validate import checked
from rewardlab.errors import ConfigError, RewardlabError
from rewardlab.reward import Reward, Score, component_means, group_keys

#: Longest example of a probe kept in the audit.
EXAMPLE_CHARS = 300

#: The column of a real row that a probe cannot have (the completion's token ids): the real rows drop it too.
PROBE_LESS = "completion_ids"

#: Columns of a real row that belong to its completion, not to its prompt: a probe row does not carry them.
COMPLETION_COLUMNS = ("completion", "completion_ids", "reward", "components", "details", "reward_signature")


@dataclass
class ProbeResult:
    """Where one probe lands among the real completions.

    Attributes:
        name: The probe's name.
        family: ``generic``, ``math`` or ``code``.
        description: What the probe does.
        rows: Prompt groups the probe was built for.
        nulls: Of those, rows the reward did not judge (None).
        mean: Mean reward over the judged rows (None when none was judged).
        stderr: Standard error of that mean (sample standard deviation / sqrt(n); None below two judged rows).
        percentile: Percentile of ``mean`` among the real completions' rewards (mid-rank, 0-100).
        beats_median: Whether ``mean`` is above the real completions' median.
        reaches_median: Whether ``mean`` is at least that median (what ``--strict`` fails on).
        beats_best_share: Share of prompts where the probe scores above the best real completion of that prompt
            (over prompts where both were judged).
        beats_prompt_median_share: Share of prompts where the probe scores above the median real completion of
            that prompt (the "beats the okay reply on 33 of 51 posts" of issue 18).
        reaches_best_share: Share of prompts where the probe scores at least as much as the best real completion
            of that prompt: a probe that ties the best everywhere is paid in full for no work.
        top_component: The component the probe gains most on against the real completions' mean of it (None
            when the reward has no components or the probe gains on none).
        top_component_gain: That component's probe mean minus its real mean.
        example: The probe built for the first prompt, cut to :data:`EXAMPLE_CHARS` characters.

    """

    name: str
    family: str
    description: str
    rows: int
    nulls: int
    mean: float | None
    stderr: float | None
    percentile: float | None
    beats_median: bool
    reaches_median: bool
    beats_best_share: float | None
    beats_prompt_median_share: float | None
    reaches_best_share: float | None
    top_component: str | None
    top_component_gain: float | None
    example: str | None


@dataclass
class Audit:
    """The audit of one reward on one file: the real completions' statistics and every probe's result."""

    reward: str
    signature: str
    data: str
    seed: int
    families: list[str]
    rows: int
    groups: int
    real_nulls: int
    median: float
    real_mean: float
    real_max: float
    real_components: dict[str, float]
    strict: bool = False
    probes: list[ProbeResult] = field(default_factory=list)

    @property
    def flagged(self) -> list[ProbeResult]:
        """The probes whose mean beats the real median, or reaches it when strict (``rewardlab audit`` exits 1)."""
        return [probe for probe in self.probes if (probe.reaches_median if self.strict else probe.beats_median)]

    @property
    def median_is_top(self) -> bool:
        """Whether the real median is the highest real score, so that no probe can beat it, only reach it."""
        return self.median >= self.real_max

    def as_dict(self) -> dict[str, Any]:
        """The audit as JSON-ready data: ``median``, ``probes`` (each a dict) and the settings that produced it."""
        data = asdict(self)
        data["flagged"] = [probe.name for probe in self.flagged]
        return data


def percentile_of(value: float, population: Sequence[float]) -> float:
    """Mid-rank percentile of ``value`` in ``population``: below counts whole, ties count half.

    The ``kind="mean"`` rule of ``scipy.stats.percentileofscore``: a probe that ties every real completion sits at
    50, not at 0 or 100.

    Example:
        >>> percentile_of(2.0, [1.0, 2.0, 3.0, 4.0])
        37.5

    """
    below = sum(1 for x in population if x < value)
    ties = sum(1 for x in population if x == value)
    return 100.0 * (below + 0.5 * ties) / len(population)


def read_groups(source: str | os.PathLike[str], reward: Reward) -> tuple[list[Row], list[list[int]]]:
    """Read and check DATA's rows; return them with the indices of each prompt group, in order of first row.

    Raises:
        InputError: A row is malformed or lacks a column the reward needs (file, line and field).

    """
    name = source_name(source)
    rows = list(checked(iter_jsonl(source), reward, name))
    prompts = [row.data.get("prompt", "") for row in rows]
    prompt_ids = [row.data.get("prompt_id") for row in rows]
    indices: dict[Any, list[int]] = {}
    for index, key in enumerate(group_keys(prompts, prompt_ids, len(rows))):
        indices.setdefault(key, []).append(index)
    return rows, list(indices.values())


def _probe_row(group: Group, completion: str) -> Row:
    """A row of the group's columns with the probe as its completion, in the shape DATA's completions have."""
    first = group.rows[0]
    data = {key: value for key, value in first.data.items() if key not in COMPLETION_COLUMNS}
    chat = isinstance(first.data["completion"], list)
    data["completion"] = [{"role": "assistant", "content": completion}] if chat else completion
    return Row(first.line, data)


def _score_probe(reward: Reward, probe_rows: list[Row], real_rows: list[Row], source: str) -> list[Score]:
    """Score a probe's rows; a group-level reward sees them inside their real groups."""
    if not reward.group_level:
        return score_rows(probe_rows, reward, source)
    return score_rows(real_rows + probe_rows, reward, source)[len(real_rows) :]


@dataclass
class Baseline:
    """The real completions as the probes are measured against them."""

    values: list[float]
    median: float
    groups: list[Group]
    component_means: dict[str, float]
    component_spreads: dict[str, float]

    @classmethod
    def of(cls, scores: Sequence[Score], groups: list[Group]) -> Baseline:
        """The baseline of the real completions' scores: values judged, median, each component's mean and spread."""
        values = [s.value for s in scores if s.value is not None]
        per_component: dict[str, list[float]] = {}
        for s in scores:
            for name, value in s.components.items():
                if value is not None and not math.isnan(value):
                    per_component.setdefault(name, []).append(value)
        spreads = {name: statistics.pstdev(found) for name, found in per_component.items()}
        return cls(values, statistics.median(values), groups, component_means(scores), spreads)


def _top_component(probe: list[Score], baseline: Baseline) -> tuple[str | None, float | None]:
    """The component the probe gains most on, in units of its spread among the real completions.

    Components differ in scale (a 0-1 score beside a length in tokens), so gains are compared divided by the real
    spread of each; a gain on a component that never varies among the real completions ranks first. The gain
    returned is in the component's own units.
    """
    real = baseline.component_means
    gains = {name: mean - real[name] for name, mean in component_means(probe).items() if name in real}
    positive = {name: gain for name, gain in gains.items() if gain > 0}
    if not positive:
        return None, None

    def standardised(name: str) -> tuple[float, str]:
        spread = baseline.component_spreads.get(name, 0.0)
        return (positive[name] / spread if spread > 0 else math.inf, name)

    name = max(positive, key=standardised)
    return name, positive[name]


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def measure(probe: Probe, built: list[tuple[int, Score]], example: str | None, baseline: Baseline) -> ProbeResult:
    """Compute one probe's statistics from its scores (``built``: group index and score) and keep its example."""
    judged = [s.value for _, s in built if s.value is not None]
    mean = statistics.fmean(judged) if judged else None
    pairs = []
    for i, s in built:
        judged_real = [v for v in baseline.groups[i].values if v is not None]
        if s.value is not None and judged_real:
            pairs.append((s.value, max(judged_real), statistics.median(judged_real)))
    top, gain = _top_component([s for _, s in built], baseline)
    return ProbeResult(
        name=probe.name,
        family=probe.family,
        description=probe.description,
        rows=len(built),
        nulls=len(built) - len(judged),
        mean=mean,
        stderr=statistics.stdev(judged) / math.sqrt(len(judged)) if len(judged) > 1 else None,
        percentile=None if mean is None else percentile_of(mean, baseline.values),
        beats_median=mean is not None and mean > baseline.median,
        reaches_median=mean is not None and mean >= baseline.median,
        beats_best_share=_share([value > best for value, best, _ in pairs]),
        beats_prompt_median_share=_share([value > middle for value, _, middle in pairs]),
        reaches_best_share=_share([value >= best for value, best, _ in pairs]),
        top_component=top,
        top_component_gain=gain,
        example=None if example is None else example[:EXAMPLE_CHARS],
    )


def audit(
    source: str | os.PathLike[str],
    reward: Reward,
    seed: int = 0,
    strict: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Audit:
    """Score every probe that applies to ``reward`` beside ``source``'s real completions.

    Args:
        source: DATA: a JSONL file of ``prompt``, ``completion`` and the columns the reward needs.
        reward: Any reward (a built-in, a combination, a user's function).
        seed: Seeds the probes that pick (the off-topic completion, a template), so a rerun gives the same audit.
        strict: Flag a probe whose mean reaches the real median, not only one that beats it.
        progress: Called with each probe's name before it is scored.

    Returns:
        The audit; :attr:`Audit.flagged` lists the probes whose mean beats (strict: reaches) the real median.

    Raises:
        InputError: DATA is malformed (file, line and field).
        RewardlabError: The reward judged none of the real completions, or needs token ids no probe can carry.

    """
    name = source_name(source)
    if any(PROBE_LESS in (c if isinstance(c, tuple) else (c,)) for c in reward.columns):
        raise ConfigError(f"{reward.name} needs '{PROBE_LESS}', which no probe has; audit it with -p unit=chars")
    rows, indices = read_groups(source, reward)
    for row in rows:
        row.data.pop(PROBE_LESS, None)  # real rows measured as the probes are, never tokens against characters
    real_scores = score_rows(rows, reward, name)
    real = [s.value for s in real_scores if s.value is not None]
    if not real:
        raise RewardlabError(f"{name}: the reward judged none of the {len(rows)} rows (all None); nothing to audit")
    groups = [Group([rows[i] for i in group], [real_scores[i].value for i in group]) for group in indices]
    baseline = Baseline.of(real_scores, groups)
    result = Audit(
        reward=reward.name,
        signature=signature(reward),
        data=name,
        seed=seed,
        families=families(reward),
        rows=len(rows),
        groups=len(groups),
        real_nulls=len(rows) - len(real),
        median=baseline.median,
        real_mean=statistics.fmean(real),
        real_max=max(real),
        strict=strict,
        real_components=baseline.component_means,
    )
    for probe in probes_for(reward):
        if progress is not None:
            progress(probe.name)
        built = [(i, build(probe.name, g, groups, seed, i)) for i, g in enumerate(groups)]
        kept = [(i, text) for i, text in built if text is not None]
        probe_rows = [_probe_row(groups[i], text) for i, text in kept]
        try:
            scores = _score_probe(reward, probe_rows, rows, name) if probe_rows else []
        except InputError as error:
            raise RewardlabError(f"{error} (on the probe '{probe.name}' built from that row)") from error
        paired = [(i, s) for (i, _), s in zip(kept, scores, strict=True)]
        example = kept[0][1] if kept else None
        result.probes.append(measure(probe, paired, example, baseline))
    return result
