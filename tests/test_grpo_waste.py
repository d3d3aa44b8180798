"""The training path refuses what would waste a run: rewards that score nothing, a second run into the same
output directory, empty prompts, damaged checkpoints, a full disk; and the shipped code fixture trains."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import write_jsonl

from grpo_plugin import lock
from grpo_plugin.cli import main
from grpo_plugin.data import load_prompts, to_training_dataset
from grpo_plugin.guards import RewardWatch, WastedRunError, check_checkpoint, decode_rows

REWARDS = """
def nothing(completions, **kwargs):
    return [None] * len(completions)


def nan(completions, **kwargs):
    return [float("nan")] * len(completions)


def length(completions, **kwargs):
    return [len(str(c)) / 100 for c in completions]
"""

FAST = ["--max-completion-length", "8", "--num-generations", "4", "--per-device-train-batch-size", "8", "--seed", "0"]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("waste")
    (work / "rewards.py").write_text(REWARDS)
    write_jsonl(work / "prompts.jsonl", [{"prompt": f"Say something about day {i}."} for i in range(16)])
    return work


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def one_line(result) -> str:
    """The one error line of a command (training's progress bar and logged metrics may come before it)."""
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if "Error" in line]
    assert len(lines) == 1, result.output
    return lines[0][lines[0].index("Error") :]


@pytest.mark.parametrize("reward", ["nothing", "nan"])
def test_a_reward_that_scores_nothing_stops_the_run_naming_it(tiny_qwen, work, reward):
    spec = f"{work / 'rewards.py'}:length,{work / 'rewards.py'}:{reward}"
    result = invoke(
        "--model", str(tiny_qwen), "--data", str(work / "prompts.jsonl"), "--reward", spec,
        "--output-dir", str(work / f"dead-{reward}"), "--max-steps", "4", "--report-to", "none", *FAST,
    )  # fmt: skip
    assert result.exit_code != 0
    line = one_line(result)
    assert f"reward '{reward}' scored no completion" in line
    assert "first 2 generation batches" in line
    assert not (work / f"dead-{reward}" / "adapter_model.safetensors").exists()


def test_reward_watch_keeps_a_reward_that_scored_once():
    watch = RewardWatch(["sparse"], patience=2)
    watch.observe([True])
    watch.observe([False])
    watch.observe([True])  # past the watched batches: nothing more is judged
    assert watch.never_scored == [False]


def test_reward_watch_names_the_dead_reward_among_live_ones():
    watch = RewardWatch(["live", "dead"], patience=1)
    with pytest.raises(WastedRunError, match="reward 'dead'"):
        watch.observe([False, True])


def test_a_second_run_into_a_locked_output_dir_is_refused(tiny_qwen, work, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / lock.LOCK_FILE, "w") as handle:  # another run, as the kernel sees it
        handle.write("4242\n")
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = invoke(
            "--model", str(tiny_qwen), "--data", str(work / "prompts.jsonl"), "--reward", "math-format",
            "--output-dir", str(out), "--max-steps", "1", *FAST,
        )  # fmt: skip
    assert result.exit_code == 2
    assert one_line(result) == (
        f"Error: --output-dir {out} is in use by another run (process 4242); wait for it to end or choose another "
        "directory"
    )


def test_the_lock_of_a_dead_run_is_taken_over(tmp_path):
    script = f"from grpo_plugin import lock; lock.acquire({str(tmp_path)!r}); print('held'); input()"
    holder = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(lock.OutputDirLocked, match=f"process {holder.pid}"):
            lock.acquire(tmp_path)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    lock.acquire(tmp_path)
    try:
        assert (tmp_path / lock.LOCK_FILE).read_text().strip() == str(os.getpid())
    finally:
        lock.release(tmp_path)


def test_the_lock_file_alone_does_not_make_the_output_dir_non_empty(tmp_path):
    from grpo_plugin.config import TrainConfig
    from grpo_plugin.runs import check_output_dir

    (tmp_path / lock.LOCK_FILE).write_text("1\n")
    check_output_dir(TrainConfig(output_dir=str(tmp_path)))


EMPTY_PARTS = [{"role": "user", "content": [{"type": "text", "text": ""}]}]


@pytest.mark.parametrize("prompt", ["", "   ", [{"role": "user", "content": ""}], EMPTY_PARTS])
def test_every_prompt_empty_is_one_line_exit_2(tmp_path, prompt):
    data = write_jsonl(tmp_path / "empty.jsonl", [{"prompt": prompt}] * 3)
    result = invoke("--data", str(data), "--reward", "math-format", "--output-dir", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "every prompt is empty" in one_line(result)


def test_some_empty_prompts_are_kept(tmp_path):
    data = write_jsonl(tmp_path / "some.jsonl", [{"prompt": ""}, {"prompt": "Hello"}])
    assert len(load_prompts(data)) == 2


def make_checkpoint(folder: Path) -> Path:
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True)
    (folder / "trainer_state.json").write_text("{}")
    save_file({"w": torch.zeros(64, 64)}, folder / "adapter_model.safetensors")
    torch.save({"state": {}}, folder / "optimizer.pt")
    return folder


def test_a_whole_checkpoint_passes(tmp_path):
    check_checkpoint(make_checkpoint(tmp_path / "checkpoint-1"))


@pytest.mark.parametrize("name", ["adapter_model.safetensors", "optimizer.pt"])
def test_a_truncated_checkpoint_is_refused_in_one_line(tmp_path, work, name):
    checkpoint = make_checkpoint(tmp_path / "checkpoint-1")
    damaged = checkpoint / name
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    result = invoke(
        "--data", str(work / "prompts.jsonl"), "--reward", "math-format", "--output-dir", str(tmp_path / "out"),
        "--resume-from-checkpoint", str(checkpoint),
    )  # fmt: skip
    assert result.exit_code == 2
    assert one_line(result).startswith(f"Error: --resume-from-checkpoint: {damaged} is damaged (")


def test_a_full_disk_while_checkpointing_leaves_no_partial_checkpoint(tiny_qwen, work, tmp_path, monkeypatch):
    from transformers import Trainer

    def no_space(self, output_dir):
        raise RuntimeError("[enforce fail] file write failed") from OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Trainer, "_save_optimizer_and_scheduler", no_space)
    out = tmp_path / "out"
    common = ["--model", str(tiny_qwen), "--data", str(work / "prompts.jsonl"), "--output-dir", str(out)]
    reward = f"{work / 'rewards.py'}:length"
    result = invoke(*common, "--reward", reward, "--max-steps", "1", "--save-steps", "1", *FAST)
    assert result.exit_code == 2
    line = one_line(result)
    assert f"cannot write the checkpoint {out / 'checkpoint-1'}: no space left on device" in line
    assert not list(out.glob("checkpoint-*"))
    monkeypatch.undo()
    again = invoke(*common, "--reward", reward, "--resume-from-checkpoint", "last", *FAST)
    assert again.exit_code == 2
    assert "no checkpoint-* directory" in one_line(again)


def test_mixed_expected_values_come_back_to_the_reward_as_written(fixtures_dir):
    prompts = load_prompts(fixtures_dir / "code_problems.jsonl")
    dataset, encoded = to_training_dataset(prompts)
    assert "test_cases" in encoded
    assert decode_rows(dataset.to_list(), encoded) == [
        {key: row.get(key) for key in dataset.column_names} for row in prompts.rows
    ]


def test_the_shipped_code_fixture_trains(tiny_qwen, fixtures_dir, tmp_path):
    out = tmp_path / "code"
    result = invoke(
        "--model", str(tiny_qwen), "--data", str(fixtures_dir / "code_problems.jsonl"), "--reward", "code",
        "-p", "code.timeout=2", "--output-dir", str(out), "--max-steps", "1", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    assert "rewards/code/mean" in history[0]


def test_a_column_arrow_cannot_hold_travels_as_json(tmp_path):
    data = write_jsonl(tmp_path / "mixed.jsonl", [{"prompt": "a", "meta": 1}, {"prompt": "b", "meta": "x"}])
    dataset, encoded = to_training_dataset(load_prompts(data))
    assert encoded == ["meta"]
    assert decode_rows(dataset.to_list(), encoded)[1]["meta"] == "x"
