"""The registered code rewards: partial credit, all-or-nothing, and the fenced-block format check."""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from rewardlab.errors import RewardlabError
from rewardlab.registry import register
from rewardlab.reward import Reward, Score
from rewardlab.rewards.code.cases import TEST_COLUMNS, parse_tests
from rewardlab.rewards.code.extract import LANGUAGE_TAGS, extract_code, fence
from rewardlab.rewards.code.judge import HOST_SLACK, Judge
from rewardlab.sandbox import Limits, SandboxError, SandboxPool, SandboxStartError, get_pool, resolve_isolation
from rewardlab.text import split_think, to_text


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

    #: Correct when every test passes.
    correct_when = "value"

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
            judge = Judge(suite, self.timeout)
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

    def _finish(self, code: str, judge: Judge, response: dict[str, Any], mode: str | None) -> Score:
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
    judge: Judge
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
        self._pattern = fence(LANGUAGE_TAGS.get(self.language, (self.language,)))

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
