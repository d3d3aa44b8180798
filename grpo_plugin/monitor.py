"""Watch a GRPO run as it trains: component spread, reward time, completion samples and hack signals.

:class:`Monitor` hands TRL a :class:`MonitoredReward` for each reward function: it scores exactly as the reward
would (same values, same ``log_metric`` component means) and lets the monitor see each row's components. At every
logging step the monitor adds to the logged dict (so to ``trainer_state.json``, where ``rewardlab analyze RUN_DIR``
reads it):

- ``monitor/<reward>/mean|std|min|max`` and ``monitor/<reward>/<component>/mean|std|min|max`` over the step's
  completions;
- ``monitor/reward_time_share``: seconds spent in the reward functions / wall seconds of the logging step;
- ``monitor/overhead_share``: the same for the monitor's own bookkeeping;
- ``monitor/near_zero_std_share``: share of prompt groups whose total-reward std is below
  :data:`~rewardlab.analysis.scored.NEAR_ZERO_FRACTION` of the total's range seen so far (zero-std groups included);
- ``monitor/collapse_share`` and ``monitor/collapse_prompts``: the most common completion of the step, as a share
  of the step's distinct prompts that got it, and their number.

It appends :data:`SAMPLES_PER_STEP` completions per logging step (a uniform sample of the step's, from the main
process) to ``samples.jsonl`` in the output directory: ``step``, ``prompt``, ``completion``, ``reward`` (the
weighted total), ``rewards`` (each reward function's value) and ``components``. And it prints a one-line warning
the first time each hack signal of :mod:`rewardlab.analysis.signals` fires. A new run (``--overwrite-output-dir``)
starts the file afresh; a resumed one keeps the samples of the steps up to its checkpoint.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from transformers import TrainerCallback

from grpo_plugin.rewards import RewardSet
from rewardlab.analysis.scored import NEAR_ZERO_FRACTION
from rewardlab.analysis.signals import COLLAPSE_MIN_PROMPTS, MONITOR, detect
from rewardlab.engine.summary import RunningStats
from rewardlab.engine.write import atomic_writer
from rewardlab.reward import TRAINER_KWARGS, Reward, Score, component_means
from rewardlab.text import to_text

#: Completions kept per logging step in ``samples.jsonl``.
SAMPLES_PER_STEP = 8

#: The samples file in the output directory.
SAMPLES_FILE = "samples.jsonl"


class MonitoredReward:
    """A reward as TRL calls it (same name, values and logged component means), reporting each batch to a monitor."""

    def __init__(self, reward: Reward, index: int, monitor: Monitor) -> None:
        self.reward = reward
        self.index = index
        self.monitor = monitor
        self.__name__ = reward.name

    def __call__(
        self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any
    ) -> list[float | None]:
        """Score the batch as :meth:`rewardlab.Reward.__call__` does, timing it and recording its scores."""
        start = time.perf_counter()
        log_metric = kwargs.get("log_metric")
        columns = {key: value for key, value in kwargs.items() if key not in TRAINER_KWARGS}
        completions = list(completions)
        prompts = [""] * len(completions) if prompts is None else list(prompts)
        scores = self.reward.score(prompts, completions, **columns)
        if log_metric is not None:
            for component, mean in component_means(scores).items():
                log_metric(f"{self.reward.name}/{component}", mean)
        self.monitor.record(self.index, prompts, completions, scores, time.perf_counter() - start)
        return [s.value for s in scores]


class Monitor(TrainerCallback):
    """Gathers what each logging step's completions scored, adds it to the log, writes samples, warns on signals.

    Args:
        rewards: The run's reward functions and weights.
        output_dir: Where ``samples.jsonl`` goes.
        samples_per_step: Completions kept per logging step.
        stream: Where warnings are printed (standard error by default).
        seed: Seed of the sample drawn each step.

    """

    def __init__(
        self,
        rewards: RewardSet,
        output_dir: str | Path,
        samples_per_step: int = SAMPLES_PER_STEP,
        stream: TextIO | None = None,
        seed: int = 0,
    ) -> None:
        self.rewards = rewards
        self.path = Path(output_dir) / SAMPLES_FILE
        self.samples_per_step = samples_per_step
        self.stream = stream
        self.random = random.Random(seed)
        self.warned: set[tuple[str, str]] = set()
        self.low = math.inf
        self.high = -math.inf
        self._batch: list[tuple[list[Any], list[Any], list[Score]]] = []
        self._last = time.perf_counter()
        self._reset()

    def wrap(self) -> list[MonitoredReward]:
        """The reward functions to hand TRL, one per reward, in order."""
        return [MonitoredReward(reward, i, self) for i, reward in enumerate(self.rewards.funcs)]

    def _reset(self) -> None:
        self.stats: dict[str, RunningStats] = {}
        self.reward_seconds = 0.0
        self.overhead_seconds = 0.0
        self.groups = 0
        self.near_zero_groups = 0
        self.answers: dict[str, set[str]] = {}
        self.prompts: set[str] = set()
        self.seen = 0
        self.samples: list[dict[str, Any]] = []

    def record(
        self, index: int, prompts: list[Any], completions: list[Any], scores: list[Score], seconds: float
    ) -> None:
        """Take one reward function's scores of a batch; once every function has scored it, take the batch."""
        start = time.perf_counter()
        self.reward_seconds += seconds
        name = self.rewards.funcs[index].name
        for s in scores:
            if s.value is not None and math.isfinite(s.value):
                self.stats.setdefault(name, RunningStats()).add(s.value)
            for component, value in s.components.items():
                if value is not None and math.isfinite(value):
                    self.stats.setdefault(f"{name}/{component}", RunningStats()).add(float(value))
        if index == 0:
            self._batch = []
        self._batch.append((prompts, completions, scores))
        if len(self._batch) == len(self.rewards.funcs):
            self._take_batch()
        self.overhead_seconds += time.perf_counter() - start

    def _take_batch(self) -> None:
        prompts, completions, _ = self._batch[0]
        per_reward = [[s.value for s in scores] for _, _, scores in self._batch]
        totals = self.rewards.total(per_reward)
        prompt_texts = [to_text(p) for p in prompts]
        completion_texts = [to_text(c) for c in completions]
        groups: dict[str, list[float]] = {}
        for prompt, completion, total in zip(prompt_texts, completion_texts, totals, strict=True):
            self.prompts.add(prompt)
            self.answers.setdefault(completion, set()).add(prompt)
            if total is not None:
                groups.setdefault(prompt, []).append(total)
                self.low, self.high = min(self.low, total), max(self.high, total)
        for values in groups.values():
            self.groups += 1
            mean = sum(values) / len(values)
            std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
            if len(values) < 2 or std <= NEAR_ZERO_FRACTION * (self.high - self.low):
                self.near_zero_groups += 1
        for row, total in enumerate(totals):
            self.seen += 1
            slot = len(self.samples) if len(self.samples) < self.samples_per_step else self.random.randrange(self.seen)
            if slot < self.samples_per_step:
                sample = self._sample(row, prompt_texts[row], completion_texts[row], total)
                if slot == len(self.samples):
                    self.samples.append(sample)
                else:
                    self.samples[slot] = sample

    def _sample(self, row: int, prompt: str, completion: str, total: float | None) -> dict[str, Any]:
        rewards, components = {}, {}
        for reward, (_, _, scores) in zip(self.rewards.funcs, self._batch, strict=True):
            rewards[reward.name] = scores[row].value
            components.update({f"{reward.name}/{k}": v for k, v in scores[row].components.items()})
        return {
            "prompt": prompt,
            "completion": completion,
            "reward": total,
            "rewards": rewards,
            "components": components,
        }

    def metrics(self, seconds: float) -> dict[str, float]:
        """What the monitor adds to a logging step that lasted ``seconds``."""
        found: dict[str, float] = {}
        for name, stats in self.stats.items():
            for key, value in stats.as_dict().items():
                if key != "n":
                    found[f"{MONITOR}{name}/{key}"] = value
        if seconds > 0:
            found[f"{MONITOR}reward_time_share"] = self.reward_seconds / seconds
            found[f"{MONITOR}overhead_share"] = self.overhead_seconds / seconds
        if self.groups:
            found[f"{MONITOR}near_zero_std_share"] = self.near_zero_groups / self.groups
        if len(self.prompts) >= COLLAPSE_MIN_PROMPTS:
            most = max(len(prompts) for prompts in self.answers.values())
            found[f"{MONITOR}collapse_share"] = most / len(self.prompts) if most > 1 else 0.0
            found[f"{MONITOR}collapse_prompts"] = float(most)
        return found

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Keep the samples of the steps already done (none for a new run), and start the clock."""
        if getattr(state, "is_world_process_zero", True) and self.path.is_file():
            kept = []
            with self.path.open(encoding="utf-8") as handle:
                for line in handle:
                    with contextlib.suppress(ValueError, AttributeError):
                        if json.loads(line).get("step", math.inf) <= state.global_step:
                            kept.append(line)
            with atomic_writer(self.path) as handle:
                handle.writelines(kept)
        self._last = time.perf_counter()

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kwargs: Any) -> None:
        """Add the step's monitor metrics to the log, append its samples, and warn on new hack signals."""
        start = time.perf_counter()
        if not self.seen:
            return
        found = self.metrics(start - self._last)
        if logs is not None:
            logs.update(found)
        if state.log_history:
            state.log_history[-1].update(found)
        if getattr(state, "is_world_process_zero", True):
            self._write_samples(state.global_step)
            for signal in detect(state.log_history):
                if (signal.kind, signal.subject) not in self.warned:
                    self.warned.add((signal.kind, signal.subject))
                    print(f"WARNING step {signal.step}: {signal.message}", file=self.stream or sys.stderr, flush=True)
        self._reset()
        self._last = time.perf_counter()
        self.overhead_seconds = self._last - start

    def _write_samples(self, step: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            for sample in self.samples:
                handle.write(json.dumps({"step": step, **sample}, ensure_ascii=False) + "\n")
