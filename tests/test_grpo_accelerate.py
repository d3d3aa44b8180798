"""grpo-train runs unchanged under ``accelerate launch``: with two CPU processes (gloo), and with ``--cpu``.

``accelerate launch --cpu --num_processes 2`` starts a single process (accelerate's simple launcher); two CPU
processes come from the torchrun launcher (``--multi_gpu``) on a machine without GPUs, where grpo-train tells
accelerate to use the CPU.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent

# Records, per process, the prompt index of every completion it scored.
REWARD = """
import json, os

def recorder(completions, curriculum_index, **kwargs):
    with open(os.path.join(os.path.dirname(__file__), f"rank{os.environ['RANK']}.jsonl"), "a") as handle:
        handle.write(json.dumps(curriculum_index) + "\\n")
    return [len(c) % 5 / 4 for c in completions]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_train_on_the_same_prompt_groups(tiny_qwen: Path, tmp_path: Path) -> None:
    (tmp_path / "reward.py").write_text(REWARD)
    (tmp_path / "prompts.jsonl").write_text(
        "".join(json.dumps({"prompt": f"post number {i}"}) + "\n" for i in range(8))
    )
    command = [
        str(BIN / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port()),
        str(BIN / "grpo-train"), "--model", str(tiny_qwen), "--data", str(tmp_path / "prompts.jsonl"),
        "--reward", f"{tmp_path / 'reward.py'}:recorder", "--output-dir", str(tmp_path / "run"),
        "--max-steps", "2", "--num-generations", "4", "--per-device-train-batch-size", "2",
        "--max-completion-length", "4", "--curriculum", "learnability",
    ]  # fmt: skip
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads((tmp_path / "run" / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    assert (tmp_path / "run" / "adapter_model.safetensors").is_file()
    ranks = [[json.loads(line) for line in (tmp_path / f"rank{r}.jsonl").read_text().splitlines()] for r in (0, 1)]
    # Each group of 4 completions is split over the two processes (2 each): both must score the same prompt.
    assert len(ranks[0]) == len(ranks[1]) == 2
    for batch0, batch1 in zip(*ranks, strict=True):
        assert len(set(batch0)) == 1 and batch0 == batch1


def test_the_cpu_launch_of_the_issue_trains(tiny_qwen: Path, tmp_path: Path) -> None:
    # `--cpu --num_processes 2` is what users type first; accelerate runs it as one CPU process, and it must work.
    (tmp_path / "prompts.jsonl").write_text("".join(json.dumps({"prompt": f"post {i}"}) + "\n" for i in range(8)))
    command = [
        str(BIN / "accelerate"), "launch", "--cpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no",
        str(BIN / "grpo-train"), "--model", str(tiny_qwen), "--data", str(tmp_path / "prompts.jsonl"),
        "--reward", "math-format", "--output-dir", str(tmp_path / "run"), "--max-steps", "2",
        "--num-generations", "4", "--per-device-train-batch-size", "4", "--max-completion-length", "4",
    ]  # fmt: skip
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((tmp_path / "run" / "trainer_state.json").read_text())["global_step"] == 2
    assert (tmp_path / "run" / "adapter_model.safetensors").is_file()
