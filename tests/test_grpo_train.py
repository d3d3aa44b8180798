"""grpo-train end to end on the tiny Qwen3 fixture (CPU, a few steps each): outputs, logged metrics, the
zero-variance warning, the curriculum inside the trainer, --preflight, --merge, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import read_jsonl

from grpo_plugin.cli import main

REWARDS = '''
import json

from rewardlab import Reward, Score, to_text


class Letters(Reward):
    """Share of the letter e, with two components logged through log_metric."""

    name = "letters"

    def score(self, prompts, completions, **columns):
        scores = []
        for completion in completions:
            text = to_text(completion)
            e = text.count("e") / max(1, len(text))
            scores.append(Score(e, {"e": e, "space": text.count(" ") / max(1, len(text))}))
        return scores


def length(completions, **kwargs):
    return [len(to_text(c)) / 100 for c in completions]


def constant(completions, **kwargs):
    return [1.0] * len(completions)


class DifficultyLog(Reward):
    """Writes the difficulty of every batch it scores, so a test can see the order prompts came in."""

    name = "difficulty_log"
    columns = ("difficulty",)

    def __init__(self, path):
        self.path = path

    def score(self, prompts, completions, difficulty, **columns):
        with open(self.path, "a") as handle:
            handle.write(json.dumps(difficulty) + "\\n")
        return [Score(len(to_text(c)) % 3 / 2) for c in completions]
'''

POSTS = [
    "Finished my first marathon today!",
    "Rain again all week. Anyone else tired of it?",
    "Just adopted a puppy, any name ideas?",
    "Our team lost the final last night.",
    "Trying to bake bread, any tips?",
    "The train was late again this morning.",
    "Started a new job today, wish me luck!",
    "What do you think about the new bike lanes?",
]

FAST = ["--max-completion-length", "8", "--num-generations", "4", "--per-device-train-batch-size", "8", "--seed", "0"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("grpo")
    (work / "rewards.py").write_text(REWARDS)
    rows = [{"prompt": POSTS[i % len(POSTS)] + f" #{i}", "difficulty": i % 5} for i in range(32)]
    (work / "prompts.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return work


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(tiny_qwen: Path, workdir: Path) -> tuple[Path, object]:
    out = workdir / "run"
    rewards = f"{workdir / 'rewards.py'}:Letters,{workdir / 'rewards.py'}:length"
    result = run(
        "--model", str(tiny_qwen), "--data", str(workdir / "prompts.jsonl"), "--reward", rewards,
        "--weights", "1,0.5", "--output-dir", str(out), "--max-steps", "2", "--system-prompt", "Reply kindly.",
        "--merge", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out, result


def test_output_dir_holds_adapter_state_tokenizer_and_config(trained):
    out, _ = trained
    for name in (
        "adapter_model.safetensors",
        "adapter_config.json",
        "trainer_state.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "grpo-train.yaml",
    ):
        assert (out / name).is_file(), name
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert (adapter["r"], adapter["lora_alpha"]) == (16, 32)
    assert "reward: " in (out / "grpo-train.yaml").read_text()


def test_each_reward_and_each_component_is_logged(trained):
    out, _ = trained
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    steps = [entry for entry in history if "reward" in entry]
    assert len(steps) == 2
    for key in ("rewards/letters/mean", "rewards/length/mean", "letters/e", "letters/space", "frac_reward_zero_std"):
        assert key in steps[0], key
    weighted = steps[0]["rewards/letters/mean"] + 0.5 * steps[0]["rewards/length/mean"]
    assert steps[0]["reward"] == pytest.approx(weighted, abs=1e-5)


def test_merge_writes_a_full_model_that_loads(trained):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, result = trained
    merged = AutoModelForCausalLM.from_pretrained(out / "merged")
    assert not hasattr(merged, "peft_config")
    assert AutoTokenizer.from_pretrained(out / "merged") is not None
    assert f"merged model: {out / 'merged'}" in result.output


def test_adapter_loads_onto_the_base_model(trained, tiny_qwen):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out, _ = trained
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_qwen), out)
    assert model.peft_config["default"].r == 16


def test_constant_reward_triggers_the_zero_variance_warning(tiny_qwen, workdir):
    result = run(
        "--model", str(tiny_qwen), "--data", str(workdir / "prompts.jsonl"),
        "--reward", f"{workdir / 'rewards.py'}:constant", "--output-dir", str(workdir / "constant"),
        "--max-steps", "3", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr.count("zero reward variance") == 1
    assert "no gradient" in result.stderr


def test_varied_reward_gives_no_zero_variance_warning(trained):
    _, result = trained
    assert "zero reward variance" not in result.stderr


def test_curriculum_starts_with_the_easiest_prompts(tiny_qwen, workdir):
    log = workdir / "difficulty.jsonl"
    result = run(
        "--model", str(tiny_qwen), "--data", str(workdir / "prompts.jsonl"),
        "--reward", f"{workdir / 'rewards.py'}:DifficultyLog", "-p", f"path={log}",
        "--output-dir", str(workdir / "curriculum"), "--curriculum", "learnability", "--max-steps", "3",
        "--max-completion-length", "4", "--num-generations", "4", "--per-device-train-batch-size", "8",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    batches = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(batches) == 3
    # 7 of the 32 prompts have difficulty 0; the first three batches (2 prompts each) use only those.
    assert all(d == 0 for batch in batches for d in batch)


def test_preflight_prints_the_spread_and_trains_nothing(tiny_qwen, workdir):
    out = workdir / "preflight"
    result = run(
        "--model", str(tiny_qwen), "--data", str(workdir / "prompts.jsonl"),
        "--reward", f"{workdir / 'rewards.py'}:Letters,{workdir / 'rewards.py'}:constant",
        "--output-dir", str(out), "--preflight", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "preflight: 4 prompts × 4 completions" in result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert lines["constant"].endswith("4/4 (100%)")
    assert "letters" in lines and "total" in lines
    assert not out.exists()


def test_preflight_warns_on_a_constant_reward(tiny_qwen, workdir):
    result = run(
        "--model", str(tiny_qwen), "--data", str(workdir / "prompts.jsonl"),
        "--reward", f"{workdir / 'rewards.py'}:constant", "--preflight", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0
    assert "zero reward variance" in result.output


def test_no_lora_trains_and_saves_the_full_model(tiny_qwen, workdir):
    out = workdir / "full"
    result = run(
        "--model", str(tiny_qwen), "--data", str(workdir / "prompts.jsonl"), "--output-dir", str(out),
        "--reward", f"{workdir / 'rewards.py'}:length", "--no-lora", "--max-steps", "1", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "model.safetensors").is_file()
    assert not (out / "adapter_config.json").exists()
    assert "saved the model," in result.output


def test_resume_from_the_last_checkpoint(tiny_qwen, workdir):
    out = workdir / "resume"
    common = ["--model", str(tiny_qwen), "--data", str(workdir / "prompts.jsonl"), "--output-dir", str(out)]
    common += ["--reward", f"{workdir / 'rewards.py'}:length", *FAST]
    assert run(*common, "--max-steps", "2", "--save-steps", "1").exit_code == 0
    result = run(*common, "--max-steps", "3", "--resume-from-checkpoint", "last")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 3
    steps = [row["step"] for row in read_jsonl(out / "samples.jsonl")]
    assert steps == sorted(steps) and set(steps) == {1, 2, 3}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--reward", "math-accuracy"],
            "prompts.jsonl:1: reward 'math-accuracy' needs column 'solution'",
            id="column",
        ),
        pytest.param(["--reward", "no-such-reward"], "unknown reward 'no-such-reward'", id="reward"),
        pytest.param(
            ["--reward", "math-format", "--model", "/no/such/model"], "cannot load model '/no/such/model'", id="model"
        ),
        pytest.param(
            ["--reward", "math-format", "--per-device-train-batch-size", "6"],
            "must be divisible by num_generations",
            id="batch",
        ),
        pytest.param(["--reward", "math-format", "--no-lora", "--merge"], "--merge merges a LoRA adapter", id="merge"),
        pytest.param(
            ["--reward", "math-format", "--per-device-train-batch-size", "256"],
            "has 32 prompts but each generation batch needs 64 distinct ones",
            id="too-few-prompts",
        ),
        pytest.param(
            ["--reward", "math-format", "--output-dir", "/nonexistent", "--resume-from-checkpoint", "last"],
            "no checkpoint-* directory in /nonexistent",
            id="resume",
        ),
        pytest.param(
            ["--reward", "math-format", "--resume-from-checkpoint", "/tmp"],
            "/tmp is not a checkpoint directory",
            id="resume-not-a-checkpoint",
        ),
        pytest.param(
            ["--reward", "math-format", "--lora-target-modules", "no_such_proj"],
            "cannot set up training",
            id="lora-targets",
        ),
        pytest.param(
            ["--reward", "math-format", "--output-dir", "/proc/no-such-dir"],
            "--output-dir: cannot create /proc/no-such-dir: No such file or directory",
            id="output-dir",
        ),
    ],
)
def test_user_errors_are_one_line_exit_2(workdir, tiny_qwen, tmp_path, args, message):
    # An --output-dir of the case's own (a later one in args wins): the default, runs/grpo, may hold a demo's run.
    common = ["--data", str(workdir / "prompts.jsonl"), "--model", str(tiny_qwen), "--num-generations", "4"]
    result = CliRunner().invoke(main, [*common, "--output-dir", str(tmp_path / "out"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_monitor_logs_component_spread_and_reward_time_and_keeps_samples(trained):
    from grpo_plugin.monitor import SAMPLES_PER_STEP

    out, _ = trained
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    steps = [entry for entry in history if "reward" in entry]
    for stat in ("mean", "std", "min", "max"):
        assert f"monitor/letters/e/{stat}" in steps[0] and f"monitor/length/{stat}" in steps[0]
    assert steps[0]["monitor/letters/e/min"] <= steps[0]["monitor/letters/e/mean"] <= steps[0]["monitor/letters/e/max"]
    assert 0 < steps[0]["monitor/reward_time_share"] < 1
    assert 0 <= steps[0]["monitor/near_zero_std_share"] <= 1
    samples = read_jsonl(out / "samples.jsonl")
    assert [s["step"] for s in samples] == [1] * SAMPLES_PER_STEP + [2] * SAMPLES_PER_STEP
    first = samples[0]
    assert set(first) == {"step", "prompt", "completion", "reward", "rewards", "components"}
    assert first["reward"] == pytest.approx(first["rewards"]["letters"] + 0.5 * first["rewards"]["length"])
    assert "letters/e" in first["components"]


def test_rewardlab_analyze_reads_the_run(trained):
    from rewardlab.cli import main as rewardlab_main

    out, _ = trained
    result = CliRunner().invoke(rewardlab_main, ["analyze", str(out)])
    assert result.exit_code == 0, result.output
    assert "monitor/letters/e/mean" in result.stdout and "samples.jsonl: 16 samples over 2 steps" in result.stdout
