import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import write_jsonl

from rewardlab.analysis.scored import NEAR_ZERO_FRACTION, analyze_rows
from rewardlab.analysis.sketch import DISTINCT_LIMIT, Comoments, ValueSketch
from rewardlab.cli import main
from rewardlab.engine.read import Row

MATH = Path(__file__).resolve().parents[1] / "fixtures" / "math.jsonl"


@pytest.fixture
def runner():
    return CliRunner()


def rows_of(records):
    return [Row(i + 1, r) for i, r in enumerate(records)]


def test_analyze_scores_the_math_fixture_and_reports_its_few_distinct_totals(runner, tmp_path):
    out = tmp_path / "analysis.json"
    result = runner.invoke(main, ["analyze", str(MATH), "--reward", "math", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["distinct"]["reward"] == 6
    assert report["quantiles"]["reward"]["p0"] == 0.0625 and report["quantiles"]["reward"]["p100"] == 1.5
    assert report["groups"]["count"] == 40 and report["groups"]["zero_variance_share"] == 0.0
    assert report["correlation"]["reward"]["math-tags"] == pytest.approx(0.369, abs=0.01)
    assert report["correlation"]["reward"]["math-accuracy"] == pytest.approx(0.924, abs=0.01)
    assert report["breakdown"]["kind"]["truncated"]["mean"] == 0.0625
    assert "groups by prompt_id" in result.stdout and "reward by kind" in result.stdout


def test_analyze_reads_an_already_scored_file_the_same_as_scoring_it(runner, tmp_path):
    scored = tmp_path / "scored.jsonl"
    assert runner.invoke(main, ["score", str(MATH), "-r", "math", "-o", str(scored)]).exit_code == 0
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    runner.invoke(main, ["analyze", str(scored), "--json", str(first)])
    runner.invoke(main, ["analyze", str(MATH), "-r", "math", "--json", str(second)])
    assert json.loads(first.read_text()) == json.loads(second.read_text())


def test_an_unscored_file_without_reward_is_a_one_line_error(runner):
    result = runner.invoke(main, ["analyze", str(MATH)])
    assert result.exit_code == 2
    assert "math.jsonl:1: field 'reward': no reward" in result.stderr


def test_groups_with_a_tiny_spread_count_as_near_zero_not_zero_variance():
    tiny = NEAR_ZERO_FRACTION / 10
    records = [
        {"prompt": "a", "reward": 0.0},
        {"prompt": "a", "reward": 1.0},
        {"prompt": "b", "reward": 0.5},
        {"prompt": "b", "reward": 0.5 + tiny},
        {"prompt": "c", "reward": 0.2},
        {"prompt": "c", "reward": 0.2},
    ]
    groups = analyze_rows(rows_of(records), "x").as_dict()["groups"]
    assert groups["count"] == 3
    assert groups["zero_variance_share"] == pytest.approx(1 / 3)
    assert groups["near_zero_share"] == pytest.approx(2 / 3)


def test_within_group_share_is_one_when_every_group_has_the_same_mean_and_zero_when_groups_are_ties():
    mixed = [{"prompt_id": p, "reward": r} for p in ("a", "b") for r in (0.0, 1.0)]
    assert analyze_rows(rows_of(mixed), "x").as_dict()["groups"]["within_share"] == pytest.approx(1.0)
    tied = [{"prompt_id": p, "reward": r} for p, r in (("a", 0.0), ("a", 0.0), ("b", 1.0), ("b", 1.0))]
    assert analyze_rows(rows_of(tied), "x").as_dict()["groups"]["within_share"] == pytest.approx(0.0)


def test_group_by_names_the_column_and_a_row_without_it_is_an_error(runner, tmp_path):
    rows = [{"task": t, "prompt": str(i), "reward": float(i % 2)} for i, t in enumerate("aabb")]
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    out = tmp_path / "a.json"
    assert runner.invoke(main, ["analyze", str(path), "--group-by", "task", "--json", str(out)]).exit_code == 0
    assert json.loads(out.read_text())["groups"]["count"] == 2
    result = runner.invoke(main, ["analyze", str(path), "--group-by", "missing"])
    assert result.exit_code == 2 and "field 'missing'" in result.stderr


def test_plots_are_written_as_png(runner, tmp_path):
    pytest.importorskip("matplotlib")
    result = runner.invoke(main, ["analyze", str(MATH), "-r", "math", "--plots", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    for name in ("histograms.png", "correlation.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sketch_switches_to_a_sample_past_the_distinct_limit_and_keeps_quantiles_close():
    sketch = ValueSketch()
    for i in range(DISTINCT_LIMIT * 3):
        sketch.add(i / (DISTINCT_LIMIT * 3))
    assert not sketch.exact and sketch.distinct() > DISTINCT_LIMIT
    assert sketch.quantiles()["p50"] == pytest.approx(0.5, abs=0.02)
    assert sum(sketch.histogram()["counts"]) == pytest.approx(DISTINCT_LIMIT * 3, rel=0.01)


def test_correlation_of_a_constant_is_none_and_of_a_line_is_one():
    pair, flat = Comoments(), Comoments()
    for x in range(5):
        pair.add(x, 2 * x + 1)
        flat.add(x, 3.0)
    assert pair.correlation() == pytest.approx(1.0)
    assert flat.correlation() is None


def write_run(directory, history, samples=()):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "trainer_state.json").write_text(json.dumps({"log_history": history}))
    if samples:
        write_jsonl(directory / "samples.jsonl", list(samples))
    return directory


def hacked_history(steps=8):
    history = []
    for step in range(1, steps + 1):
        question = 0.1 if step <= 3 else 0.1 + 0.1 * step
        history.append(
            {
                "step": step,
                "reward": 0.5 + 0.05 * step,
                "kl": 0.01 * step,
                "entropy": 2.0 - 0.1 * step,
                "completions/mean_length": 40 + step,
                "completions/clipped_ratio": 0.0,
                "frac_reward_zero_std": 0.1,
                **{
                    f"monitor/engagement/question/{k}": v
                    for k, v in {"mean": question, "min": 0.0, "max": 1.0}.items()
                },
                **{f"monitor/engagement/relevance/{k}": v for k, v in {"mean": 0.4, "min": 0.0, "max": 1.0}.items()},
            }
        )
    return history + [{"step": steps, "train_runtime": 12.0, "train_loss": 0.1}]


def test_analyze_run_dir_prints_every_series_and_flags_a_component_rising_alone(runner, tmp_path):
    run = write_run(tmp_path / "run", hacked_history())
    out = tmp_path / "run.json"
    result = runner.invoke(main, ["analyze", str(run), "--json", str(out)])
    assert result.exit_code == 0, result.output
    for key in ("reward", "kl", "entropy", "completions/mean_length", "monitor/engagement/question/mean"):
        assert any(line.startswith(key + " ") for line in result.stdout.splitlines()), key
    assert "SIGNAL rising-alone (step 8): engagement/question rose" in result.stdout
    report = json.loads(out.read_text())
    assert report["series"]["kl"][0] == [1, 0.01] and len(report["series"]["reward"]) == 8
    assert [s["kind"] for s in report["signals"]] == ["rising-alone"]


def test_analyze_run_dir_flags_the_same_completion_for_different_prompts_in_the_samples(runner, tmp_path):
    samples = [{"step": 2, "prompt": f"post {i}", "completion": "Great post!", "reward": 1.0} for i in range(4)]
    run = write_run(tmp_path / "run", hacked_history(4)[:-1], samples)
    result = runner.invoke(main, ["analyze", str(run)])
    assert result.exit_code == 0, result.output
    assert "SIGNAL template-collapse (step 2): samples of step 2: 4 different prompts got the same completion" in (
        result.stdout
    )
    assert "samples.jsonl: 4 samples over 1 steps" in result.stdout


def test_analyze_run_dir_reads_the_newest_checkpoint_and_plots_the_series(runner, tmp_path):
    pytest.importorskip("matplotlib")
    run = tmp_path / "run"
    write_run(run / "checkpoint-2", hacked_history(2))
    write_run(run / "checkpoint-10", hacked_history(10))
    result = runner.invoke(main, ["analyze", str(run), "--plots", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    assert "checkpoint-10" not in result.stdout and "10 logged steps" in result.stdout
    for name in ("series.png", "components.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:4] == b"\x89PNG"


def test_a_directory_that_is_not_a_run_is_a_one_line_error(runner, tmp_path):
    result = runner.invoke(main, ["analyze", str(tmp_path)])
    assert result.exit_code == 2
    assert "no trainer_state.json (is it a grpo-train output directory?)" in result.stderr


def test_a_missing_file_is_a_one_line_error(runner, tmp_path):
    result = runner.invoke(main, ["analyze", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2
    assert "none.jsonl" in result.stderr and "internal error" not in result.stderr
