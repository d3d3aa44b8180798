"""Read a row's tests, in any of the three formats a row may hold, into test cases."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import Any

from rewardlab.errors import RowError
from rewardlab.rewards.code.extract import LANGUAGE_TAGS
from rewardlab.sandbox import wire

#: The columns that carry tests; a row needs one of them.
TEST_COLUMNS = ("tests", "test_cases", "verification_info")


def label(text: str) -> str:
    """A test as details name it: its lines joined, cut to 80 characters."""
    text = "; ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class CallCase:
    """A function-call test: evaluate ``call`` and compare with ``expected`` (``literal``: exact Python types)."""

    call: str
    expected: Any
    literal: bool = False


@dataclass
class AssertTest:
    """An assert-style test: statements run after the program, in its namespace.

    For the common shape ``assert EXPR == LITERAL`` (either way round), ``expression`` and ``expected`` are set:
    only EXPR goes into the sandbox, and the value it reports is compared with the literal here, so the expected
    value never reaches the program and a program that subverts its own interpreter still cannot pass the test.
    """

    source: str
    expression: str | None = None
    expected: Any = None


def assert_test(source: str) -> AssertTest:
    """Read one assert test; ``assert EXPR == LITERAL`` keeps EXPR and the literal apart, to be judged outside."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return AssertTest(source)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return AssertTest(source)
    test = tree.body[0].test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return AssertTest(source)
    for expression, literal in ((test.left, test.comparators[0]), (test.comparators[0], test.left)):
        try:
            expected = ast.literal_eval(literal)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        return AssertTest(source, ast.unparse(expression), expected)
    return AssertTest(source)


@dataclass
class StdioCase:
    """A stdin/stdout test: feed ``input``, compare stdout with ``output`` line by line."""

    input: str
    output: str


@dataclass
class RowTests:
    """All tests of one row, by format."""

    asserts: list[AssertTest] = field(default_factory=list)
    calls: list[CallCase] = field(default_factory=list)
    stdio: list[StdioCase] = field(default_factory=list)
    setup: str = ""

    def __len__(self) -> int:
        return len(self.asserts) + len(self.calls) + len(self.stdio)

    def names(self) -> list[str]:
        """How details name each test: its source, its call, or ``stdin case N``."""
        return (
            [label(test.source) for test in self.asserts]
            + [label(case.call) for case in self.calls]
            + [f"stdin case {number}" for number in range(len(self.stdio))]
        )


def _decoded(value: Any, index: int, column: str) -> Any:
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            if column != "tests":
                raise RowError(index, column, "is a string but not valid JSON") from None
    return value


def _add_item(suite: RowTests, item: Any, index: int, column: str) -> None:
    if isinstance(item, str):
        suite.asserts.append(assert_test(item))
        return
    if not isinstance(item, dict):
        raise RowError(index, column, f"a test must be a string or an object, got {type(item).__name__}")
    if "call" in item:
        call = item["call"]
        if not isinstance(call, str) or not _is_expression(call):
            raise RowError(index, column, f"'call' must be a Python expression, got {call!r}")
        if "expected_literal" in item:
            try:
                expected = ast.literal_eval(item["expected_literal"])
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                literal = item["expected_literal"]
                raise RowError(index, column, f"'expected_literal' is not a Python literal: {literal!r}") from None
            suite.calls.append(CallCase(call, expected, literal=True))
        elif "expected" in item:
            suite.calls.append(CallCase(call, item["expected"]))
        else:
            raise RowError(index, column, "a call case needs 'expected' or 'expected_literal'")
        return
    if "output" in item:
        kind = item.get("type", "stdin_stdout")
        if kind != "stdin_stdout":
            raise RowError(index, column, f"test type {kind!r} is not supported (stdin_stdout is)")
        given, expected = item.get("input", ""), item["output"]
        if not isinstance(given, str) or not isinstance(expected, str):
            raise RowError(index, column, "'input' and 'output' must be strings")
        suite.stdio.append(StdioCase(given, expected))
        return
    raise RowError(index, column, f"cannot tell the format of test {item!r}: expected 'call' or 'input'/'output'")


def _is_expression(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def parse_tests(row: dict[str, Any], index: int = 0) -> RowTests | None:
    """Collect a row's tests from ``tests``, ``test_cases``, ``verification_info`` and ``setup``.

    Returns:
        The tests, or None when the row's ``verification_info`` names a language other than Python.

    Raises:
        RowError: A column has the wrong shape.

    """
    suite = RowTests()
    for column in TEST_COLUMNS:
        value = row.get(column)
        if value is None:
            continue
        value = _decoded(value, index, column)
        if column == "verification_info":
            if not isinstance(value, dict) or "test_cases" not in value:
                raise RowError(index, column, "must be an object with 'test_cases'")
            if str(value.get("language", "python")).lower() not in LANGUAGE_TAGS["python"]:
                return None
            value = _decoded(value["test_cases"], index, column)
        if isinstance(value, dict) and "inputs" in value and "outputs" in value:
            if "fn_name" in value:
                raise RowError(index, column, "APPS call-based tests (fn_name) are not supported; use call cases")
            inputs, outputs = value["inputs"], value["outputs"]
            if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
                raise RowError(index, column, "'inputs' and 'outputs' must be lists of the same length")
            value = [{"input": i, "output": o} for i, o in zip(inputs, outputs, strict=True)]
        if isinstance(value, (str, dict)):
            value = [value]
        if not isinstance(value, list):
            raise RowError(index, column, f"must be a list of tests, got {type(value).__name__}")
        for item in value:
            _add_item(suite, item, index, column)
    setup = row.get("setup")
    if setup is not None and not isinstance(setup, str):
        raise RowError(index, "setup", f"must be a string of code, got {type(setup).__name__}")
    suite.setup = setup or ""
    return suite


def decode_value(encoded: Any) -> Any:
    """Rebuild a value the tests' process reported (:func:`wire.encode`) as plain Python data; nothing is evaluated.

    Total and bounded (:func:`wire.decode`): any input that is not a well-formed value within the limits is a
    ValueError, which fails the test it came for.

    Raises:
        ValueError: The encoding is malformed, too deep or too large.

    """
    try:
        return wire.decode(encoded)
    except wire.ProtocolError as error:
        raise ValueError(f"malformed value from the sandbox: {error}") from None
