"""grpo-train's and sft-train's options: our own and those read from TRL's dataclasses."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
import yaml
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


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list:
    """Replace training by recording the resolved settings."""
    import grpo_plugin.train

    seen: list = []

    def fake_train(config):
        seen.append(config)
        return grpo_plugin.train.TrainResult(config.output_dir, [])

    monkeypatch.setattr(grpo_plugin.train, "train", fake_train)
    return seen


def invoke(*args: str):
    return CliRunner().invoke(main, ["--data", "p.jsonl", "--reward", "math-format", *args])


def test_trl_options_reach_the_settings_with_their_types(captured):
    result = invoke(
        "--loss-type", "grpo", "--epsilon-high", "0.28", "--max-grad-norm", "0.5", "--scale-rewards", "batch",
        "--gradient-checkpointing", "false", "--lr-scheduler-type", "cosine", "--top-p", "0.9",
        "--mask-truncated-completions", "--log-completions", "--use-vllm", "--vllm-mode", "server",
        "--vllm-server-port", "8001", "--load-in-4bit", "false",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert captured[0].trl == {  # given values equal to TRL's default (load_in_4bit false) are left out
        "loss_type": "grpo",
        "epsilon_high": 0.28,
        "max_grad_norm": 0.5,
        "scale_rewards": "batch",
        "gradient_checkpointing": False,
        "lr_scheduler_type": "cosine",
        "top_p": 0.9,
        "mask_truncated_completions": True,
        "log_completions": True,
        "vllm_mode": "server",
        "vllm_server_port": 8001,
    }
    assert captured[0].use_vllm is True


def test_trl_spelling_with_underscores_and_trl_names_of_our_options(captured):
    result = invoke("--loss_type", "dr_grpo", "--num_train_epochs", "2", "--model-name-or-path", "m", "--no-use-peft")
    assert result.exit_code == 0, result.output
    config = captured[0]
    assert (config.trl, config.epochs, config.model, config.lora) == ({"loss_type": "dr_grpo"}, 2.0, "m", False)


def test_trl_keys_in_the_yaml_file_and_the_command_line_wins(tmp_path, captured):
    path = tmp_path / "run.yaml"
    path.write_text("data: p.jsonl\nreward: engagement\nloss_type: bnpo\nepsilon-high: 0.28\nweight_decay: 1e-1\n")
    result = CliRunner().invoke(main, ["--config", str(path), "--epsilon-high", "0.3"])
    assert result.exit_code == 0, result.output
    assert captured[0].trl == {"loss_type": "bnpo", "epsilon_high": 0.3, "weight_decay": 0.1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--epsilon-high", "abc"], "--epsilon-high must be a number or null, got 'abc'", id="number"),
        pytest.param(["--top-p", "nan"], "--top-p must be a finite number, got nan", id="nan"),
        pytest.param(
            ["--gradient-checkpointing", "maybe"], "--gradient-checkpointing must be true or false", id="bool"
        ),
        pytest.param(["--vllm-server-port", "1.5"], "--vllm-server-port must be a whole number", id="int"),
        pytest.param(["--generation-kwargs", "{a: [}"], "--generation-kwargs must be", id="mapping"),
    ],
)
def test_bad_trl_values_are_one_line_exit_2(args, message, captured):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[0].startswith(f"Error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not captured


def test_trl_values_reach_grpo_config():
    from grpo_plugin.config import resolve
    from grpo_plugin.rewards import build_rewards
    from grpo_plugin.train import grpo_config

    config = resolve({"loss_type": "dr_grpo", "epsilon_high": "0.28", "beta": 0.04}, {"data": "p", "reward": "x"})
    args = grpo_config(config, build_rewards("math-format"))
    assert (args.loss_type, args.epsilon_high, args.beta, args.learning_rate) == ("dr_grpo", 0.28, 0.04, 1e-5)


def test_the_record_holds_every_trl_field_and_reads_back(tmp_path):
    import dataclasses

    from trl import GRPOConfig, ModelConfig

    from grpo_plugin.config import load_yaml, resolve, write_resolved

    config = resolve({"loss_type": "grpo", "top_p": "0.9"}, {"data": "p.jsonl", "reward": "engagement"})
    path = write_resolved(config, tmp_path, "a test")
    record = yaml.safe_load(path.read_text())
    assert (record["loss_type"], record["top_p"], record["epsilon"], record["lora_dropout"]) == ("grpo", 0.9, 0.2, 0.0)
    names = {f.name for cls in (GRPOConfig, ModelConfig) for f in dataclasses.fields(cls)}
    missing = names - set(record) - {"reward_weights", "parallelism_config", "bf16", "fp16", "use_cpu"}
    assert missing == {"dataloader_pin_memory", "num_train_epochs", "model_name_or_path", "use_peft", "hub_token"}
    assert resolve({}, load_yaml(path)) == config


def test_a_field_a_trl_upgrade_adds_is_an_option_and_a_key(monkeypatch, captured, tmp_path):
    import dataclasses

    from trl import GRPOConfig, ModelConfig

    from grpo_plugin import cli, trl_options

    @dataclasses.dataclass
    class NewerGRPOConfig(GRPOConfig):
        shiny_knob: int = dataclasses.field(default=3, metadata={"help": "A knob of a later TRL."})

    monkeypatch.setattr(trl_options, "trl_classes", lambda command: (NewerGRPOConfig, ModelConfig))
    trl_options.trl_fields.cache_clear()
    try:
        command = cli.trl_command(cli.TrainConfig)("grpo-train", params=main.params, callback=main.callback)
        result = CliRunner().invoke(command, ["--data", "p", "--reward", "x", "--shiny-knob", "5"])
        assert result.exit_code == 0, result.output
        assert captured[0].trl == {"shiny_knob": 5}
        assert "A knob of a later TRL. [TRL NewerGRPOConfig.shiny_knob; default: 3]" in " ".join(
            CliRunner().invoke(command, ["--help"]).output.split()
        )
    finally:
        trl_options.trl_fields.cache_clear()


@pytest.mark.parametrize("command", ["grpo", "sft"])
def test_help_describes_every_option(command):
    from grpo_plugin import sft_cli

    cmd = main if command == "grpo" else sft_cli.main
    ctx = cmd.make_context(cmd.name, ["--help"], resilient_parsing=True)
    options = [p for p in cmd.get_params(ctx) if isinstance(p, click.Option)]
    assert len(options) > 150
    assert [p.opts[0] for p in options if not (p.help or "").strip()] == []


def test_sft_takes_sft_configs_fields_and_keeps_its_defaults(monkeypatch, tmp_path):
    import grpo_plugin.sft
    from grpo_plugin import sft_cli

    seen = []
    monkeypatch.setattr(grpo_plugin.sft, "train_sft", lambda config: seen.append(config))
    result = CliRunner().invoke(sft_cli.main, ["--data", "p", "--max-length", "64", "--packing"])
    assert result.exit_code == 0, result.output
    args = grpo_plugin.sft.sft_config(seen[0])
    assert (args.max_length, args.packing, args.completion_only_loss) == (64, True, True)
    result = CliRunner().invoke(sft_cli.main, ["--data", "p", "--epsilon-high", "0.3"])
    assert result.exit_code == 2  # a GRPO option is no SFT option


def test_4bit_loading_without_a_gpu_is_one_line_exit_2(prompts, monkeypatch, tmp_path):
    from grpo_plugin import loading

    monkeypatch.setattr(loading, "on_gpu", lambda: False)
    result = invoke("--load-in-4bit", "--output-dir", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == "Error: --load-in-4bit needs a CUDA GPU (bitsandbytes quantizes on the GPU); none is visible"
    )
    assert not (tmp_path / "out").exists()


def test_8bit_loading_without_bitsandbytes_is_one_line_exit_2(prompts, monkeypatch, tmp_path):
    import importlib.util

    from grpo_plugin import loading

    monkeypatch.setattr(loading, "on_gpu", lambda: True)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "bitsandbytes" else real(name, *a)
    )
    result = invoke("--load-in-8bit", "true", "--output-dir", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: --load-in-8bit needs bitsandbytes: pip install 'rewardlab[qlora]'"


def test_gradient_checkpointing_and_trl_loss_settings_train_on_the_tiny_model(tiny_qwen, prompts, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["--model", str(tiny_qwen), "--data", str(prompts), "--reward", "math-format", "--output-dir", str(out),
         "--max-steps", "1", "--gradient-checkpointing", "--loss-type", "dr_grpo", "--attn-implementation", "eager",
         "--lora-dropout", "0.1", "--use-rslora", "--max-grad-norm", "0.5", *FAST],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    record = yaml.safe_load((out / "grpo-train.yaml").read_text())
    assert (record["gradient_checkpointing"], record["loss_type"], record["attn_implementation"]) == (
        True,
        "dr_grpo",
        "eager",
    )
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert (adapter["lora_dropout"], adapter["use_rslora"]) == (0.1, True)


def test_preflight_samples_with_the_runs_trl_sampling_settings():
    from grpo_plugin.config import resolve
    from grpo_plugin.train import sampling_settings

    config = resolve({"top_p": "0.9", "min_p": "0.05"}, {"data": "p", "reward": "x"})
    assert sampling_settings(config) == {"top_p": 0.9, "top_k": 0, "min_p": 0.05, "repetition_penalty": 1.0}


def test_use_vllm_without_vllm_is_one_line_exit_2(prompts, tmp_path):
    result = invoke("--use-vllm", "--vllm-mode", "colocate", "--output-dir", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: --use-vllm needs vllm: pip install 'rewardlab[vllm]'"
    assert not (tmp_path / "out").exists()


def test_the_record_leaves_credentials_out(tmp_path):
    from grpo_plugin.config import resolve, write_resolved

    config = resolve({"hub_token": "hf_secret"}, {"data": "p.jsonl", "reward": "engagement"})
    assert "hf_secret" not in write_resolved(config, tmp_path, "a test").read_text()
