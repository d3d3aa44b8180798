"""The example accelerate configs parse, and accelerate itself accepts every key they use."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

CONFIGS = Path(__file__).resolve().parent.parent / "examples" / "accelerate"
EXPECTED = {
    "ddp.yaml": ("MULTI_GPU", None),
    "zero2.yaml": ("DEEPSPEED", 2),
    "zero3.yaml": ("DEEPSPEED", 3),
}
REQUIRED = (
    "compute_environment",
    "distributed_type",
    "num_processes",
    "num_machines",
    "machine_rank",
    "mixed_precision",
)


@pytest.mark.parametrize(("name", "kind", "stage"), [pytest.param(n, k, s, id=n) for n, (k, s) in EXPECTED.items()])
def test_config_has_the_keys_accelerate_needs(name: str, kind: str, stage: int | None) -> None:
    config = yaml.safe_load((CONFIGS / name).read_text(encoding="utf-8"))
    assert all(key in config for key in REQUIRED)
    assert config["distributed_type"] == kind
    assert config["num_processes"] >= 2 and config["num_machines"] == 1
    assert config["use_cpu"] is False
    if stage is not None:
        assert config["deepspeed_config"]["zero_stage"] == stage


def test_zero3_builds_sharded_and_saves_a_whole_model() -> None:
    config = yaml.safe_load((CONFIGS / "zero3.yaml").read_text(encoding="utf-8"))["deepspeed_config"]
    assert config["zero3_init_flag"] is True
    assert config["zero3_save_16bit_model"] is True


@pytest.mark.parametrize("name", list(EXPECTED))
def test_accelerate_loads_config_and_knows_every_key(name: str) -> None:
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.commands.launch import launch_command_parser

    config = load_config_from_file(str(CONFIGS / name))
    assert config.distributed_type.value == EXPECTED[name][0]
    launch_options = {action.dest for action in launch_command_parser()._actions}
    assert set(config.deepspeed_config) <= launch_options


def test_readme_launches_grpo_train_with_each_config() -> None:
    readme = (CONFIGS / "README.md").read_text(encoding="utf-8")
    assert "accelerate launch --config_file examples/accelerate/" in readme
    assert "grpo_plugin.cli" in readme
    assert all(name in readme for name in EXPECTED)
