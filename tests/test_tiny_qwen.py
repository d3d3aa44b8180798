"""The tiny Qwen3 fixture: loads like a hub model, formats chats like Qwen, generates, and is reproducible."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import torch
import transformers

SCRIPT = Path(__file__).resolve().parent.parent / "fixtures" / "tiny_qwen.py"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2 + 3?"}]


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_model_and_tokenizer_load_with_auto_classes(tiny_qwen: Path) -> None:
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_qwen)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_qwen)
    assert model.config.model_type == "qwen3"
    assert model.config.num_hidden_layers == 2
    assert model.config.hidden_size == 64
    assert model.config.vocab_size == len(tokenizer)
    assert 1000 <= len(tokenizer) <= 2000


def test_tokenizer_has_qwen_special_tokens(tiny_qwen: Path) -> None:
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_qwen)
    for token in ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>"):
        assert tokenizer.convert_tokens_to_ids(token) != tokenizer.unk_token_id
        assert tokenizer.tokenize(token) == [token]
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token == "<|endoftext|>"


def test_generation_config_names_eos_and_pad(tiny_qwen: Path) -> None:
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_qwen)
    config = transformers.GenerationConfig.from_pretrained(tiny_qwen)
    assert config.eos_token_id == tokenizer.eos_token_id
    assert config.pad_token_id == tokenizer.pad_token_id


def test_chat_template_adds_generation_prompt_only_when_asked(tiny_qwen: Path) -> None:
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_qwen)
    closed = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=False)
    assert closed == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n"
    opened = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    assert opened == closed + "<|im_start|>assistant\n"


def test_chat_template_closes_the_think_block_when_thinking_is_off(tiny_qwen: Path) -> None:
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_qwen)
    text = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True, enable_thinking=False)
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_text_round_trips_through_the_tokenizer(tiny_qwen: Path) -> None:
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_qwen)
    text = "Café prices rose 12% — 7 × 6 = 42 <think>ok</think>\n"
    assert tokenizer.decode(tokenizer(text).input_ids) == text


def test_model_generates_new_tokens(tiny_qwen: Path) -> None:
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_qwen)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_qwen)
    inputs = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    output = model.generate(**inputs, max_new_tokens=5, do_sample=False)
    assert output.shape[1] == inputs["input_ids"].shape[1] + 5


def test_logits_are_peaked_enough_for_rl_to_move(tiny_qwen: Path) -> None:
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_qwen)
    with torch.no_grad():
        probs = model(torch.tensor([[1, 2, 3, 4]])).logits[0, -1].softmax(-1)
    assert probs.max().item() > 20 / model.config.vocab_size


def test_build_writes_the_same_bytes_every_time(tmp_path: Path, tiny_qwen: Path) -> None:
    spec = importlib.util.spec_from_file_location("tiny_qwen_again", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    again = module.build(tmp_path / "again")
    assert _digests(again) == _digests(tiny_qwen)


def test_script_runs_from_the_command_line(tmp_path: Path, tiny_qwen: Path) -> None:
    out = tmp_path / "cli"
    subprocess.run([sys.executable, str(SCRIPT), str(out)], check=True, capture_output=True, timeout=120)
    assert _digests(out) == _digests(tiny_qwen)
