"""Proof that grpo-train learns: LoRA GRPO on the tiny random Qwen3 raises a simple reward within 30 CPU steps."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from test_grpo_train import POSTS

from grpo_plugin.cli import main

# The share of the letter e in the completion: the tiny model emits it now and then, so every group has spread,
# and sharpening its output distribution towards e-rich tokens is what a LoRA adapter on it can learn.
REWARD = """
def letter_e(completions, **kwargs):
    texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
    return [t.count("e") / max(1, len(t)) for t in texts]
"""


def test_lora_grpo_raises_the_reward(tiny_qwen: Path, tmp_path: Path) -> None:
    (tmp_path / "reward.py").write_text(REWARD)
    rows = [{"prompt": f"{POSTS[i % len(POSTS)]} #{i}"} for i in range(32)]
    (tmp_path / "prompts.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = CliRunner().invoke(
        main,
        [
            "--model", str(tiny_qwen), "--data", str(tmp_path / "prompts.jsonl"),
            "--reward", f"{tmp_path / 'reward.py'}:letter_e", "--output-dir", str(tmp_path / "run"),
            "--max-steps", "30", "--learning-rate", "3e-2", "--num-generations", "4",
            "--per-device-train-batch-size", "8", "--max-completion-length", "8", "--seed", "0",
        ],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    history = json.loads((tmp_path / "run" / "trainer_state.json").read_text())["log_history"]
    rewards = [entry["reward"] for entry in history if "reward" in entry]
    assert len(rewards) == 30
    first, last = sum(rewards[:5]) / 5, sum(rewards[-5:]) / 5
    print(f"mean reward of steps 1-5: {first:.3f}, of steps 26-30: {last:.3f}")
    assert last > 1.8 * first and last - first > 0.08, rewards
