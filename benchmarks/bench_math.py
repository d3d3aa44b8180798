"""``rewardlab score --reward math-accuracy --workers N`` against open-r1's plain parse+verify loop, 1,000 pairs.

The data: 1,000 distinct (answer, gold) pairs written here, as a GRPO run makes them: 125 problems (integers,
thousands, fractions, LaTeX expressions) × 8 completions each (reasoning in ``<think>``, then the answer boxed in
``<answer>``, right or wrong). The baseline is open-r1's ``accuracy_reward`` loop run in one process after its imports:
for each row ``parse(gold, extraction_mode="first_match")``, ``parse(completion, [LatexExtractionConfig(...)])`` with
open-r1's settings (``src/open_r1/rewards.py``: boxed first, no extraction without an anchor, units normalised), then
``verify``. Ours is the whole command, a fresh process each time (start-up, reading, writing included), with
``--workers 1`` and ``--workers 2``. Target: ``--workers 2`` at least 1.8× faster than the loop.

    python benchmarks/bench_math.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.8


def golds(count: int, rng: random.Random) -> list[str]:
    """Gold answers of the kinds MATH and GSM8K store: integers, thousands, fractions, LaTeX."""
    made = []
    for index in range(count):
        a, b = rng.randint(2, 99), rng.randint(2, 99)
        kind = index % 5
        made.append(
            [str(a * b), f"{a * 1000 + b:,}", f"\\frac{{{a}}}{{{b + a}}}", f"{a}\\sqrt{{{b}}}", f"{a}x^2+{b}"][kind]
        )
    return made


def rows(problems: int = 125, per_problem: int = 8, seed: int = 17) -> list[dict]:
    """``problems`` × ``per_problem`` rows, every (completion, gold) pair distinct."""
    rng = random.Random(seed)
    made = []
    for pid, gold in enumerate(golds(problems, rng)):
        for sample in range(per_problem):
            answer = gold if sample % 2 == 0 else f"{gold}+{sample}"
            steps = " ".join(f"Step {i}: we get ${rng.randint(1, 999)}$." for i in range(rng.randint(3, 12)))
            completion = f"<think>\n{steps}\n</think>\n<answer>\nThe answer is $\\boxed{{{answer}}}$.\n</answer>"
            row = {"prompt_id": f"p{pid}", "prompt": f"Problem {pid}?", "completion": completion, "solution": gold}
            made.append(row)
    return made


def open_r1_loop(data: list[dict]) -> list[float]:
    """open-r1's accuracy loop: parse the gold, parse the completion with its LaTeX settings, verify."""
    from latex2sympy2_extended import NormalizationConfig
    from math_verify import LatexExtractionConfig, parse, verify

    config = [
        LatexExtractionConfig(
            normalization_config=NormalizationConfig(
                nits=False, malformed_operators=False, basic_latex=True, boxed="all", units=True
            ),
            boxed_match_priority=0,
            try_extract_without_anchor=False,
        )
    ]
    values = []
    for row in data:
        gold = parse(row["solution"], extraction_mode="first_match")
        answer = parse(row["completion"], extraction_config=config, extraction_mode="first_match")
        values.append(float(verify(gold, answer)) if gold else 0.0)
    return values


def ours(path: Path, workers: int, out: Path) -> float:
    """Seconds for ``rewardlab score`` on ``path`` with ``workers``, a fresh process."""
    launch = "from rewardlab.launch import rewardlab; rewardlab()"
    command = [sys.executable, "-c", launch, "score", str(path), "--reward", "math-accuracy"]
    command += ["--workers", str(workers), "-o", str(out)]
    start = time.perf_counter()
    subprocess.run(command, check=True, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    data = rows()
    assert len({(r["completion"], r["solution"]) for r in data}) == len(data)
    open_r1_loop(data[:8])  # imports and first-use set-up, untimed
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "pairs.jsonl", Path(tmp) / "scored.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
        loop_times, one, two = [], [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            expected = open_r1_loop(data)
            loop_times.append(time.perf_counter() - start)
            one.append(ours(path, 1, out))
            two.append(ours(path, 2, out))
        got = [json.loads(line)["reward"] for line in out.read_text(encoding="utf-8").splitlines()]
    pairs = list(zip(got, expected, strict=True))
    agree = sum(a == b for a, b in pairs)
    only_ours = sum(a == 1.0 and b == 0.0 for a, b in pairs)
    loop, w1, w2 = statistics.median(loop_times), statistics.median(one), statistics.median(two)
    print(f"pairs: {len(data)} distinct (answer, gold); medians of {args.repeat}; load {os.getloadavg()[0]:.1f}")
    print(f"open-r1 parse+verify loop:          {loop:.2f} s  ({1000 * loop / len(data):.2f} ms/pair)")
    print(f"rewardlab score --workers 1:        {w1:.2f} s  ratio {loop / w1:.2f}x")
    print(f"rewardlab score --workers 2:        {w2:.2f} s  ratio {loop / w2:.2f}x (target >= {TARGET}x)")
    print(f"verdicts equal to open-r1's:        {agree} of {len(data)}; correct here, 0 there: {only_ours}")
    print("  (open-r1 reads a bare LaTeX gold such as 92\\sqrt{92} or 71x^2+86 as its first number)")


if __name__ == "__main__":
    main()
