"""Import cost of the three packages, each in a fresh interpreter, against a bare interpreter start."""

import statistics
import subprocess
import sys
import time

REPEATS = 5


def seconds(code: str) -> float:
    runs = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    bare = seconds("pass")
    for package in ("rewardlab", "eval", "grpo_plugin", "rewardlab.cli", "eval.cli", "grpo_plugin.cli"):
        cost = seconds(f"import {package}") - bare
        print(f"import-{package}: {cost * 1000:.0f} ms over a bare interpreter (target < 1000 ms)")


if __name__ == "__main__":
    main()
