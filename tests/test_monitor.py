"""The training monitor and the hack signals it and ``rewardlab analyze RUN_DIR`` share, without training."""

from __future__ import annotations

import io
from types import SimpleNamespace

from helpers import read_jsonl

from grpo_plugin.monitor import SAMPLES_PER_STEP, Monitor
from grpo_plugin.rewards import build_rewards
from rewardlab.analysis.signals import RISE_SHARE, WINDOW, detect


def history_of(**columns):
    steps = len(next(iter(columns.values())))
    return [{"step": i + 1, **{k: v[i] for k, v in columns.items()}} for i in range(steps)]


def component(values, low=0.0, high=1.0):
    return {"mean": values, "min": [low] * len(values), "max": [high] * len(values)}


def monitored(**components):
    columns = {}
    for name, stats in components.items():
        for stat, values in stats.items():
            columns[f"monitor/{name}/{stat}"] = values
    return columns


def test_a_component_rising_while_the_others_stay_flat_is_flagged():
    rising = [0.1, 0.1, 0.1, 0.5, 0.6, 0.7]
    flat = [0.4] * 6
    history = history_of(
        **monitored(**{"engagement/question": component(rising), "engagement/relevance": component(flat)})
    )
    (signal,) = detect(history)
    assert signal.kind == "rising-alone" and signal.subject == "engagement/question" and signal.step == 6


def test_components_rising_together_are_not_flagged():
    rising = [0.1, 0.1, 0.1, 0.5, 0.6, 0.7]
    history = history_of(**monitored(a=component(rising), b=component([v * 0.9 for v in rising])))
    assert detect(history) == []


def test_a_rise_below_the_threshold_or_too_few_steps_is_not_flagged():
    small = [0.1] * WINDOW + [0.1 + RISE_SHARE * 0.9] * WINDOW
    assert detect(history_of(**monitored(a=component(small), b=component([0.4] * 6)))) == []
    short = [0.1, 0.9]
    assert detect(history_of(**monitored(a=component(short), b=component([0.4] * 2)))) == []


def test_length_at_the_limit_and_a_growing_zero_variance_share_are_flagged():
    history = history_of(**{"completions/clipped_ratio": [0.1, 0.2, 0.6, 0.7, 0.8, 0.9]})
    assert [s.kind for s in detect(history)] == ["length-at-limit"]
    history = history_of(frac_reward_zero_std=[0.0, 0.1, 0.0, 0.4, 0.5, 0.6])
    assert [s.kind for s in detect(history)] == ["zero-variance-growing"]


def feed(monitor, prompts, completions, per_reward):
    for index, reward in enumerate(monitor.rewards.funcs):
        scores = reward.score(prompts, completions)
        assert [s.value for s in scores] == per_reward[index]
        monitor.record(index, prompts, completions, scores, 0.01)


def state(step, history):
    return SimpleNamespace(global_step=step, is_world_process_zero=True, log_history=history)


def test_monitor_logs_spread_samples_and_warns_once_on_template_collapse(tmp_path):
    rewards = build_rewards("math-tags,math-format", weights=[1.0, 0.5])
    stream = io.StringIO()
    monitor = Monitor(rewards, tmp_path, stream=stream)
    wrapped = monitor.wrap()
    assert [w.__name__ for w in wrapped] == ["math-tags", "math-format"]
    same = "<think>\nok\n</think>\n<answer>\n1\n</answer>"
    prompts = [f"question {i}" for i in range(6) for _ in range(2)]
    completions = [same, "no tags"] * 6
    values = [wrapped[i](prompts=prompts, completions=completions) for i in range(2)]
    assert values[0] == [1.0, 0.0] * 6
    for step in (1, 2):
        history = [{"step": step, "reward": 1.0}]
        monitor.on_log(None, state(step, history), None, logs={})
        entry = history[-1]
        if step == 1:
            feed(monitor, prompts, completions, values)
    assert (entry["monitor/math-tags/min"], entry["monitor/math-tags/max"]) == (0.0, 1.0)
    assert entry["monitor/collapse_share"] == 1.0 and entry["monitor/collapse_prompts"] == 6
    assert entry["monitor/near_zero_std_share"] == 0.0
    assert 0 < entry["monitor/reward_time_share"]
    samples = read_jsonl(tmp_path / "samples.jsonl")
    assert [s["step"] for s in samples] == [1] * SAMPLES_PER_STEP + [2] * SAMPLES_PER_STEP
    assert all(s["reward"] == s["rewards"]["math-tags"] + 0.5 * s["rewards"]["math-format"] for s in samples)
    monitor.on_log(None, state(3, [entry]), None, logs={})  # nothing recorded since: nothing logged
    feed(monitor, prompts, completions, values)
    monitor.on_log(None, state(4, [entry, {"step": 4}]), None, logs={})
    assert stream.getvalue().count("one completion was given for 100% of the step's prompts") == 1


def test_a_resumed_run_keeps_the_samples_up_to_its_checkpoint_and_a_new_run_starts_afresh(tmp_path):
    from helpers import write_jsonl

    monitor = Monitor(build_rewards("math-tags"), tmp_path)
    write_jsonl(tmp_path / "samples.jsonl", [{"step": step, "completion": "x"} for step in (1, 2, 3, 4)])
    monitor.on_train_begin(None, SimpleNamespace(global_step=2, is_world_process_zero=True), None)
    assert [row["step"] for row in read_jsonl(tmp_path / "samples.jsonl")] == [1, 2]
    monitor.on_train_begin(None, SimpleNamespace(global_step=0, is_world_process_zero=True), None)
    assert read_jsonl(tmp_path / "samples.jsonl") == []
