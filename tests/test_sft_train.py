"""sft-train on the tiny Qwen3 fixture, and grpo-train continuing its adapter (--init-adapter): the warm start."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from helpers import write_jsonl
from test_grpo_interrupt import ROOT, wait_for
from test_grpo_train import FAST

from grpo_plugin import cli as grpo_cli
from grpo_plugin.data import load_pairs
from grpo_plugin.sft_cli import main

POSTS = ["Finished my first marathon today!", "Rain again all week.", "Just adopted a puppy!", "Our team lost."]
REPLIES = [
    "Congrats, what a great day for you!",
    "Hope the sun comes back soon for you.",
    "Lovely, what is the puppy called?",
    "Sorry, there is always next season.",
]
SYSTEM = "Reply kindly."


def split_rows(n: int = 16) -> list[dict]:
    """Rows as `rewardlab split` writes sft.jsonl: scored rows with reward, components and details."""
    return [
        {
            "prompt_id": f"p{i % 4}",
            "prompt": POSTS[i % 4],
            "completion": REPLIES[i % 4],
            "reward": 0.8,
            "components": {"relevance": 0.9},
            "details": {"engagement": {"question": True}},
        }
        for i in range(n)
    ]


def run(main_command, *args: str):
    return CliRunner().invoke(main_command, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def sft_run(tiny_qwen: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    work = tmp_path_factory.mktemp("sft")
    data = write_jsonl(work / "sft.jsonl", split_rows())
    out = work / "run"
    result = run(
        main, "--model", str(tiny_qwen), "--data", str(data), "--output-dir", str(out), "--max-steps", "8",
        "--learning-rate", "1e-2", "--per-device-train-batch-size", "8", "--seed", "0", "--system-prompt", SYSTEM,
        "--merge",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out, data, result


def completion_log_likelihood(model, tokenizer, pairs: list[dict]) -> float:
    """Mean log-probability per completion token, the prompt rendered with the chat template as SFTTrainer does."""
    import torch

    total, count = 0.0, 0
    for pair in pairs:
        prompt = tokenizer.apply_chat_template(pair["prompt"], add_generation_prompt=True, tokenize=False)
        full = tokenizer.apply_chat_template(pair["prompt"] + pair["completion"], tokenize=False)
        start = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        ids = tokenizer(full, add_special_tokens=False, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            log_probs = torch.log_softmax(model(ids).logits[0, :-1], dim=-1)
        picked = log_probs.gather(1, ids[0, 1:].unsqueeze(1)).squeeze(1)[start - 1 :]
        total += picked.sum().item()
        count += picked.numel()
    return total / count


def test_sft_writes_the_adapter_tokenizer_checkpoint_and_config(sft_run):
    out, _, result = sft_run
    for name in ("adapter_model.safetensors", "adapter_config.json", "tokenizer.json", "trainer_state.json"):
        assert (out / name).is_file(), name
    settings = yaml.safe_load((out / "sft-train.yaml").read_text())
    assert settings["system_prompt"] == SYSTEM and settings["max_steps"] == 8
    assert "resolved by sft-train" in (out / "sft-train.yaml").read_text()
    assert "saved the LoRA adapter, tokenizer, trainer_state.json and sft-train.yaml" in result.output


def test_sft_loss_falls(sft_run):
    out, _, _ = sft_run
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    losses = [entry["loss"] for entry in history if "loss" in entry]
    assert len(losses) == 8
    assert sum(losses[-2:]) / 2 < 0.7 * sum(losses[:2]) / 2, losses


def test_sft_raises_the_likelihood_of_the_training_completions(sft_run, tiny_qwen):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, data, _ = sft_run
    pairs = load_pairs(data, SYSTEM).rows[:4]
    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen)
    base = AutoModelForCausalLM.from_pretrained(tiny_qwen).eval()
    before = completion_log_likelihood(base, tokenizer, pairs)
    tuned = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_qwen), out).eval()
    after = completion_log_likelihood(tuned, tokenizer, pairs)
    print(f"mean log-likelihood per completion token: base {before:.3f}, after 8 SFT steps {after:.3f}")
    assert after > before + 1.0


def test_sft_loss_covers_the_completion_tokens_only(tiny_qwen, tmp_path):
    from trl import SFTTrainer

    from grpo_plugin.config import SFTTrainConfig
    from grpo_plugin.data import to_dataset
    from grpo_plugin.sft import sft_config
    from grpo_plugin.train import load_policy

    data = write_jsonl(tmp_path / "sft.jsonl", split_rows(2))
    config = SFTTrainConfig(model=str(tiny_qwen), data=str(data), output_dir=str(tmp_path / "out"), max_steps=1)
    model, tokenizer = load_policy(config)
    pairs = load_pairs(data, SYSTEM)
    trainer = SFTTrainer(
        model=model, args=sft_config(config), train_dataset=to_dataset(pairs), processing_class=tokenizer
    )
    row = trainer.train_dataset[0]
    prompt = tokenizer.apply_chat_template(pairs.rows[0]["prompt"], add_generation_prompt=True, tokenize=False)
    prompt_length = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    labels = row["labels"]  # -100: left out of the loss
    assert labels[:prompt_length] == [-100] * prompt_length
    assert -100 not in labels[prompt_length:]
    assert tokenizer.decode(labels[prompt_length:]).startswith(REPLIES[0])


def test_chat_prompts_and_a_system_prompt_make_chat_pairs(tmp_path):
    rows = [
        {"prompt": "Hi there", "completion": "Hello!", "reward": 1.0},
        {"prompt": [{"role": "user", "content": "Hi"}], "completion": "Hey."},
    ]
    pairs = load_pairs(write_jsonl(tmp_path / "sft.jsonl", rows), "Be brief.").rows
    assert pairs[0] == {
        "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}],
        "completion": [{"role": "assistant", "content": "Hello!"}],
    }
    assert pairs[1]["completion"] == [{"role": "assistant", "content": "Hey."}]
    assert load_pairs(tmp_path / "sft.jsonl").rows[0] == {"prompt": "Hi there", "completion": "Hello!"}


@pytest.mark.parametrize(
    ("rows", "args", "message"),
    [
        pytest.param([{"prompt": "Hi"}], [], "sft.jsonl:1: field 'completion': missing", id="no-completion"),
        pytest.param([{"prompt": "Hi", "completion": 3}], [], "field 'completion': expected", id="bad-completion"),
        pytest.param(split_rows(1), ["--learning-rate", "inf"], "--learning-rate must be a finite number", id="inf"),
        pytest.param(split_rows(1), ["--epochs", "nan"], "--epochs must be a finite number", id="nan"),
        pytest.param(split_rows(1), ["--no-lora", "--merge"], "--merge merges a LoRA adapter", id="merge"),
    ],
)
def test_sft_user_errors_are_one_line_exit_2(tmp_path, rows, args, message):
    data = write_jsonl(tmp_path / "sft.jsonl", rows)
    result = CliRunner().invoke(main, ["--data", str(data), "--output-dir", str(tmp_path / "out"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_sft_refuses_a_non_empty_output_dir(sft_run, tiny_qwen):
    out, data, _ = sft_run
    result = CliRunner().invoke(main, ["--model", str(tiny_qwen), "--data", str(data), "--output-dir", str(out)])
    assert result.exit_code == 2
    assert "is not empty" in result.stderr


def test_sft_merge_writes_a_full_model(sft_run):
    from transformers import AutoModelForCausalLM

    out, _, result = sft_run
    assert not hasattr(AutoModelForCausalLM.from_pretrained(out / "merged"), "peft_config")
    assert f"merged model: {out / 'merged'}" in result.output


# The warm start: grpo-train continues the SFT adapter.

REWARD = """
def length(completions, **kwargs):
    return [len(c if isinstance(c, str) else c[-1]["content"]) / 100 for c in completions]
"""


@pytest.fixture(scope="module")
def grpo_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("warm")
    (work / "reward.py").write_text(REWARD)
    data = write_jsonl(work / "grpo.jsonl", [{"prompt": f"{POSTS[i % 4]} #{i}"} for i in range(8)])
    return data, f"{work / 'reward.py'}:length"


def lora_b(path: Path) -> dict:
    from safetensors.torch import load_file

    return {k: v for k, v in load_file(path / "adapter_model.safetensors").items() if "lora_B" in k}


def test_grpo_continues_the_sft_adapter(sft_run, tiny_qwen, grpo_inputs, tmp_path):
    sft_out, _, _ = sft_run
    data, reward = grpo_inputs
    out = tmp_path / "grpo"
    result = run(
        grpo_cli.main, "--model", str(tiny_qwen), "--init-adapter", str(sft_out), "--data", str(data),
        "--reward", reward, "--output-dir", str(out), "--max-steps", "1", "--learning-rate", "1e-6", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    start, end = lora_b(sft_out), lora_b(out)
    assert start.keys() == end.keys()
    # A new adapter starts with lora_B = 0; this one starts from the SFT adapter and moved by one small step.
    for key, before in start.items():
        assert before.abs().max() > 1e-3
        assert (end[key] - before).abs().max() < 1e-3, key
    text = (out / "grpo-train.yaml").read_text()
    assert yaml.safe_load(text)["init_adapter"] == str(sft_out)
    assert f"training started from the LoRA adapter {sft_out} on base model {tiny_qwen}" in text


def test_grpo_refuses_an_adapter_of_another_base_model(sft_run, tiny_qwen, grpo_inputs, tmp_path):
    sft_out, _, _ = sft_run
    data, reward = grpo_inputs
    adapter = tmp_path / "adapter"
    shutil.copytree(sft_out, adapter, ignore=shutil.ignore_patterns("checkpoint-*", "merged"))
    config = json.loads((adapter / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "Qwen/Qwen3-8B"
    (adapter / "adapter_config.json").write_text(json.dumps(config))
    result = CliRunner().invoke(
        grpo_cli.main,
        ["--model", str(tiny_qwen), "--init-adapter", str(adapter), "--data", str(data), "--reward", reward, *FAST],
    )
    assert result.exit_code == 2
    assert f"was trained on base model 'Qwen/Qwen3-8B', not on --model '{tiny_qwen}'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_grpo_trains_a_merged_sft_model(sft_run, grpo_inputs, tmp_path):
    sft_out, _, _ = sft_run
    data, reward = grpo_inputs
    out = tmp_path / "grpo"
    result = run(
        grpo_cli.main, "--model", str(sft_out / "merged"), "--data", str(data), "--reward", reward,
        "--output-dir", str(out), "--max-steps", "1", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "adapter_model.safetensors").is_file()
    assert (
        f"training started from model {sft_out / 'merged'} with a new LoRA adapter"
        in (out / "grpo-train.yaml").read_text()
    )


def test_sigterm_saves_a_checkpoint_and_last_resumes_it(tiny_qwen, tmp_path):
    data = write_jsonl(tmp_path / "sft.jsonl", split_rows(8))
    out = tmp_path / "run"
    args = ["--model", str(tiny_qwen), "--data", str(data), "--output-dir", str(out)]
    args += ["--per-device-train-batch-size", "4", "--seed", "0"]
    log = tmp_path / "log.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "grpo_plugin.sft_cli", *args, "--max-steps", "500"],
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env=env,
        )
        try:
            wait_for(log, "'loss'", process)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=120) == 143, log.read_text()
        finally:
            process.kill()
    assert "interrupted by SIGTERM after" in log.read_text()
    step = json.loads((out / "trainer_state.json").read_text())["global_step"]
    assert (out / f"checkpoint-{step}" / "optimizer.pt").is_file()
    result = run(main, *args, "--max-steps", str(step + 1), "--resume-from-checkpoint", "last")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == step + 1
