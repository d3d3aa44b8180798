import json
import random
import statistics

import pytest
from click.testing import CliRunner
from helpers import write_jsonl

import rewardlab
from rewardlab.cli import main
from rewardlab.engine import batch, pipeline
from rewardlab.engine.read import read_jsonl
from rewardlab.engine.score import local_runner, score_rows
from rewardlab.engine.summary import RunningStats, SummaryBuilder

GROUP_SIZE = """
class GroupSize:
    group_level = True

    def __call__(self, prompts, completions, **columns):
        return [float(prompts.count(p)) for p in prompts]


group_size = GroupSize()
"""


@pytest.fixture
def runner():
    return CliRunner()


def test_rows_are_scored_and_given_back_before_the_input_is_read_to_the_end(tmp_path, monkeypatch):
    source = write_jsonl(tmp_path / "in.jsonl", [{"completion": f"c{i}"} for i in range(10)])
    read = []

    def counting_reader(path):
        for row in read_jsonl(path):
            read.append(row.line)
            yield row

    monkeypatch.setattr(pipeline, "iter_jsonl", counting_reader)
    monkeypatch.setattr(batch, "CHUNK_ROWS", 2)
    reward = rewardlab.get("math-tags")
    rows = pipeline.score_stream(source, reward, SummaryBuilder(reward), local_runner(reward, str(source)))
    assert next(rows).line == 1
    assert len(read) == 2


def test_a_group_level_reward_sees_whole_groups_of_an_unsorted_file(runner, tmp_path, monkeypatch):
    (tmp_path / "groups.py").write_text(GROUP_SIZE)
    prompts = ["a"] * 400 + ["b"] * 400 + ["c"] * 400
    random.Random(0).shuffle(prompts)
    source = write_jsonl(
        tmp_path / "in.jsonl", [{"prompt": p, "completion": "x", "i": i} for i, p in enumerate(prompts)]
    )
    monkeypatch.setattr(batch, "BUCKET_BYTES", 2048)  # many buckets, each holding whole groups
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["score", str(source), "-r", f"{tmp_path / 'groups.py'}:group_size", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["i"] for r in rows] == list(range(1200))
    assert {r["reward"] for r in rows} == {400.0}


def test_math_length_on_a_shuffled_file_matches_scoring_the_whole_file_at_once(runner, tmp_path, monkeypatch):
    rows = [row.data for row in read_jsonl("fixtures/math.jsonl")]
    random.Random(1).shuffle(rows)
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    monkeypatch.setattr(batch, "BUCKET_BYTES", 4096)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["score", str(source), "-r", "math-length", "-o", str(out)])
    assert result.exit_code == 0, result.output
    whole = score_rows(read_jsonl(source), rewardlab.get("math-length"), str(source))
    assert [json.loads(line)["reward"] for line in out.read_text().splitlines()] == [s.value for s in whole]


@pytest.mark.parametrize("group_level", [False, True], ids=["row-level", "group-level"])
def test_an_error_on_a_late_line_names_it_and_leaves_the_target_as_it_was(runner, tmp_path, group_level):
    (tmp_path / "groups.py").write_text(GROUP_SIZE)
    spec = f"{tmp_path / 'groups.py'}:group_size" if group_level else "math-tags"
    rows = [{"prompt": f"p{i % 7}", "completion": "c"} for i in range(3000)]
    rows[2899] = {"prompt": "p"}
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    out.write_text("keep\n")
    result = runner.invoke(main, ["score", str(source), "-r", spec, "-o", str(out)])
    assert result.exit_code == 2
    assert f"{source}:2900: field 'completion': missing" in result.output
    assert out.read_text() == "keep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["groups.py", "in.jsonl", "out.jsonl"]


def test_running_stats_match_the_statistics_module():
    values = [random.Random(2).uniform(-5, 5) for _ in range(1000)]
    stats = RunningStats()
    for value in values:
        stats.add(value)
    got = stats.as_dict()
    assert got["mean"] == pytest.approx(statistics.fmean(values), abs=1e-12)
    assert got["std"] == pytest.approx(statistics.pstdev(values), abs=1e-12)
    assert (got["min"], got["max"], got["n"]) == (min(values), max(values), 1000.0)


def test_split_streams_to_the_same_files_as_before_for_a_seed(runner, tmp_path, monkeypatch):
    (tmp_path / "length.py").write_text(
        "def length(prompts, completions, **columns):\n    return [float(len(c)) for c in completions]\n"
    )
    lengths = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
    source = write_jsonl(
        tmp_path / "in.jsonl", [{"prompt": "p", "completion": "x" * n, "i": i} for i, n in enumerate(lengths)]
    )
    monkeypatch.setattr(batch, "CHUNK_ROWS", 5)
    args = ["split", str(source), "-r", f"{tmp_path / 'length.py'}:length", "--seed", "7", "--out-dir", str(tmp_path)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    parts = {
        name: [json.loads(line)["i"] for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
        for name in ("sft", "grpo")
    }
    assert parts == {"sft": [0, 1, 5, 6, 8, 9, 10, 11], "grpo": [2, 3, 4, 7]}
