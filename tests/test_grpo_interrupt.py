"""Ctrl-C and SIGTERM during grpo-train: the steps done are saved as a resumable checkpoint, and `last` continues."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_grpo_train import FAST, POSTS
from transformers import TrainerControl, TrainerState

import grpo_plugin.train
from grpo_plugin.callbacks import StopOnSignal
from grpo_plugin.cli import main
from grpo_plugin.runs import TrainingStopped

ROOT = Path(__file__).resolve().parent.parent

REWARD = """
def length(completions, **kwargs):
    return [len(c) / 100 for c in completions]
"""


def test_a_signal_stops_training_at_the_next_step_with_a_checkpoint():
    state, control = TrainerState(global_step=3), TrainerControl()
    with StopOnSignal() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.received == signal.SIGTERM
        stop.on_step_end(None, state, control)
    assert control.should_save and control.should_training_stop
    assert stop.stopped_at == 3
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_second_ctrl_c_aborts_at_once():
    with StopOnSignal() as stop, pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.received == signal.SIGINT
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_says_where_it_saved_in_one_line(monkeypatch, signum, status):
    def interrupted(config):
        raise TrainingStopped(signum, 4, Path("out/checkpoint-4"), Path("out"))

    monkeypatch.setattr(grpo_plugin.train, "train", interrupted)
    result = CliRunner().invoke(main, ["--data", "p.jsonl", "--reward", "length"])
    assert result.exit_code == status
    assert result.stderr.strip().splitlines() == [
        f"interrupted by {signal.Signals(signum).name} after 4 steps: saved the weights and tokenizer to out "
        "and a resumable checkpoint out/checkpoint-4; continue with --resume-from-checkpoint last"
    ]


def wait_for(path: Path, text: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert process.poll() is None, path.read_text(errors="replace")
        assert time.monotonic() < deadline, path.read_text(errors="replace")
        time.sleep(0.2)


def test_ctrl_c_saves_a_resumable_checkpoint_and_last_continues_it(tiny_qwen, tmp_path):
    (tmp_path / "reward.py").write_text(REWARD)
    rows = [{"prompt": f"{POSTS[i % len(POSTS)]} #{i}"} for i in range(16)]
    (tmp_path / "prompts.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "run"
    args = ["--model", str(tiny_qwen), "--data", str(tmp_path / "prompts.jsonl"), "--output-dir", str(out)]
    args += ["--reward", f"{tmp_path / 'reward.py'}:length", *FAST]
    log = tmp_path / "log.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "grpo_plugin.cli", *args, "--max-steps", "100"],
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env=env,
        )
        try:
            wait_for(log, "'reward'", process)  # the first step's logged metrics
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=120) == 130, log.read_text()
        finally:
            process.kill()
    message = [line for line in log.read_text().splitlines() if line.startswith("interrupted by SIGINT")]
    assert len(message) == 1, log.read_text()
    step = json.loads((out / "trainer_state.json").read_text())["global_step"]
    assert 1 <= step < 100
    saved = out / f"checkpoint-{step}"
    assert f"a resumable checkpoint {saved};" in message[0]
    for name in ("adapter_model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth", "trainer_state.json"):
        assert (saved / name).is_file(), name
    for name in ("adapter_model.safetensors", "tokenizer.json", "grpo-train.yaml", "run.json"):
        assert (out / name).is_file(), name

    result = CliRunner().invoke(main, [*args, "--max-steps", str(step + 2), "--resume-from-checkpoint", "last"])
    assert result.exit_code == 0, result.output
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    assert [entry["step"] for entry in history if "reward" in entry] == list(range(1, step + 3))


def test_a_signal_the_parent_ignores_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with StopOnSignal() as stop:
            os.kill(os.getpid(), signal.SIGINT)
        assert stop.received is None
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
