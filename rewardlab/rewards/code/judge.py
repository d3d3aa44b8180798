"""Run a row's tests against its program in the sandbox pool and turn what comes back into a score."""

from __future__ import annotations

from functools import partial
from typing import Any

from rewardlab.rewards.code.cases import RowTests, StdioCase, decode_value, label
from rewardlab.rewards.code.compare import output_matches, plain_equal, strict_equal

#: Seconds the host waits beyond the programs' own time limits before it declares a sandbox hung.
HOST_SLACK = 10.0


STATUS_LIMITS = {"timeout": "timeout", "cpu-limit": "cpu", "output-limit": "output", "memory-limit": "memory"}


def short(value: Any) -> str:
    """A value as details show it: its repr, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def stopped(result: dict[str, Any], timeout: float) -> str:
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


class Judge:
    """Turns the sandbox's responses for one row into per-test outcomes."""

    def __init__(self, suite: RowTests, timeout: float) -> None:
        self.suite = suite
        self.timeout = timeout
        self.outcomes: list[tuple[str, bool, str]] = []
        self.limits: set[str] = set()
        self.forged = 0

    def runs(self, code: str) -> list[dict[str, Any]]:
        """The sandbox runs that execute this row's tests against ``code``."""
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
        """Take the runs' results, in the order of :meth:`runs`, into passed and failed tests."""
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
            self._record(name, False, f"expected {short(expected)}, got {short(actual)}")

    def _asserts(self, result: dict[str, Any]) -> None:
        reports, program_error = self._events(result, "test", "value")
        for index, test in enumerate(self.suite.asserts):
            report = reports.get(index)
            name = label(test.source)
            if report is None:
                self._record(name, False, program_error or stopped(result, self.timeout))
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
            name = label(case.call)
            if report is None:
                self._record(name, False, program_error or stopped(result, self.timeout))
            else:
                self._judge_value(name, report, case.expected, partial(strict_equal, json_lists=not case.literal))

    def _stdio(self, number: int, case: StdioCase, result: dict[str, Any]) -> None:
        self._note(result)
        name = f"stdin case {number}"
        if result.get("status") != "exited":
            self._record(name, False, stopped(result, self.timeout))
        elif result.get("exit_code") != 0:
            last = (result.get("stderr") or "").strip().splitlines()[-1:]
            self._record(
                name, False, f"exit status {result.get('exit_code')}" + (f": {last[0][:200]}" if last else "")
            )
        else:
            ok, why = output_matches(result.get("stdout", ""), case.output)
            self._record(name, ok, "" if ok else f"wrong output: {why}")
