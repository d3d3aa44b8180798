"""fixtures/code_problems.jsonl: original problems, difficulty 1-10, whose reference solutions all score 1.0."""

from __future__ import annotations

import json

import pytest

import rewardlab
from rewardlab.rewards.code.cases import parse_tests

COLUMNS = ("tests", "test_cases", "verification_info", "setup")


@pytest.fixture(scope="module")
def problems(fixtures_dir):
    with open(fixtures_dir / "code_problems.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def score(problems, completions):
    reward = rewardlab.get("code", timeout=5)
    columns = {name: [problem.get(name) for problem in problems] for name in COLUMNS}
    return reward.score([p["prompt"] for p in problems], completions, **columns)


def test_problems_cover_every_difficulty_and_test_format(problems):
    assert 25 <= len(problems) <= 40
    assert {p["difficulty"] for p in problems} == set(range(1, 11))
    assert len({p["id"] for p in problems}) == len(problems)
    suites = [parse_tests(p) for p in problems]
    assert all(len(suite) >= 3 for suite in suites)
    assert any(suite.asserts for suite in suites)
    assert any(suite.calls for suite in suites)
    assert any(suite.stdio for suite in suites)
    assert any(p.get("setup") for p in problems)
    assert any("verification_info" in p for p in problems)
    assert all(p["prompt"].strip() and p["solution"].strip() for p in problems)


def test_every_reference_solution_scores_one(problems):
    scores = score(problems, [f"```python\n{p['solution']}```" for p in problems])
    failing = {
        p["id"]: s.details.get("first_failure") for p, s in zip(problems, scores, strict=True) if s.value != 1.0
    }
    assert failing == {}


def test_a_solution_to_another_problem_scores_zero(problems):
    shifted = problems[1:] + problems[:1]
    scores = score(problems, [f"```python\n{p['solution']}```" for p in shifted])
    assert all(s.value == 0.0 for s in scores)
