"""grpo-train settings: YAML file, command line, precedence, validation, one-line errors."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

import grpo_plugin.train
from grpo_plugin.cli import main
from grpo_plugin.config import TrainConfig, load_yaml, resolve, write_resolved
from rewardlab.errors import ConfigError


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[TrainConfig]:
    """Replace training by recording the resolved settings."""
    seen: list[TrainConfig] = []

    def fake_train(config: TrainConfig) -> grpo_plugin.train.TrainResult:
        seen.append(config)
        return grpo_plugin.train.TrainResult(config.output_dir, [])

    monkeypatch.setattr(grpo_plugin.train, "train", fake_train)
    return seen


def test_yaml_keys_take_dashes_or_underscores(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("learning-rate: 2.0e-5\nnum_generations: 4\nreward: [engagement, math-format]\nweights: 1,0.5\n")
    values = load_yaml(path)
    assert values == {
        "learning_rate": 2e-5,
        "num_generations": 4,
        "reward": "engagement,math-format",
        "weights": [1.0, 0.5],
    }


def test_yaml_unknown_key_is_named(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("lr: 1e-5\n")
    with pytest.raises(ConfigError, match="unknown key 'lr'"):
        load_yaml(path)


def test_command_line_wins_over_yaml_over_defaults(tmp_path, captured):
    path = tmp_path / "run.yaml"
    path.write_text("data: prompts.jsonl\nreward: engagement\nlearning_rate: 3e-5\nbeta: 0.04\nparams: {model: a}\n")
    result = CliRunner().invoke(main, ["--config", str(path), "--learning-rate", "1e-4", "-p", "threshold=0.5"])
    assert result.exit_code == 0, result.output
    config = captured[0]
    assert config.learning_rate == 1e-4  # typed
    assert config.beta == 0.04  # from the file
    assert config.temperature == 1.0  # default
    assert config.params == {"model": "a", "threshold": 0.5}


def test_an_option_equal_to_its_default_still_beats_the_file(tmp_path, captured):
    path = tmp_path / "run.yaml"
    path.write_text("data: p.jsonl\nreward: engagement\nnum_generations: 4\nlora: false\n")
    result = CliRunner().invoke(main, ["--config", str(path), "--num-generations", "8", "--lora"])
    assert result.exit_code == 0, result.output
    assert captured[0].num_generations == 8
    assert captured[0].lora is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--num-generations", "1"], "at least 2", id="one-generation"),
        pytest.param(["--learning-rate", "0"], "--learning-rate must be a positive number", id="zero-lr"),
        pytest.param(["--report-to", "mlflow"], "--report-to: unknown mlflow", id="reporter"),
        pytest.param(["--weights", "1,x"], "--weights must be comma-separated numbers", id="weights"),
        pytest.param(["-p", "novalue"], "-p expects KEY=VALUE", id="param"),
        pytest.param(["--max-steps", "0"], "--max-steps must be a positive whole number", id="max-steps"),
        pytest.param(["--max-steps", "-5"], "--max-steps must be a positive whole number", id="negative-steps"),
        pytest.param(["--curriculum-threshold", "nan"], "must be a finite number", id="nan-threshold"),
    ],
)
def test_bad_settings_give_one_line_and_exit_2(args, message, captured):
    result = CliRunner().invoke(main, ["--data", "p.jsonl", "--reward", "engagement", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not captured


def test_missing_data_and_reward_are_reported(tmp_path):
    result = CliRunner().invoke(main, ["--reward", "engagement"])
    assert result.exit_code == 2
    assert "give --data" in result.stderr
    result = CliRunner().invoke(main, ["--data", str(tmp_path / "p.jsonl")])
    assert result.exit_code == 2
    assert "give --reward" in result.stderr


def test_resolved_config_reads_back_as_the_same_settings(tmp_path):
    config = resolve(
        {"data": "p.jsonl", "reward": "engagement", "weights": "2", "lora_target_modules": "q_proj,v_proj"}, {}
    )
    path = write_resolved(config, tmp_path, "written by a test")
    assert path.read_text().startswith("# written by a test\n")
    assert resolve({}, load_yaml(path)) == config
    assert yaml.safe_load(path.read_text())["weights"] == [2.0]
    assert config.target_modules == ["q_proj", "v_proj"]


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        pytest.param("params: [1, 2]\n", "params must be a mapping", id="params-list"),
        pytest.param("weights: {a: 1}\n", "--weights must be comma-separated numbers", id="weights-mapping"),
        pytest.param("report_to: 5\n", "--report-to must be names", id="report-to"),
        pytest.param("lora_target_modules: 5\n", "--lora-target-modules must be module names", id="targets"),
        pytest.param("system_prompt: 5\n", "--system-prompt must be a string", id="system-prompt"),
        pytest.param("loss_typ: dapo\n", "unknown key 'loss_typ'; did you mean loss_type", id="trl-typo"),
        pytest.param("reward_weights: [1]\n", "unknown key 'reward_weights'; it is set by --weights", id="trl-ours"),
        pytest.param("max_grad_norm: big\n", "--max-grad-norm must be a number, got 'big'", id="trl-type"),
    ],
)
def test_wrongly_typed_or_unknown_yaml_values_give_one_line_and_exit_2(tmp_path, yaml_text, message, captured):
    path = tmp_path / "run.yaml"
    path.write_text("data: p.jsonl\nreward: engagement\n" + yaml_text)
    result = CliRunner().invoke(main, ["--config", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not captured


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize(
    "option", ["--learning-rate", "--beta", "--temperature", "--epochs", "--curriculum-threshold"]
)
def test_non_finite_numbers_are_refused_before_anything_loads(option, value, captured):
    result = CliRunner().invoke(main, ["--data", "p.jsonl", "--reward", "engagement", option, value])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"Error: {option} must be a finite number, got {float(value)}"]
    assert not captured


def test_non_finite_numbers_in_the_yaml_file_are_refused(tmp_path, captured):
    path = tmp_path / "run.yaml"
    path.write_text("data: p.jsonl\nreward: engagement\nbeta: .nan\n")
    result = CliRunner().invoke(main, ["--config", str(path)])
    assert result.exit_code == 2
    assert "--beta must be a finite number, got nan" in result.stderr
    assert not captured


def test_init_adapter_is_recorded_and_needs_lora(captured):
    result = CliRunner().invoke(main, ["--data", "p.jsonl", "--reward", "engagement", "--init-adapter", "runs/sft"])
    assert result.exit_code == 0, result.output
    assert captured[0].init_adapter == "runs/sft"
    result = CliRunner().invoke(
        main, ["--data", "p.jsonl", "--reward", "engagement", "--init-adapter", "runs/sft", "--no-lora"]
    )
    assert result.exit_code == 2
    assert "--init-adapter continues a LoRA adapter" in result.stderr
