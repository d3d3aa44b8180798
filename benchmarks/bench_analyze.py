"""Scale of `rewardlab analyze`: peak memory on a large scored file against one a tenth its size, and rows/s.

Files are scored rows made up for the purpose: prompt groups of 8 scattered over the file (the group id of row i
is i·7919 mod rows/8), a total and four components, two of them continuous (so their quantiles come from the
reservoir sample past 10,000 distinct values) and two discrete, and a categorical ``kind`` column. Each
measurement runs the real command in a fresh process; peak memory is that process's largest resident set
(getrusage of the waited child). Target: peak(big) / peak(small) ≤ 1.5, as for `rewardlab score`.

    python benchmarks/bench_analyze.py [--big 1000000] [--small 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.5
GROUP = 8
KINDS = ("correct", "wrong", "truncated", "no_answer")


def generate(path: Path, rows: int) -> None:
    rng = random.Random(0)
    groups = max(1, rows // GROUP)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            accuracy = float(rng.random() < 0.4)
            tags = rng.choice((0.0, 0.25, 0.5, 0.75, 1.0))
            length = rng.random()
            relevance = rng.gauss(0.5, 0.1)
            components = {"accuracy": accuracy, "tags": tags, "length": length, "relevance": relevance}
            row = {
                "prompt_id": f"q{(i * 7919) % groups}",
                "prompt": "What is 2+2?",
                "completion": "The answer is 4.",
                "kind": rng.choice(KINDS),
                "reward": accuracy + tags + 0.5 * length + relevance,
                "components": components,
            }
            handle.write(json.dumps(row) + "\n")


def measure(path: Path) -> tuple[float, float]:
    """Peak RSS (MB) and seconds of `rewardlab analyze PATH --json`, in a fresh process."""
    command = [str(Path(sys.executable).with_name("rewardlab")), "analyze", str(path), "--json", str(path) + ".json"]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if status:
        sys.exit(f"failed: {' '.join(command)}")
    return usage.ru_maxrss / 1024, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-analyze-") as tmp:
        figures = {}
        for rows in (args.small, args.big):
            path = Path(tmp) / f"{rows}.jsonl"
            generate(path, rows)
            figures[rows] = measure(path)
    (small_mb, _), (big_mb, big_s) = figures[args.small], figures[args.big]
    ratio = big_mb / small_mb
    load = os.getloadavg()[0]
    print(
        f"peak memory, analyze, {args.big:,} / {args.small:,} rows: {big_mb:.0f} MB / {small_mb:.0f} MB = "
        f"{ratio:.2f}x (target <= {TARGET}x); load {load:.1f}"
    )
    print(f"rows/s at {args.big:,} rows: {args.big / big_s:,.0f} ({big_s:.1f} s)")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
