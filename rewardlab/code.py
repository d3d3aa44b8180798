"""Code rewards: run the program in a completion against the row's tests, in a sandbox, with partial credit.

``code`` is the reward of the code-GRPO experiments this project grew from: 1.0 when every test passes, else
``partial_weight`` (0.5) times the fraction passed; ``code-binary`` gives 1.0 only when all pass; ``code-format``
checks that a fenced block of the expected language is there. Programs never run in the calling process: they go
to a pool of bubblewrap sandboxes (:mod:`rewardlab.sandbox`; the threat model is in ``docs/sandbox.md``).

Tests come from the row, in any of three formats (each item's shape says which, and one row may mix them):

- ``tests``: assert statements, HumanEval/MBPP style — a list of strings, each one test, run in order after the
  program and the optional ``setup`` column (a string of code), in the program's namespace. ``assert EXPR ==
  LITERAL`` (the usual shape) is judged on the host: only EXPR runs in the sandbox, and its value is compared with
  the literal by Python's ``==`` on plain data. Other tests run as statements, and every ``a == b`` or ``a != b``
  inside an assert of the tests or of ``setup`` (HumanEval's ``check(candidate)`` too) is judged by the same rule
  in the sandbox, so an object whose ``__eq__`` always answers True does not pass. Output the program prints in
  these tests is discarded, not judged.
- ``test_cases``: stdin/stdout cases ``{"input": "...", "output": "..."}`` (or APPS-style
  ``{"inputs": [...], "outputs": [...]}``), and function-call cases ``{"call": "f(2)", "expected": 4}``.
  ``verification_info`` is open-r1's column, ``{"language": "python", "test_cases": [...]}``.
- stdin/stdout cases run the program afresh on each input; the output matches when, after stripping both texts,
  they have the same lines, each equal after stripping. Every line must match: open-r1 zips the two line lists,
  so truncated output passes there. A program that exits with a non-zero status fails the case.
- function-call cases evaluate the call in the sandbox and compare its value with ``expected`` outside it, by
  type as well as value (:func:`strict_equal`): ``4.0`` is not ``4``, ``True`` is not ``1``, and only plain data
  (None, bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset) can pass. A JSON list
  matches a list or a tuple; ``expected_literal`` (a Python literal, e.g. ``"(1, 2)"``) gives exact types.

Whatever the shape of the test, numpy scalars and arrays and values of subclasses of builtin types (an
``OrderedDict``, an ``IntEnum``) count as the plain value they hold, read through the builtin base type, so that an
overridden ``__eq__``, ``__str__`` or ``__int__`` plays no part (``runner.plain``).

A failure on our side (a sandbox that does not start, dies or does not answer in time, a pool shut down) is not the
program's: the row is sent once more to a fresh sandbox, and if that fails too its reward is None, with the reason
in ``details``. A program's own timeout, crash or exit fails its tests.

Any column may also hold the same data as a JSON string.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from rewardlab.core import Reward, RewardlabError, RowError, Score, register
from rewardlab.sandbox import Limits, SandboxError, SandboxPool, SandboxStartError, get_pool, resolve_isolation
from rewardlab.text import split_think, to_text

#: The columns that carry tests; a row needs one of them.
TEST_COLUMNS = ("tests", "test_cases", "verification_info")
LANGUAGE_TAGS = {"python": ("python", "python3", "py")}
#: Seconds the host waits beyond the programs' own time limits before it declares a sandbox hung.
HOST_SLACK = 10.0
STATUS_LIMITS = {"timeout": "timeout", "cpu-limit": "cpu", "output-limit": "output", "memory-limit": "memory"}


def _fence(tags: Sequence[str]) -> re.Pattern[str]:
    names = "|".join(re.escape(tag) for tag in tags)
    return re.compile(
        rf"```[ \t]*(?:{names})(?![\w+#-])[^\n]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE | re.IGNORECASE
    )


PYTHON_FENCE = _fence(LANGUAGE_TAGS["python"])


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def extract_code(completion: Any, fallback_to_text: bool = False) -> str | None:
    r"""Return the program in a completion: the last fenced ```python (or ```py) block outside ``<think>``.

    Args:
        completion: A string or chat messages.
        fallback_to_text: With no fenced block, use the whole answer when it parses as Python.

    Returns:
        The code, or None when there is none (an empty block counts as none).

    Example:
        >>> text = "<think>```python\nprint(0)\n```</think>First:\n```py\nx = 1\n```\nThen:\n```python\nx = 2\n```"
        >>> extract_code(text)
        'x = 2\n'
        >>> extract_code("x = 3", fallback_to_text=True)
        'x = 3'

    """
    answer = split_think(to_text(completion))[1]
    blocks = [block for block in PYTHON_FENCE.findall(answer) if block.strip()]
    if blocks:
        return blocks[-1]
    if fallback_to_text and answer.strip() and "```" not in answer and _parses(answer):
        return answer
    return None


# -- tests ----------------------------------------------------------------------------------------------------------


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


def _assert_test(source: str) -> AssertTest:
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
            [_label(test.source) for test in self.asserts]
            + [_label(case.call) for case in self.calls]
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
        suite.asserts.append(_assert_test(item))
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
            value = [{"input": i, "output": o} for i, o in zip(inputs, outputs)]
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


# -- judging --------------------------------------------------------------------------------------------------------


def decode_value(encoded: Any) -> Any:
    """Rebuild a value the sandbox reported (``runner.encode_value``) as plain Python data; nothing is evaluated.

    Raises:
        ValueError: The encoding is malformed.

    """
    try:
        tag = encoded[0]
        if tag == "N":
            return None
        if tag == "b" and isinstance(encoded[1], bool):
            return encoded[1]
        if tag == "i":
            return int(encoded[1], 16)
        if tag == "f":
            return float(encoded[1])
        if tag == "c":
            return complex(float(encoded[1]), float(encoded[2]))
        if tag == "s" and isinstance(encoded[1], str):
            return encoded[1]
        if tag == "y":
            return bytes.fromhex(encoded[1])
        if tag in ("l", "t", "S", "F"):
            items = [decode_value(item) for item in encoded[1]]
            return {"l": list, "t": tuple, "S": set, "F": frozenset}[tag](items)
        if tag == "d":
            return {decode_value(k): decode_value(v) for k, v in encoded[1]}
    except (IndexError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"malformed value from the sandbox: {error}") from None
    raise ValueError(f"malformed value from the sandbox: {encoded!r:.80}")


#: Types whose values are equal exactly when they hash and compare equal under the same type: dict keys and set
#: members of these types are matched by lookup, the rest (floats with their tolerance, tuples) by comparison.
EXACT_TYPES = (str, int, bool, bytes, type(None))


def strict_equal(actual: Any, expected: Any, json_lists: bool = True) -> bool:
    """Equality of plain data that also requires equal types, recursively.

    ``bool``, ``int`` and ``float`` are distinct types; floats compare with a relative tolerance of 1e-9 (and NaN
    equals NaN); with ``json_lists`` an expected list (JSON has no tuples) matches a list or a tuple.

    Example:
        >>> strict_equal(4, 4), strict_equal(4.0, 4), strict_equal(True, 1), strict_equal((1, 2), [1, 2])
        (True, False, False, True)

    """
    ta, te = type(actual), type(expected)
    if te is list and json_lists:
        if ta not in (list, tuple) or len(actual) != len(expected):
            return False
        return all(strict_equal(a, e, json_lists) for a, e in zip(actual, expected))
    if ta is not te:
        return False
    if te is float:
        return actual == expected or (math.isnan(actual) and math.isnan(expected)) or math.isclose(actual, expected)
    if te in (list, tuple):
        return len(actual) == len(expected) and all(strict_equal(a, e, json_lists) for a, e in zip(actual, expected))
    if te is dict:
        if len(actual) != len(expected):
            return False
        exact = {(type(k), k): k for k in actual if type(k) in EXACT_TYPES}
        for key, value in expected.items():
            if type(key) in EXACT_TYPES:
                match = [exact[type(key), key]] if (type(key), key) in exact else []
            else:
                match = [k for k in actual if strict_equal(k, key, json_lists)]
            if len(match) != 1 or not strict_equal(actual[match[0]], value, json_lists):
                return False
        return True
    if te in (set, frozenset):
        if len(actual) != len(expected):
            return False
        exact = {(type(a), a) for a in actual if type(a) in EXACT_TYPES}
        inexact = [a for a in actual if type(a) not in EXACT_TYPES]
        return all(
            (type(e), e) in exact if type(e) in EXACT_TYPES else any(strict_equal(a, e) for a in inexact)
            for e in expected
        )
    return actual == expected


def plain_equal(actual: Any, expected: Any) -> bool:
    """Python's ``==`` between a reported value and an assert's literal; both are plain data built here.

    Example:
        >>> plain_equal(1, 1.0), plain_equal([1, 2], (1, 2))
        (True, False)

    """
    return bool(actual == expected)


def output_matches(actual: str, expected: str) -> tuple[bool, str]:
    r"""Compare stdout with the expected output: same lines after stripping, each equal after stripping.

    Returns:
        Whether they match, and where they first differ.

    Example:
        >>> output_matches("1\n2  \n", "1\n2")
        (True, '')
        >>> output_matches("1\n", "1\n2")
        (False, 'expected 2 lines, got 1')

    """
    got = [line.strip() for line in actual.strip().splitlines()]
    want = [line.strip() for line in expected.strip().splitlines()]
    for number, (a, b) in enumerate(zip(got, want), start=1):
        if a != b:
            return False, f"line {number}: expected {b[:80]!r}, got {a[:80]!r}"
    if len(got) != len(want):
        return False, f"expected {len(want)} lines, got {len(got)}"
    return True, ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _label(text: str) -> str:
    text = "; ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return text if len(text) <= 80 else text[:77] + "..."


def _stopped(result: dict[str, Any], timeout: float) -> str:
    """Why a run ended without reporting a test."""
    status = result.get("status")
    if status == "timeout":
        return f"timed out after {timeout:g} s"
    if status == "skipped":
        return "not run: an earlier case timed out"
    if status == "cpu-limit":
        return "CPU time limit exceeded"
    if status == "output-limit":
        return "output limit exceeded"
    if status == "memory-limit":
        return "memory limit exceeded by the program's processes together"
    if status == "killed":
        return f"killed by signal {result.get('signal')}"
    if status == "exited":
        return f"the program exited (status {result.get('exit_code')}) before the test ran"
    return f"not run ({status})"


class _Judge:
    """Turns the sandbox's responses for one row into per-test outcomes."""

    def __init__(self, suite: RowTests, timeout: float) -> None:
        self.suite = suite
        self.timeout = timeout
        self.outcomes: list[tuple[str, bool, str]] = []
        self.limits: set[str] = set()
        self.forged = 0

    def runs(self, code: str) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = []
        if self.suite.asserts:
            tests = [{"expr": t.expression} if t.expression else {"source": t.source} for t in self.suite.asserts]
            runs.append({"kind": "asserts", "code": code, "setup": self.suite.setup, "tests": tests})
        if self.suite.calls:
            calls = [case.call for case in self.suite.calls]
            runs.append({"kind": "calls", "code": code, "setup": self.suite.setup, "calls": calls})
        runs.extend({"kind": "stdio", "code": code, "input": case.input} for case in self.suite.stdio)
        return runs

    def judge(self, results: list[dict[str, Any]]) -> None:
        results = iter(results)
        if self.suite.asserts:
            self._asserts(next(results))
        if self.suite.calls:
            self._calls(next(results))
        for number, case in enumerate(self.suite.stdio):
            self._stdio(number, case, next(results))

    def _note(self, result: dict[str, Any]) -> None:
        self.forged += int(result.get("forged", 0))
        if result.get("status") in STATUS_LIMITS:
            self.limits.add(STATUS_LIMITS[result["status"]])

    def _record(self, name: str, ok: bool, error: str) -> None:
        if "MemoryError" in error:
            self.limits.add("memory")
        self.outcomes.append((name, ok, error))

    def _events(self, result: dict[str, Any], *events: str) -> tuple[dict[int, dict[str, Any]], str | None]:
        self._note(result)
        by_index, program_error = {}, None
        for message in result.get("messages", []):
            if message.get("event") in events and isinstance(message.get("index"), int):
                by_index.setdefault(message["index"], message)
            elif message.get("event") == "program-error" and program_error is None:
                program_error = f"{message.get('where', 'program')} raised {message.get('error', '')}"
        return by_index, program_error

    def _judge_value(self, name: str, report: dict[str, Any], expected: Any, equal: Any) -> None:
        """Judge a reported value: decoded here, compared with ``expected`` by ``equal``."""
        if "value" not in report:
            self._record(name, False, str(report.get("error", "failed")))
            return
        try:
            actual = decode_value(report["value"])
        except ValueError as error:
            self._record(name, False, str(error))
            return
        if equal(actual, expected):
            self._record(name, True, "")
        else:
            self._record(name, False, f"expected {_short(expected)}, got {_short(actual)}")

    def _asserts(self, result: dict[str, Any]) -> None:
        reports, program_error = self._events(result, "test", "value")
        for index, test in enumerate(self.suite.asserts):
            report = reports.get(index)
            name = _label(test.source)
            if report is None:
                self._record(name, False, program_error or _stopped(result, self.timeout))
            elif test.expression is not None and report.get("event") == "value":
                self._judge_value(name, report, test.expected, plain_equal)
            elif test.expression is None and report.get("event") == "test" and report.get("ok") is True:
                self._record(name, True, "")
            else:
                self._record(name, False, str(report.get("error", "failed")))

    def _calls(self, result: dict[str, Any]) -> None:
        reports, program_error = self._events(result, "value")
        for index, case in enumerate(self.suite.calls):
            report = reports.get(index)
            name = _label(case.call)
            if report is None:
                self._record(name, False, program_error or _stopped(result, self.timeout))
            else:
                self._judge_value(name, report, case.expected, partial(strict_equal, json_lists=not case.literal))

    def _stdio(self, number: int, case: StdioCase, result: dict[str, Any]) -> None:
        self._note(result)
        name = f"stdin case {number}"
        if result.get("status") != "exited":
            self._record(name, False, _stopped(result, self.timeout))
        elif result.get("exit_code") != 0:
            last = (result.get("stderr") or "").strip().splitlines()[-1:]
            self._record(
                name, False, f"exit status {result.get('exit_code')}" + (f": {last[0][:200]}" if last else "")
            )
        else:
            ok, why = output_matches(result.get("stdout", ""), case.output)
            self._record(name, ok, "" if ok else f"wrong output: {why}")


# -- rewards --------------------------------------------------------------------------------------------------------


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{name} must be true or false, got {value!r}")


@register("code")
class CodeReward(Reward):
    r"""Partial-credit code reward: 1.0 if every test passes, else ``partial_weight`` × the fraction passed.

    The program is the last fenced python block of the completion (outside ``<think>``); no block scores 0.0.
    Rows carry tests in ``tests`` (asserts, with optional ``setup``), ``test_cases`` (stdin/stdout or call
    cases) or ``verification_info`` (open-r1); see the module docstring for the formats. A row without tests,
    or whose ``verification_info`` is for another language, gets None. Details give the code that ran, the tests
    passed and failed with the first failure's message, and which limit (timeout, cpu, memory, output) was hit.

    Args:
        partial_weight: Weight of the pass fraction when not every test passes (0 makes the reward binary).
        timeout: Wall-clock seconds per program run (each stdin/stdout case is a run; the assert tests of a row
            are one run, its call cases another). After a stdin/stdout case times out, the row's later cases are
            not run and fail.
        memory_mb: Address-space limit per run in MiB (0: none).
        fallback_to_text: With no fenced block, run the whole answer when it parses as Python.
        workers: Sandboxes running programs concurrently; None means one per CPU core.
        isolation: ``auto`` (bubblewrap, else a weaker fallback with a loud warning), ``bwrap`` (bubblewrap or
            an error) or ``process`` (the fallback); None reads ``$REWARDLAB_SANDBOX``, default ``auto``.

    Example:
        >>> reward = CodeReward(timeout=2)
        >>> completion = "```python\ndef add(a, b):\n    return a + b\n```"
        >>> reward(completions=[completion], tests=[["assert add(1, 2) == 3", "assert add(2, 2) == 5"]])
        [0.25]

    """

    columns = (TEST_COLUMNS,)

    own_parallelism = True

    def __init__(
        self,
        partial_weight: float = 0.5,
        timeout: float = 5.0,
        memory_mb: int = 1024,
        fallback_to_text: bool = False,
        workers: int | None = None,
        isolation: str | None = None,
    ) -> None:
        self.partial_weight = float(partial_weight)
        if not 0.0 <= self.partial_weight <= 1.0:
            raise ValueError(f"partial_weight must be between 0 and 1, got {partial_weight!r}")
        self.timeout = float(timeout)
        self.memory_mb = int(memory_mb)
        Limits(timeout=self.timeout, memory_mb=self.memory_mb)
        self.fallback_to_text = _as_bool("fallback_to_text", fallback_to_text)
        self.workers = None if workers in (None, "", "None") else int(workers)
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers!r}")
        self.isolation = None if isolation is None else resolve_isolation(isolation)

    def _value(self, passed: int, total: int) -> float:
        return 1.0 if passed == total else self.partial_weight * passed / total

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Run each completion's program against its row's tests, all rows concurrently in the sandbox pool.

        A request the sandbox could not serve for a reason of the host (it did not start, died, did not answer in
        time, or the pool was shut down) is sent once more, to a newly started sandbox; when that fails too the
        row's reward is None, with both reasons in ``details``. A program's own timeout or crash is answered by
        the sandbox and fails its tests.
        """
        limits = Limits(timeout=self.timeout, memory_mb=self.memory_mb).to_wire()
        scores: list[Score | None] = [None] * len(completions)
        pending: list[_Pending] = []
        for index, completion in enumerate(completions):
            row = {name: values[index] for name, values in columns.items() if name in (*TEST_COLUMNS, "setup")}
            suite = parse_tests(row, index)
            if suite is None or len(suite) == 0:
                reason = "no tests for Python" if suite is None else "the row has no tests"
                scores[index] = Score(None, {}, {"reason": reason})
                continue
            code = extract_code(completion, self.fallback_to_text)
            if code is None:
                details = {
                    "code": None,
                    "passed": [],
                    "failed": suite.names(),
                    "total": len(suite),
                    "first_failure": "no fenced python code block in the answer",
                    "limit": None,
                }
                scores[index] = Score(0.0, {"pass_rate": 0.0}, details)
                continue
            judge = _Judge(suite, self.timeout)
            runs = judge.runs(code)
            request = {"runs": runs, "limits": limits, "stop_after_timeout": True}
            pending.append(_Pending(index, code, judge, request, len(runs) * (self.timeout + 2) + HOST_SLACK))
        for item in pending:
            item.future = self._pool().submit(item.request, item.host_timeout)
        retries = [item for item in pending if not self._collect(item, scores)]
        for item in retries:
            item.future = self._pool().submit(item.request, item.host_timeout, fresh=True)
        for item in retries:
            if not self._collect(item, scores):
                reason = "the sandbox failed on our side, twice: " + "; then ".join(item.errors)
                scores[item.index] = Score(None, {}, {"code": item.code, "reason": reason})
        return scores

    def _pool(self) -> SandboxPool:
        return get_pool(self.workers, self.isolation)

    def _collect(self, item: _Pending, scores: list[Score | None]) -> bool:
        """Score ``item`` from its response; False (the error kept in ``item.errors``) when the sandbox failed."""
        try:
            response = item.future.result()
        except SandboxError as error:
            pool = self._pool()
            if isinstance(error, SandboxStartError) and not pool.started and item.errors:
                raise RewardlabError(f"code sandbox could not start: {error}") from None
            item.errors.append(str(error))
            return False
        scores[item.index] = self._finish(item.code, item.judge, response, self._pool().mode)
        return True

    def _finish(self, code: str, judge: _Judge, response: dict[str, Any], mode: str | None) -> Score:
        details: dict[str, Any] = {"code": code, "isolation": mode}
        judge.judge(response["runs"])
        passed = [name for name, ok, _ in judge.outcomes if ok]
        failures = [(name, error) for name, ok, error in judge.outcomes if not ok]
        total = len(judge.outcomes)
        details.update(
            passed=passed,
            failed=[name for name, _ in failures],
            total=total,
            first_failure=f"{failures[0][0]}: {failures[0][1]}" if failures else None,
            limit=", ".join(sorted(judge.limits)) or None,
        )
        if judge.forged:
            details["forged_reports"] = judge.forged
        return Score(self._value(len(passed), total), {"pass_rate": len(passed) / total}, details)


@dataclass
class _Pending:
    """One row's request to the sandbox, while it is served (and served again after a failure on our side)."""

    index: int
    code: str
    judge: _Judge
    request: dict[str, Any]
    host_timeout: float
    future: Future[dict[str, Any]] | None = None
    errors: list[str] = field(default_factory=list)


@register("code-binary")
class CodeBinaryReward(CodeReward):
    r"""1.0 when the program passes every test of its row, else 0.0; otherwise the same as ``code``.

    Example:
        >>> reward = CodeBinaryReward(timeout=2)
        >>> completion = "```python\nprint(int(input()) * 2)\n```"
        >>> cases = [[{"input": "2", "output": "4"}], [{"input": "2", "output": "5"}]]
        >>> reward(completions=[completion, completion], test_cases=cases)
        [1.0, 0.0]

    """

    def __init__(
        self,
        timeout: float = 5.0,
        memory_mb: int = 1024,
        fallback_to_text: bool = False,
        workers: int | None = None,
        isolation: str | None = None,
    ) -> None:
        super().__init__(0.0, timeout, memory_mb, fallback_to_text, workers, isolation)


@register("code-format")
class CodeFormatReward(Reward):
    r"""1.0 when the answer (outside ``<think>``) holds a non-empty fenced block of ``language``, else 0.0.

    Args:
        language: The fence's language tag; ``python`` also accepts ``py`` and ``python3``.

    Example:
        >>> reward = CodeFormatReward()
        >>> reward(completions=["```python\nprint(1)\n```", "<think>```python\nx\n```</think>no code", "print(1)"])
        [1.0, 0.0, 0.0]

    """

    def __init__(self, language: str = "python") -> None:
        self.language = str(language).strip().lower()
        if not self.language or not re.fullmatch(r"[\w+#.-]+", self.language):
            raise ValueError(f"language must be a fence tag such as python, got {language!r}")
        self._pattern = _fence(LANGUAGE_TAGS.get(self.language, (self.language,)))

    def __getstate__(self) -> dict[str, Any]:
        return {"language": self.language}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)

    def score(self, prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[Score]:
        """Look for the fenced block in each completion's answer."""
        scores = []
        for completion in completions:
            answer = split_think(to_text(completion))[1]
            blocks = [block for block in self._pattern.findall(answer) if block.strip()]
            scores.append(Score(1.0 if blocks else 0.0, {}, {"blocks": len(blocks)}))
        return scores
