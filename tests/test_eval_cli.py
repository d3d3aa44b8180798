"""The evalkit command line: passk, selfbleu, accuracy and compare, their JSON, reports and one-line errors."""

import json
import shutil

import pytest
from click.testing import CliRunner
from helpers import write_jsonl

from eval.cli import main
from eval.passk import pass_at_k
from eval.runs import read_generations
from rewardlab.metrics.selfbleu import self_bleu


@pytest.fixture
def runs_dir(fixtures_dir):
    return fixtures_dir / "runs"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_passk_json_reports_every_k_with_n(runs_dir):
    path = runs_dir / "grpo" / "generations.jsonl"
    result = invoke("passk", path, "--k", "1,5,10", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [entry["k"] for entry in payload["pass_at_k"]] == [1, 5, 10]
    assert all(entry["n"] == entry["n_min"] == entry["n_max"] == 10 for entry in payload["pass_at_k"])
    assert all(entry["units"] == 20 for entry in payload["pass_at_k"])
    rows = read_generations(path)
    prompts = {g.prompt_id for g in rows}
    expected = sum(pass_at_k(10, sum(g.correct for g in rows if g.prompt_id == p), 5) for p in prompts) / len(prompts)
    assert payload["pass_at_k"][1]["value"] == pytest.approx(expected)


def test_passk_json_gives_no_single_n_when_prompts_differ(tmp_path):
    rows = [{"prompt_id": "a", "completion": "x", "correct": i == 0} for i in range(3)]
    rows += [{"prompt_id": "b", "completion": "x", "correct": True} for _ in range(2)]
    result = invoke("passk", write_jsonl(tmp_path / "r.jsonl", rows), "--k", "2", "--json")
    (entry,) = json.loads(result.output)["pass_at_k"]
    assert (entry["n"], entry["n_min"], entry["n_max"]) == (None, 2, 3)
    assert entry["value"] == pytest.approx((pass_at_k(3, 1, 2) + 1.0) / 2)


def test_passk_with_k_above_the_samples_is_a_one_line_error(runs_dir):
    result = invoke("passk", runs_dir / "baseline" / "generations.jsonl", "--k", "1,20")
    assert result.exit_code == 2
    assert "pass@20 needs at least 20 samples per prompt" in result.output
    assert "use --k values up to 10" in result.output
    assert "Traceback" not in result.output


def test_selfbleu_grouped_json_matches_the_library(runs_dir):
    path = runs_dir / "baseline" / "generations.jsonl"
    result = invoke("selfbleu", path, "--group-by", "prompt_id", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    rows = read_generations(path)
    expected = self_bleu([g.completion for g in rows], groups=[g.prompt_id for g in rows])
    assert payload["self_bleu"] == pytest.approx(expected, abs=1e-12)
    assert payload["groups"] == 20
    assert payload["signature"].startswith("self-bleu|mode:sacrebleu")


def test_selfbleu_warns_when_groups_differ_in_size(tmp_path):
    path = write_jsonl(
        tmp_path / "g.jsonl",
        [{"prompt_id": p, "completion": c} for p, c in [(1, "a b"), (1, "a b"), (1, "a c"), (2, "x"), (2, "y")]],
    )
    result = invoke("selfbleu", path, "--group-by", "prompt_id")
    assert result.exit_code == 0, result.output
    assert "warning: Self-BLEU groups differ in size (2 to 3 texts)" in result.output


def test_accuracy_json_has_stderr_and_interval(runs_dir):
    result = invoke("accuracy", runs_dir / "grpo" / "generations.jsonl", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["units"] == "prompts"
    low, high = payload["accuracy"]["ci"]
    assert low < payload["accuracy"]["value"] < high
    assert payload["accuracy"]["stderr"] > 0
    assert "mean_reward" in payload


def test_compare_prints_the_table_and_writes_the_report(runs_dir, tmp_path):
    out = tmp_path / "report"
    result = invoke("compare", "baseline", "grpo", "--runs-dir", runs_dir, "--out", out)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("metric"))
    assert header.split()[:5] == ["metric", "baseline", "grpo", "diff", "95%"]
    assert {p.name for p in out.iterdir()} == {"report.md", "report.json", "metrics.png", "pass_at_k.png"}
    assert (out / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "report.json").read_text())
    names = [m["name"] for m in report["metrics"]]
    assert names[:3] == ["pass@1", "pass@5", "pass@10"]
    assert {"mean reward", "Self-BLEU", "distinct-2", "accuracy, first sample"} <= set(names)
    for metric in report["metrics"]:
        (comparison,) = metric["comparisons"]
        assert 0 < comparison["p_value"] <= 1
        assert set(metric["runs"]) == {"baseline", "grpo"}
    assert report["settings"]["seed"] == 0 and report["settings"]["n_boot"] == 1000
    assert report["versions"]["sacrebleu"]
    assert report["signature"].startswith("evalkit|k:1,5,10|boot:1000|seed:0")
    assert "| pass@1 (n=10) |" in (out / "report.md").read_text()


def test_compare_names_the_better_run_in_the_direction_of_each_metric(runs_dir, tmp_path):
    # In the fixtures grpo has clearly higher rewards and clearly higher Self-BLEU (less diverse: lower is better).
    result = invoke("compare", "baseline", "grpo", "--runs-dir", runs_dir, "--out", tmp_path / "report")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    (first_sample,) = [m["comparisons"][0] for m in report["metrics"] if m["name"] == "accuracy, first sample"]
    winners = {m["name"]: m["comparisons"][0]["winner"] for m in report["metrics"]}
    assert winners["mean reward"] == "grpo"
    assert winners["Self-BLEU"] == "baseline"
    assert winners["distinct-2"] == "baseline"
    assert first_sample["test"] == "McNemar exact" and first_sample["winner"] is None


def test_compare_leaves_out_default_k_above_the_samples_with_a_note(runs_dir, tmp_path):
    for name in ("baseline", "grpo"):
        rows = [json.loads(line) for line in (runs_dir / name / "generations.jsonl").read_text().splitlines()]
        write_jsonl(tmp_path / "runs" / name / "generations.jsonl", [r for r in rows if r["sample"] < 4])
    out = tmp_path / "o"
    result = invoke("compare", "baseline", "grpo", "--runs-dir", tmp_path / "runs", "--out", out)
    assert result.exit_code == 0, result.output
    assert "note: pass@5, pass@10 not reported: a prompt has only 4 samples" in result.output
    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["k"] == [1]
    assert [m["name"] for m in report["metrics"]][0] == "pass@1"


def test_compare_is_reproducible_for_a_seed(runs_dir, tmp_path):
    for name in ("a", "b"):
        invoke("compare", "baseline", "grpo", "--runs-dir", runs_dir, "--out", tmp_path / name, "--seed", 5)
    first, second = (json.loads((tmp_path / n / "report.json").read_text()) for n in ("a", "b"))
    assert first["metrics"] == second["metrics"]


def test_compare_accepts_files_and_three_runs(runs_dir, tmp_path):
    third = tmp_path / "third.jsonl"
    shutil.copy(runs_dir / "grpo" / "generations.jsonl", third)
    result = invoke(
        "compare", runs_dir / "baseline", runs_dir / "grpo" / "generations.jsonl", third, "--out", tmp_path / "o"
    )
    assert result.exit_code == 0, result.output
    assert "grpo, third against baseline:" in result.output


def test_compare_names_the_prompts_that_differ(runs_dir, tmp_path):
    rows = [json.loads(line) for line in (runs_dir / "grpo" / "generations.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["prompt_id"] != "q03"] + [dict(r, prompt_id="q99") for r in rows[:10]]
    write_jsonl(tmp_path / "runs" / "other" / "generations.jsonl", rows)
    shutil.copytree(runs_dir / "baseline", tmp_path / "runs" / "baseline")
    result = invoke("compare", "baseline", "other", "--runs-dir", tmp_path / "runs", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "other lacks 1 prompt ('q03') of baseline" in result.output
    assert "other has 1 prompt ('q99') that baseline lacks" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_compare_names_a_prompt_with_another_sample_count(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"prompt_id": "p", "completion": "x", "correct": True}] * 2)
    write_jsonl(tmp_path / "b.jsonl", [{"prompt_id": "p", "completion": "x", "correct": True}] * 3)
    result = invoke("compare", tmp_path / "a.jsonl", tmp_path / "b.jsonl", "--k", "1")
    assert result.exit_code == 2
    assert "prompt 'p' has 2 in a" in result.output and "and 3 in b" in result.output


def test_compare_scores_rows_without_correct_with_a_reward(tmp_path):
    reward_file = tmp_path / "my_reward.py"
    reward_file.write_text(
        "def exact(prompts, completions, solution, **kwargs):\n"
        "    return [1.0 if c.strip() == s else 0.0 for c, s in zip(completions, solution)]\n"
    )
    for name, answers in (("base", ["4", "5", "4", "3"]), ("tuned", ["4", "4", "4", "5"])):
        rows = [
            {"prompt_id": f"p{i // 2}", "sample": i % 2, "completion": a, "solution": "4"}
            for i, a in enumerate(answers)
        ]
        write_jsonl(tmp_path / "runs" / name / "generations.jsonl", rows)
    spec = f"{reward_file}:exact"
    out = tmp_path / "o"
    args = ["compare", "base", "tuned", "--runs-dir", tmp_path / "runs", "--reward", spec, "--k", "1,2", "--out", out]
    result = invoke(*args, "--threshold", "0.5")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    pass1 = next(m for m in report["metrics"] if m["name"] == "pass@1")
    assert pass1["runs"]["base"]["value"] == 0.5 and pass1["runs"]["tuned"]["value"] == 0.75
    assert report["settings"]["reward"]["threshold"] == 0.5
    assert report["settings"]["reward"]["correct"] == "exact >= 0.5 (--threshold)"
    assert [r["rows_scored_by_reward"] for r in report["runs"]] == [4, 4]
    assert "note: only 2 prompts: bootstrap intervals and p-values are unreliable" in result.output


def test_rows_without_correct_and_without_reward_option_are_a_one_line_error(tmp_path):
    path = write_jsonl(
        tmp_path / "r.jsonl",
        [{"prompt_id": "p", "completion": "x", "correct": True}, {"prompt_id": "p", "completion": "y"}],
    )
    result = invoke("passk", path, "--k", "1")
    assert result.exit_code == 2
    assert f"{path}:2: field 'correct': missing; give --reward SPEC" in result.output


@pytest.mark.parametrize(
    ("row", "message"),
    [
        pytest.param(
            {"prompt_id": "p", "completion": "x", "correct": "yes"},
            "field 'correct': expected true or false",
            id="correct",
        ),
        pytest.param({"prompt_id": "p", "completion": 3, "correct": True}, "field 'completion'", id="completion"),
        pytest.param(
            {"prompt_id": "p", "completion": "x", "correct": True, "reward": "high"}, "field 'reward'", id="reward"
        ),
        pytest.param({"prompt_id": [1], "completion": "x", "correct": True}, "field 'prompt_id'", id="prompt_id"),
        pytest.param(
            {"prompt_id": "p", "completion": "x", "correct": True, "reward": float("nan")},
            "field 'reward': expected a finite number",
            id="reward-nan",
        ),
    ],
)
def test_bad_fields_are_reported_with_file_and_line(tmp_path, row, message):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"prompt_id": "p", "completion": "ok", "correct": False}, row])
    result = invoke("accuracy", path)
    assert result.exit_code == 2
    assert f"{path}:2: {message}" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_unknown_run_is_a_one_line_error(tmp_path):
    result = invoke("compare", "nope", "also-nope", "--runs-dir", tmp_path)
    assert result.exit_code == 2
    assert (
        f"run 'nope' not found: it is not a file, and {tmp_path / 'nope' / 'generations.jsonl'} does not exist"
        in result.output
    )


def test_compare_needs_two_runs(runs_dir):
    result = invoke("compare", "baseline", "--runs-dir", runs_dir)
    assert result.exit_code == 2
    assert "at least two runs" in result.output


def test_help_lists_every_command():
    result = invoke("--help")
    for command in ("passk", "selfbleu", "accuracy", "compare", "generate"):
        assert command in result.output


@pytest.mark.parametrize("option", [["--bootstrap", "0"], ["--seed", "-1"]])
def test_bad_resampling_options_are_refused(runs_dir, option):
    result = invoke("accuracy", f"{runs_dir}/grpo/generations.jsonl", *option)
    assert result.exit_code == 2
    assert f"Invalid value for '{option[0]}'" in result.output


def test_a_run_compared_with_itself_is_a_one_line_error(runs_dir):
    result = invoke("compare", "grpo", "grpo", "--runs-dir", runs_dir)
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"Error: 'grpo' and 'grpo' are the same run ({runs_dir / 'grpo' / 'generations.jsonl'}): "
        "compare different runs"
    )


def test_one_bootstrap_resample_still_gives_a_report_with_plots(runs_dir, tmp_path):
    result = invoke("compare", "baseline", "grpo", "--runs-dir", runs_dir, "--bootstrap", 1, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "metrics.png").stat().st_size > 0 and (tmp_path / "pass_at_k.png").stat().st_size > 0
