"""grpo-train's and sft-train's options: our own and those read from TRL's dataclasses."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import write_jsonl

from grpo_plugin.cli import main

FAST = ["--max-completion-length", "8", "--num-generations", "4", "--per-device-train-batch-size", "8", "--seed", "0"]


@pytest.fixture(scope="module")
def prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("options")
    return write_jsonl(work / "prompts.jsonl", [{"prompt": f"Tell me about day {i}."} for i in range(16)])


def test_preflight_samples_as_many_prompts_as_asked(tiny_qwen, prompts, tmp_path):
    result = CliRunner().invoke(
        main,
        ["--model", str(tiny_qwen), "--data", str(prompts), "--reward", "math-format", "--preflight",
         "--preflight-prompts", "2", "--output-dir", str(tmp_path / "out"), *FAST],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "preflight: 2 prompts × 4 completions" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_preflight_prompts_must_be_positive(prompts, value):
    args = ["--data", str(prompts), "--reward", "math-format", "--preflight-prompts", value]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "--preflight-prompts" in result.output
