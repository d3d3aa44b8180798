"""`evalkit generate`: prompts × samples rows that carry their columns, reproducible, with or without an adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import read_jsonl

from eval.generate import SamplingSettings, generate, generate_rows, load_prompts

PROMPTS = [
    {"prompt": "Say something kind about the garden.", "solution": "42", "difficulty": 1},
    {"prompt_id": "math-1", "prompt": [{"role": "user", "content": "What is 2 + 3?"}], "solution": "5"},
    {"prompt": "Write a short reply to a friend.", "solution": "hi"},
]


@pytest.fixture
def prompts_file(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in PROMPTS), encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(generate, list(args))
    return result.exit_code, result.output


def sample_file(model: Path, data: Path, out: Path, *extra: str) -> list[dict]:
    code, output = run("--model", str(model), "--data", str(data), "--max-new-tokens", "6", "--out", str(out), *extra)
    assert code == 0, output
    return read_jsonl(out)


def test_writes_one_row_per_prompt_and_sample(tiny_qwen: Path, prompts_file: Path, tmp_path: Path) -> None:
    rows = sample_file(tiny_qwen, prompts_file, tmp_path / "gen.jsonl", "--num-samples", "2")
    assert len(rows) == len(PROMPTS) * 2
    assert [(row["prompt_id"], row["sample"]) for row in rows] == [
        (0, 0), (0, 1), ("math-1", 0), ("math-1", 1), (2, 0), (2, 1)
    ]  # fmt: skip
    assert all(isinstance(row["completion"], str) and row["completion"] for row in rows)


def test_carries_prompt_and_other_columns_over(tiny_qwen: Path, prompts_file: Path, tmp_path: Path) -> None:
    rows = sample_file(tiny_qwen, prompts_file, tmp_path / "gen.jsonl")
    assert rows[0]["prompt"] == PROMPTS[0]["prompt"]
    assert rows[0]["solution"] == "42" and rows[0]["difficulty"] == 1
    assert rows[1]["prompt"] == PROMPTS[1]["prompt"]
    assert rows[1]["solution"] == "5"


def test_same_seed_gives_the_same_rows(tiny_qwen: Path, prompts_file: Path, tmp_path: Path) -> None:
    first = sample_file(tiny_qwen, prompts_file, tmp_path / "a.jsonl", "-n", "2", "--seed", "3")
    second = sample_file(tiny_qwen, prompts_file, tmp_path / "b.jsonl", "-n", "2", "--seed", "3")
    other = sample_file(tiny_qwen, prompts_file, tmp_path / "c.jsonl", "-n", "2", "--seed", "4")
    assert first == second
    assert [row["completion"] for row in first] != [row["completion"] for row in other]


def test_temperature_zero_is_greedy_and_repeats_the_completion(tiny_qwen: Path, prompts_file: Path) -> None:
    prompts = load_prompts(prompts_file)
    rows = generate_rows(tiny_qwen, prompts, SamplingSettings(num_samples=2, temperature=0, max_new_tokens=6))
    assert rows[0]["completion"] == rows[1]["completion"]
    batched = generate_rows(tiny_qwen, prompts, SamplingSettings(temperature=0, max_new_tokens=6, batch_size=3))
    single = generate_rows(tiny_qwen, prompts, SamplingSettings(temperature=0, max_new_tokens=6, batch_size=1))
    assert [row["completion"] for row in batched] == [row["completion"] for row in single]


def test_system_prompt_changes_what_the_model_sees(tiny_qwen: Path, prompts_file: Path) -> None:
    prompts = load_prompts(prompts_file)[:1]
    plain = generate_rows(tiny_qwen, prompts, SamplingSettings(temperature=0, max_new_tokens=6))
    steered = generate_rows(
        tiny_qwen, prompts, SamplingSettings(temperature=0, max_new_tokens=6, system_prompt="Answer in one word.")
    )
    assert plain[0]["completion"] != steered[0]["completion"]


def test_generates_with_a_lora_adapter(tiny_qwen: Path, prompts_file: Path, tmp_path: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_qwen),
        LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False),
    )
    model.save_pretrained(tmp_path / "adapter")

    greedy = ("--temperature", "0")
    base = sample_file(tiny_qwen, prompts_file, tmp_path / "base.jsonl", *greedy)
    tuned = sample_file(
        tiny_qwen, prompts_file, tmp_path / "tuned.jsonl", *greedy, "--adapter", str(tmp_path / "adapter")
    )
    assert len(tuned) == len(base)
    assert [row["completion"] for row in tuned] != [row["completion"] for row in base]


def test_missing_model_is_a_one_line_error(prompts_file: Path, tmp_path: Path) -> None:
    code, output = run(
        "--model", str(tmp_path / "no-model"), "--data", str(prompts_file), "--out", str(tmp_path / "o")
    )
    assert code == 2
    assert "no such directory" in output and "Traceback" not in output
    assert not (tmp_path / "o").exists()


def test_adapter_directory_without_config_is_an_error(tiny_qwen: Path, prompts_file: Path, tmp_path: Path) -> None:
    code, output = run(
        "--model",
        str(tiny_qwen),
        "--adapter",
        str(tmp_path),
        "--data",
        str(prompts_file),
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2
    assert "adapter_config.json" in output


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param('{"completion": "x"}', "prompts.jsonl:2: field 'prompt': missing", id="missing-prompt"),
        pytest.param('{"prompt": 7}', "prompts.jsonl:2: field 'prompt': expected", id="prompt-not-text"),
        pytest.param('{"prompt": "a", "prompt_id": 0}', "prompts.jsonl:2: field 'prompt_id': duplicate", id="dup-id"),
        pytest.param("{not json", "prompts.jsonl:2: malformed JSON", id="malformed"),
    ],
)
def test_bad_data_names_file_line_and_field(tiny_qwen: Path, tmp_path: Path, line: str, message: str) -> None:
    data = tmp_path / "prompts.jsonl"
    data.write_text('{"prompt": "ok", "prompt_id": 0}\n' + line + "\n", encoding="utf-8")
    code, output = run("--model", str(tiny_qwen), "--data", str(data), "--out", str(tmp_path / "o.jsonl"))
    assert code == 2
    assert message in output
    assert not (tmp_path / "o.jsonl").exists()


def test_invalid_settings_are_rejected(tiny_qwen: Path, prompts_file: Path, tmp_path: Path) -> None:
    code, output = run(
        "--model", str(tiny_qwen), "--data", str(prompts_file), "--top-p", "0", "--out", str(tmp_path / "o")
    )
    assert code == 2
    assert "top_p" in output


def test_num_samples_is_n_and_k_is_left_to_pass_at_k(tiny_qwen: Path, prompts_file: Path, tmp_path: Path) -> None:
    rows = sample_file(tiny_qwen, prompts_file, tmp_path / "gen.jsonl", "-n", "2")
    assert len(rows) == len(PROMPTS) * 2
    code, output = run("--model", str(tiny_qwen), "--data", str(prompts_file), "-k", "2", "--out", str(tmp_path / "o"))
    assert code == 2
    assert "No such option '-k'" in output


def test_progress_is_a_line_every_n_completions_without_a_terminal(
    tiny_qwen: Path, prompts_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("eval.generate.PROGRESS_EVERY", 2)
    args = ["--model", str(tiny_qwen), "--data", str(prompts_file), "-n", "2", "--batch-size", "2"]
    result = CliRunner().invoke(generate, [*args, "--max-new-tokens", "4", "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if line.startswith("generating")] == [
        "generating: 2/6 completions (33%)",
        "generating: 4/6 completions (67%)",
        "generating: 6/6 completions (100%)",
    ]
    assert "generating" not in result.stdout
