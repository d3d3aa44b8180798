"""Prompts for grpo-train: JSONL or saved datasets, chat prompts, system prompts, checks before training."""

from __future__ import annotations

import pytest
from helpers import write_jsonl

from grpo_plugin.data import check_columns, check_difficulty, load_prompts, to_dataset
from grpo_plugin.rewards import build_rewards
from rewardlab.engine.read import InputError
from rewardlab.errors import ConfigError


def test_jsonl_rows_keep_every_column(tmp_path):
    path = write_jsonl(
        tmp_path / "p.jsonl", [{"prompt": "2+2?", "solution": "4"}, {"prompt": "3+3?", "solution": "6"}]
    )
    prompts = load_prompts(path)
    assert prompts.rows == [{"prompt": "2+2?", "solution": "4"}, {"prompt": "3+3?", "solution": "6"}]
    assert to_dataset(prompts).column_names == ["prompt", "solution"]


def test_chat_prompts_are_kept_as_messages(tmp_path):
    chat = [{"role": "user", "content": "Rain again."}]
    prompts = load_prompts(write_jsonl(tmp_path / "p.jsonl", [{"prompt": chat}]))
    assert to_dataset(prompts)[0]["prompt"] == chat


def test_system_prompt_turns_strings_into_chats_and_keeps_an_existing_one(tmp_path):
    own = [{"role": "system", "content": "Own."}, {"role": "user", "content": "Hi"}]
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "Rain again."}, {"prompt": own}])
    rows = load_prompts(path, system_prompt="Reply kindly.").rows
    assert rows[0]["prompt"] == [
        {"role": "system", "content": "Reply kindly."},
        {"role": "user", "content": "Rain again."},
    ]
    assert rows[1]["prompt"] == own


def test_missing_prompt_names_file_and_line(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "ok"}, {"text": "no prompt"}])
    with pytest.raises(InputError, match=r"p\.jsonl:2: field 'prompt': missing"):
        load_prompts(path)


def test_saved_dataset_directory_is_read(tmp_path):
    import datasets

    datasets.Dataset.from_list([{"prompt": "a", "solution": "1"}, {"prompt": "b", "solution": "2"}]).save_to_disk(
        str(tmp_path / "ds")
    )
    prompts = load_prompts(tmp_path / "ds")
    assert [row["solution"] for row in prompts.rows] == ["1", "2"]
    assert prompts.where(1) == f"{tmp_path / 'ds'}[row 1]"


def test_directory_that_is_not_a_dataset_is_an_input_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a dataset saved with save_to_disk"):
        load_prompts(tmp_path / "empty")


def test_reserved_column_is_refused(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "a", "completions": "x"}])
    with pytest.raises(InputError, match="column 'completions'"):
        load_prompts(path)


def test_row_missing_a_reward_column_fails_before_training(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "a", "solution": "1"}, {"prompt": "b"}])
    rewards = build_rewards("math-accuracy")
    with pytest.raises(InputError, match=r"p\.jsonl:2: reward 'math-accuracy' needs column 'solution'"):
        check_columns(load_prompts(path), rewards.funcs)


def test_difficulty_must_be_a_number_on_every_row(tmp_path):
    good = load_prompts(
        write_jsonl(tmp_path / "a.jsonl", [{"prompt": "a", "difficulty": 2}, {"prompt": "b", "difficulty": 0.5}])
    )
    assert check_difficulty(good) == [2.0, 0.5]
    assert check_difficulty(load_prompts(write_jsonl(tmp_path / "b.jsonl", [{"prompt": "a"}]))) is None
    bad = load_prompts(
        write_jsonl(tmp_path / "c.jsonl", [{"prompt": "a", "difficulty": 1}, {"prompt": "b", "difficulty": "hard"}])
    )
    with pytest.raises(InputError, match=r"c\.jsonl:2: field 'difficulty': expected a number"):
        check_difficulty(bad)


def test_mixed_column_types_are_named(tmp_path):
    prompts = load_prompts(write_jsonl(tmp_path / "p.jsonl", [{"prompt": "a", "x": 1}, {"prompt": "b", "x": "one"}]))
    with pytest.raises(InputError, match="column 'x' mixes value types"):
        to_dataset(prompts)


def test_comma_list_becomes_one_reward_function_each_with_weights():
    rewards = build_rewards("math-format,math-tags", weights=[1.0, 0.5])
    assert rewards.names == ["math-format", "math-tags"]
    assert rewards.weights == [1.0, 0.5]
    assert build_rewards("math-format").weights == [1.0]


def test_parameters_are_routed_by_reward_name():
    rewards = build_rewards("math-format,overlong", params={"overlong.max_length": 100, "overlong.cache": 10})
    assert rewards.funcs[1].settings()["max_length"] == 100


def test_weight_count_must_match():
    with pytest.raises(ConfigError, match="2 weights given for 1 rewards"):
        build_rewards("math-format", weights=[1.0, 2.0])
