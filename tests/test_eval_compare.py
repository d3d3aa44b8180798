"""evalkit compare: pairing by prompt_id and prompt text, one source per field, Holm over three or more runs."""

import json
import random

import pytest
from click.testing import CliRunner
from helpers import read_jsonl, write_jsonl

from eval.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def fixture_rows(fixtures_dir, name):
    text = (fixtures_dir / "runs" / name / "generations.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_compare_refuses_runs_whose_prompt_texts_differ_and_names_the_first(fixtures_dir, tmp_path):
    rows = fixture_rows(fixtures_dir, "grpo")
    changed = [dict(r, prompt="another question") if r["prompt_id"] in ("q02", "q05") else r for r in rows]
    other = write_jsonl(tmp_path / "other.jsonl", changed)
    result = invoke("compare", fixtures_dir / "runs" / "baseline", other, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "runs differ in prompt text: prompt_id 'q02' has one text in baseline" in result.output
    assert f"and another in other ({other}:11)" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_rows_of_one_prompt_with_different_texts_are_an_error(tmp_path):
    rows = [
        {"prompt_id": "p", "prompt": "What is 2+2?", "completion": "4", "correct": True},
        {"prompt_id": "p", "prompt": "What is 3+3?", "completion": "6", "correct": True},
    ]
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    result = invoke("passk", path, "--k", "1")
    assert result.exit_code == 2
    assert f"{path}:2: field 'prompt': differs from line 1, another row of prompt_id 'p'" in result.output


def scored_and_unscored(tmp_path):
    solved = [
        {"prompt_id": f"p{i}", "prompt": "2+2?", "completion": "4", "solution": "4", "correct": True, "reward": 1.0}
        for i in range(3)
    ]
    write_jsonl(tmp_path / "runs" / "base" / "generations.jsonl", solved)
    bare = [{key: value for key, value in row.items() if key not in ("correct", "reward")} for row in solved]
    write_jsonl(tmp_path / "runs" / "tuned" / "generations.jsonl", bare)
    reward = tmp_path / "exact.py"
    reward.write_text(
        "def exact(prompts, completions, solution, **kwargs):\n"
        "    return [1.0 if c == s else 0.0 for c, s in zip(completions, solution)]\n"
    )
    return ["compare", "base", "tuned", "--runs-dir", tmp_path / "runs", "--reward", f"{reward}:exact"]


def test_compare_refuses_stored_values_in_one_run_and_scored_ones_in_another(tmp_path):
    args = scored_and_unscored(tmp_path)
    result = invoke(*args, "--threshold", "1", "--k", "1", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "correct comes from the file in base and from --reward in tuned" in result.output
    assert "give --allow-mixed" in result.output
    assert not (tmp_path / "o").exists()


def test_mixed_sources_when_allowed_are_printed_and_reported(tmp_path):
    args = scored_and_unscored(tmp_path)
    result = invoke(*args, "--threshold", "1", "--k", "1", "--allow-mixed", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert "base: correct from the file (3 rows); reward from the file (3 rows)" in result.output
    assert "tuned: correct scored by --reward (3 rows); reward scored by --reward (3 rows)" in result.output
    assert "note: mixed sources (--allow-mixed): correct comes from the file in base" in result.output
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert any(note.startswith("mixed sources") for note in report["notes"])


def synthetic_runs(tmp_path, accuracies, prompts=40, samples=2):
    rng = random.Random(0)
    names = []
    for name, accuracy in accuracies.items():
        rows = [
            {
                "prompt_id": f"p{p}",
                "sample": s,
                "completion": f"answer {rng.randint(0, 9)}",
                "correct": rng.random() < accuracy,
            }
            for p in range(prompts)
            for s in range(samples)
        ]
        write_jsonl(tmp_path / "runs" / name / "generations.jsonl", rows)
        names.append(name)
    return names


def test_holm_adjusts_each_metric_over_the_runs_tested_against_the_first():
    from eval.stats import holm

    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.2]) == [0.2]
    assert holm([0.04, 0.3]) == pytest.approx([0.08, 0.3])


def test_compare_of_four_runs_reports_raw_and_holm_p_and_calls_winners_on_the_adjusted_p(tmp_path):
    names = synthetic_runs(tmp_path, {"base": 0.3, "sft": 0.5, "grpo": 0.6, "poly": 0.55})
    out = tmp_path / "o"
    result = invoke("compare", *names, "--runs-dir", tmp_path / "runs", "--k", "1", "--out", out)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "base", "sft", "grpo", "poly", "test"]
    assert sum(line.startswith("metric") for line in result.output.splitlines()) == 1
    assert "▲/▼: better/worse than base where Holm-adjusted p < 0.05" in result.output
    from eval.stats import holm

    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["multiple_comparisons"].startswith("Holm")
    for metric in report["metrics"]:
        comparisons = metric["comparisons"]
        assert [c["run"] for c in comparisons] == ["sft", "grpo", "poly"]
        assert [c["p_value_holm"] for c in comparisons] == pytest.approx(holm([c["p_value"] for c in comparisons]))
        for c in comparisons:
            if c["winner"] is not None:
                assert c["p_value_holm"] < 0.05
    assert "| metric | base | sft | grpo | poly | test |" in (out / "report.md").read_text()
    assert all((out / name).read_bytes()[:4] == b"\x89PNG" for name in ("metrics.png", "pass_at_k.png"))


def test_a_difference_significant_only_before_adjustment_has_no_winner(tmp_path):
    # One sample per prompt: "a" gains 6 prompts over base and loses none, McNemar exact p = 2 / 2**6 = 0.031;
    # "b" and "c" equal base (p = 1). Alone, "a" wins; tested beside b and c, Holm lifts its p to 0.094.
    solved = {"base": 4, "a": 10, "b": 4, "c": 4}
    for name, count in solved.items():
        rows = [{"prompt_id": f"p{i}", "completion": "x", "correct": i < count} for i in range(20)]
        write_jsonl(tmp_path / "runs" / name / "generations.jsonl", rows)

    def first_sample(*names):
        out = tmp_path / "-".join(names)
        result = invoke("compare", *names, "--runs-dir", tmp_path / "runs", "--k", "1", "--out", out)
        assert result.exit_code == 0, result.output
        report = json.loads((out / "report.json").read_text())
        (metric,) = [m for m in report["metrics"] if m["name"] == "accuracy, first sample"]
        return metric["comparisons"][0]

    alone = first_sample("base", "a")
    assert alone["p_value"] == pytest.approx(2 / 2**6) and alone["winner"] == "a"
    beside = first_sample("base", "a", "b", "c")
    assert beside["p_value"] == pytest.approx(2 / 2**6)
    assert beside["p_value_holm"] == pytest.approx(3 * 2 / 2**6)
    assert beside["winner"] is None


def test_one_table_of_four_runs_marks_the_run_better_than_the_first(tmp_path):
    names = synthetic_runs(tmp_path, {"base": 0.1, "same": 0.1, "better": 0.9, "again": 0.1}, prompts=60)
    result = invoke("compare", *names, "--runs-dir", tmp_path / "runs", "--k", "1", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("pass@1"))
    assert row.count("▲") == 1 and "▼" not in row
    assert row.index("▲") > row.index("+0.")


def components_run(tmp_path, name, fmt):
    rows = [
        {
            "prompt_id": f"p{p}",
            "sample": s,
            "completion": "x",
            "correct": s == 0,
            "reward": 1.0 + fmt(p, s),
            "components": {"acc": float(s == 0), "fmt": fmt(p, s)},
        }
        for p in range(12)
        for s in range(3)
    ]
    return write_jsonl(tmp_path / f"{name}.jsonl", rows)


def test_compare_shows_a_delta_per_reward_component(tmp_path):
    base = components_run(tmp_path, "base", lambda p, s: 0.0)
    tuned = components_run(tmp_path, "tuned", lambda p, s: 1.0)
    result = invoke("compare", base, tuned, "--k", "1", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    metrics = {m["name"]: m for m in json.loads((tmp_path / "o" / "report.json").read_text())["metrics"]}
    assert metrics["component fmt"]["comparisons"][0]["difference"] == pytest.approx(1.0)
    assert metrics["component acc"]["comparisons"][0]["difference"] == 0.0
    assert "component fmt" in result.output


def test_a_component_missing_from_one_run_is_named_in_a_note_not_compared(tmp_path):
    base = components_run(tmp_path, "base", lambda p, s: 0.0)
    rows = [dict(r, components={"acc": r["components"]["acc"]}) for r in read_jsonl(base)]
    other = write_jsonl(tmp_path / "other.jsonl", rows)
    result = invoke("compare", base, other, "--k", "1", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert "component acc" in result.output and "component fmt" not in result.output
    assert "components not compared (not in every run, or missing in some rows): fmt" in result.output


def test_per_prompt_writes_each_prompts_pass_rate_in_every_run(tmp_path):
    names = synthetic_runs(tmp_path, {"base": 0.3, "sft": 0.6}, prompts=5, samples=4)
    out = tmp_path / "rates.jsonl"
    result = invoke(
        "compare", *names, "--runs-dir", tmp_path / "runs", "--k", "1", "--out", tmp_path / "o", "--per-prompt", out
    )
    assert result.exit_code == 0, result.output
    rates = read_jsonl(out)
    assert [r["prompt_id"] for r in rates] == [f"p{i}" for i in range(5)]
    source = read_jsonl(tmp_path / "runs" / "sft" / "generations.jsonl")
    solved = sum(r["correct"] for r in source if r["prompt_id"] == "p0")
    assert rates[0]["samples"] == 4 and rates[0]["pass_rate"]["sft"] == solved / 4


def test_components_of_rows_scored_by_reward_are_compared(fixtures_dir, tmp_path):
    paths = []
    for name in ("baseline", "grpo"):
        rows = [
            {k: v for k, v in r.items() if k not in ("reward", "correct")} for r in fixture_rows(fixtures_dir, name)
        ]
        paths.append(write_jsonl(tmp_path / f"{name}.jsonl", rows))
    result = invoke("compare", *paths, "--reward", "math", "--k", "1", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    names = [m["name"] for m in json.loads((tmp_path / "o" / "report.json").read_text())["metrics"]]
    assert {"component math-accuracy", "component math-format", "component math-tags"} <= set(names)
