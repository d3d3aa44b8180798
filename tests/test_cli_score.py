import json
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import write_jsonl

from rewardlab.cli import main
from rewardlab.engine.batch import batches
from rewardlab.engine.read import Row

FORMATTED = "<think>\nsum it\n</think>\n<answer>\n4\n</answer>"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def math_rows(tmp_path):
    return write_jsonl(
        tmp_path / "rows.jsonl",
        [
            {"prompt": "2+2?", "completion": FORMATTED, "solution": "4"},
            {"prompt": "2+2?", "completion": "4", "solution": "4"},
            {"prompt": "3+3?", "completion": [{"role": "assistant", "content": FORMATTED}], "solution": "6"},
        ],
    )


def test_score_adds_reward_and_components_and_prints_a_summary(runner, math_rows, tmp_path):
    out = tmp_path / "scored.jsonl"
    result = runner.invoke(main, ["score", str(math_rows), "--reward", "math-format,math-tags", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["reward"] for r in rows] == [2.0, 0.0, 2.0]
    assert rows[0]["components"] == {"math-format": 1.0, "math-tags": 1.0}
    assert rows[0]["solution"] == "4"
    assert "rows: 3  null rewards: 0" in result.stderr
    assert "signature: math-format+math-tags|" in result.stderr


def test_score_writes_to_stdout_by_default(runner, math_rows):
    result = runner.invoke(main, ["score", str(math_rows), "--reward", "math-tags"])
    assert result.exit_code == 0
    assert [json.loads(line)["reward"] for line in result.stdout.splitlines()] == [1.0, 0.0, 1.0]


def test_score_reads_stdin(runner, math_rows):
    result = runner.invoke(main, ["score", "-", "--reward", "math-tags"], input=math_rows.read_text())
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 3


def test_score_passes_parameters(runner, math_rows):
    result = runner.invoke(main, ["score", str(math_rows), "--reward", "math-format", "-p", "think_prefilled=true"])
    assert result.exit_code == 0, result.output
    assert "think_prefilled:true" in result.stderr


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        pytest.param('{"prompt": "p", "completion": "c"}\n{"prompt": "p"', ":2: malformed JSON", id="malformed"),
        pytest.param('{"prompt": "p"}\n', ":1: field 'completion': missing", id="no-completion"),
        pytest.param('{"prompt": "p", "completion": 7}\n', ":1: field 'completion': expected a string", id="type"),
        pytest.param("", "no rows: the file is empty", id="empty"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_output(runner, tmp_path, lines, message):
    source = tmp_path / "bad.jsonl"
    source.write_text(lines)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["score", str(source), "--reward", "math-tags", "-o", str(out)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_column_the_reward_needs_is_checked_before_scoring(runner, tmp_path):
    source = write_jsonl(
        tmp_path / "in.jsonl", [{"prompt": "p", "completion": "c", "solution": "1"}, {"completion": "c"}]
    )
    result = runner.invoke(main, ["score", str(source), "--reward", "math-accuracy"])
    assert result.exit_code == 2
    assert f"{source}:2: field 'solution': missing" in result.stderr


def test_invalid_utf8_names_the_line(runner, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"completion": "ok"}\n{"completion": "\xc3\x28"}\n')
    result = runner.invoke(main, ["score", str(source), "--reward", "math-tags"])
    assert result.exit_code == 2
    assert ":2: not valid UTF-8" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--reward", "nope"], "unknown reward 'nope'", id="unknown-reward"),
        pytest.param(["--reward", "math-tags", "-p", "colour=1"], "has no parameter 'colour'", id="unknown-param"),
        pytest.param(["--reward", "math-tags", "-p", "oops"], "-p expects KEY=VALUE", id="param-syntax"),
        pytest.param(["--reward", "math-tags,math-format", "-w", "1,x"], "--weights must be", id="weights"),
        pytest.param(["--reward", "math-cosine", "-p", "max_len=-1"], "math-cosine", id="invalid-value"),
    ],
)
def test_bad_options_are_one_line_exit_2(runner, math_rows, args, message):
    result = runner.invoke(main, ["score", str(math_rows), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_existing_output_survives_a_failed_run(runner, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"completion": "c"}])
    source.write_text(source.read_text() + "{broken\n")
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n")
    result = runner.invoke(main, ["score", str(source), "--reward", "math-tags", "-o", str(out)])
    assert result.exit_code == 2
    assert out.read_text() == "previous results\n"


def test_user_reward_file_gets_completions_as_trl_passes_them(runner, math_rows, tmp_path):
    module = tmp_path / "mine.py"
    module.write_text(
        textwrap.dedent(
            """
            def is_plain_text(prompts, completions, **kwargs):
                return [float(isinstance(c, str)) for c in completions]
            """
        )
    )
    result = runner.invoke(main, ["score", str(math_rows), "--reward", f"{module}:is_plain_text"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["reward"] for line in result.stdout.splitlines()] == [1.0, 1.0, 0.0]


def test_list_names_every_reward_with_its_columns(runner):
    result = runner.invoke(main, ["list"])
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "[needs: solution]" in lines["math-accuracy"]
    assert "engagement" in lines


def test_split_is_stratified_and_deterministic(runner, tmp_path):
    rows = [{"prompt": "p", "completion": "x" * n} for n in range(1, 41)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    module = tmp_path / "length.py"
    module.write_text("def length(prompts, completions, **kw):\n    return [float(len(c)) for c in completions]\n")
    args = ["split", str(source), "--reward", f"{module}:length", "--ratio", "0.5", "--seed", "7"]
    first = runner.invoke(main, [*args, "--out-dir", str(tmp_path / "a")])
    second = runner.invoke(main, [*args, "--out-dir", str(tmp_path / "b")])
    assert second.exit_code == 0
    assert first.exit_code == 0, first.output
    assert (tmp_path / "a" / "sft.jsonl").read_text() == (tmp_path / "b" / "sft.jsonl").read_text()
    sft = [json.loads(line)["reward"] for line in (tmp_path / "a" / "sft.jsonl").read_text().splitlines()]
    assert len(sft) == 20
    assert sum(r <= 10 for r in sft) == 5 and sum(r > 30 for r in sft) == 5
    assert "Q1" in first.output and "total" in first.output


def test_split_rejects_a_ratio_outside_zero_one(runner, math_rows, tmp_path):
    result = runner.invoke(
        main, ["split", str(math_rows), "--reward", "math-tags", "--ratio", "1.5", "--out-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--ratio must be between 0 and 1" in result.stderr


@pytest.mark.parametrize("option", ["-o", "--summary-json"])
def test_an_unwritable_output_is_one_line_exit_2(runner, math_rows, tmp_path, option):
    (tmp_path / "a-file").write_text("")
    target = str(tmp_path / "a-file" / "out.json")
    result = runner.invoke(main, ["score", str(math_rows), "-r", "math-tags", option, target])
    assert result.exit_code == 2
    assert f"Error: cannot write {target}: Not a directory" in result.output
    assert "Traceback" not in result.output


def test_summary_json_holds_the_printed_statistics(runner, math_rows, tmp_path):
    result = runner.invoke(
        main, ["score", str(math_rows), "-r", "math-tags", "-o", "-", "--summary-json", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["count"] == 3
    assert summary["stats"]["reward"]["mean"] == pytest.approx(2 / 3)


def test_group_level_batches_keep_string_and_chat_forms_of_a_prompt_together():
    rows = [
        Row(i + 1, {"prompt": f"post {i // 2}" if i % 2 else [{"role": "user", "content": f"post {i // 2}"}]})
        for i in range(6)
    ]
    assert list(batches(rows, group_level=True, size=1)) == [[0, 1], [2, 3], [4, 5]]
    assert list(batches(rows, group_level=False, size=4)) == [[0, 1, 2, 3], [4, 5]]


def test_list_points_to_show(runner):
    assert "rewardlab show NAME" in runner.invoke(main, ["list"]).output


def test_show_prints_columns_parameters_with_types_and_defaults_and_an_example(runner):
    result = runner.invoke(main, ["show", "math-cosine"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("math-cosine: Cosine length scaling")
    assert "needs: solution" in result.output
    assert any(line.split()[:3] == ["max_len", "int", "1000"] for line in result.output.splitlines())
    assert ">>> reward = MathCosine(max_len=60)" in result.output


def test_show_suggests_a_name_for_a_typo(runner):
    result = runner.invoke(main, ["show", "math-cosin"])
    assert result.exit_code == 2
    assert "unknown reward 'math-cosin' (did you mean 'math-cosine'" in result.stderr


def test_overlong_max_length_alone_gets_a_cache_that_fits(runner, math_rows):
    args = [
        "score",
        str(math_rows),
        "-r",
        "math-tags,overlong",
        "--weights",
        "1,0.5",
        "-p",
        "overlong.max_length=1024",
    ]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert 'overlong:{"cache": 204, "max_length": 1024' in result.stderr


def test_score_writes_the_reward_signature_on_every_row(runner, math_rows):
    result = runner.invoke(main, ["score", str(math_rows), "-r", "math-tags"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {row["reward_signature"] for row in rows} == {"math-tags|think_prefilled:false|rewardlab:0.1.0"}


def test_scoring_again_drops_the_details_of_the_earlier_reward(runner, math_rows, tmp_path):
    scored = tmp_path / "scored.jsonl"
    runner.invoke(main, ["score", str(math_rows), "-r", "math-tags", "-o", str(scored)])
    module = tmp_path / "one.py"
    module.write_text("def one(prompts, completions, **kw):\n    return [1.0 for _ in completions]\n")
    result = runner.invoke(main, ["score", str(scored), "-r", f"{module}:one"])
    assert all("details" not in json.loads(line) for line in result.stdout.splitlines())


def split_rewards(runner, source, spec, out):
    result = runner.invoke(main, ["split", str(source), "-r", spec, "--ratio", "0.5", "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for name in ("sft.jsonl", "grpo.jsonl") for line in (out / name).read_text().splitlines()]
    return sorted(row["reward"] for row in rows), result.stderr


def test_split_reuses_the_reward_column_when_the_signature_matches(runner, math_rows, tmp_path):
    scored = tmp_path / "scored.jsonl"
    runner.invoke(main, ["score", str(math_rows), "-r", "math-tags", "-o", str(scored)])
    rows = [json.loads(line) for line in scored.read_text().splitlines()]
    write_jsonl(scored, [{**row, "reward": 10.0 + i} for i, row in enumerate(rows)])  # not what math-tags gives
    rewards, stderr = split_rewards(runner, scored, "math-tags", tmp_path / "split")
    assert rewards == [10.0, 11.0, 12.0]
    assert "reusing its reward column" in stderr


def test_split_scores_again_when_the_signature_differs(runner, math_rows, tmp_path):
    scored = tmp_path / "scored.jsonl"
    runner.invoke(main, ["score", str(math_rows), "-r", "math-tags", "-o", str(scored)])
    rewards, stderr = split_rewards(runner, scored, "math-format", tmp_path / "split")
    assert rewards == [0.0, 1.0, 1.0]
    assert "scored with other settings or another reward: scoring it again" in stderr


def test_split_refuses_a_reused_reward_that_is_not_a_number(runner, math_rows, tmp_path):
    scored = tmp_path / "scored.jsonl"
    runner.invoke(main, ["score", str(math_rows), "-r", "math-tags", "-o", str(scored)])
    rows = [json.loads(line) for line in scored.read_text().splitlines()]
    write_jsonl(scored, [{**rows[0], "reward": "high"}, *rows[1:]])
    result = runner.invoke(main, ["split", str(scored), "-r", "math-tags", "--out-dir", str(tmp_path / "split")])
    assert result.exit_code == 2
    assert f"{scored}:1: field 'reward': expected a finite number or null, got 'high'" in result.stderr


def readme_commands(program):
    """The ``$ program ...`` lines of the README, as a user would paste them."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    return [line[2:] for line in readme.splitlines() if line.startswith(f"$ {program} ")]


@pytest.mark.parametrize(
    "command",
    [c for c in readme_commands("rewardlab") if not re.search(r"--reward (engagement|math|code)\b", c)],
)
def test_readme_rewardlab_commands_run_verbatim_from_the_repository_root(runner, tmp_path, monkeypatch, command):
    root = Path(__file__).resolve().parent.parent
    for shipped in ("fixtures", "examples"):
        (tmp_path / shipped).symlink_to(root / shipped)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, shlex.split(command)[1:])
    assert result.exit_code == 0, result.output


def test_rows_and_summary_into_one_file_are_refused_before_anything_is_written(runner, math_rows, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("keep me\n")
    result = runner.invoke(
        main, ["score", str(math_rows), "-r", "math-format", "-o", str(out), "--summary-json", str(out)]
    )
    assert result.exit_code == 2
    assert "-o and --summary-json name the same file" in result.output
    assert out.read_text() == "keep me\n"


def test_a_parameter_of_the_wrong_type_is_a_one_line_error(runner, math_rows):
    result = runner.invoke(main, ["score", str(math_rows), "-r", "math-accuracy", "-p", "timeout=soon"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: reward 'math-accuracy': timeout must be a number, got 'soon'"


def test_a_parameter_given_twice_is_refused(runner, math_rows):
    result = runner.invoke(
        main, ["score", str(math_rows), "-r", "math-accuracy", "-p", "timeout=1", "-p", "timeout=2"]
    )
    assert result.exit_code == 2
    assert "-p timeout is given twice" in result.output


def test_a_reader_that_goes_away_ends_the_command_quietly():
    command = [sys.executable, "-c", "from rewardlab.cli import main; main()", "list"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    assert process.wait(timeout=60) == 141
    assert process.stderr.read() == b""
