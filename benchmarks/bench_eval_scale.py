"""evalkit passk, accuracy and compare on big generated runs: time, rows/s and peak memory at 100k and 1M rows per run.

Target (issue 13): peak RSS at 1M rows within 1.5x of the peak at 100k rows (memory flat in the rows, streamed
aggregation by prompt). Each run has 8 samples per prompt, written sample-major with the prompts in a new random
order for each sample, so the files are not sorted by prompt_id. Every command runs in its own process; its peak
RSS is that process's ru_maxrss. CPU time is printed beside wall time: on a shared machine the wall time includes
waiting for a core.

    python benchmarks/bench_eval_scale.py                 # 100k and 1M rows, passk, accuracy and compare
    python benchmarks/bench_eval_scale.py --sizes 20000,200000 --commands passk
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

SAMPLES = 8
WORDS = "the a of to and is in that it for answer so we get then add take step first next total equals".split()
TARGET_RATIO = 1.5


def write_run(path: Path, rows: int, seed: int) -> None:
    """A run of ``rows`` rows (rows / 8 prompts x 8 samples), sample-major, prompts shuffled per sample."""
    rng = random.Random(seed)
    prompts = rows // SAMPLES
    with path.open("w", encoding="utf-8") as handle:
        for sample in range(SAMPLES):
            order = list(range(prompts))
            rng.shuffle(order)
            for p in order:
                words = rng.choices(WORDS, k=rng.randint(12, 40))
                answer = rng.randint(0, 20)
                row = {
                    "prompt_id": f"q{p}",
                    "sample": sample,
                    "prompt": f"Question {p}: what is {p % 17} + {p % 5}?",
                    "completion": " ".join(words) + f" The answer is {answer}.",
                    "correct": answer == (p % 17 + p % 5),
                    "reward": float(answer == (p % 17 + p % 5)) + rng.random() * 0.1,
                }
                handle.write(json.dumps(row) + "\n")


def measure(command: list[str]) -> tuple[float, float, float]:
    """Run a command; return its wall time and CPU time (user + system) in seconds and its peak RSS in MiB."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed ({status}): {' '.join(command)}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="Rows per run, comma-separated (smallest first).")
    parser.add_argument(
        "--commands", default="passk,accuracy,compare", help="Which of passk,accuracy,compare to time."
    )
    parser.add_argument("--bootstrap", type=int, default=1000, help="Bootstrap resamples (evalkit's default).")
    args, _ = parser.parse_known_args()  # make bench passes its own arguments to every benchmark
    sizes = [int(size) for size in args.sizes.split(",")]
    commands = args.commands.split(",")
    evalkit = [sys.executable, "-c", "from eval.cli import main; main()"]
    peaks: dict[str, list[float]] = {command: [] for command in commands}
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        for rows in sizes:
            base, tuned = Path(tmp) / f"base-{rows}.jsonl", Path(tmp) / f"tuned-{rows}.jsonl"
            write_run(base, rows, seed=1)
            if "compare" in commands:
                write_run(tuned, rows, seed=2)
            size_mb = base.stat().st_size / 2**20
            for command in commands:
                if command in ("passk", "accuracy"):
                    argv = [*evalkit, command, str(base), "--bootstrap", str(args.bootstrap)]
                else:
                    out = Path(tmp) / f"report-{rows}"
                    argv = [*evalkit, "compare", str(base), str(tuned), "--bootstrap", str(args.bootstrap)]
                    argv += ["--out", str(out)]
                seconds, cpu, peak = measure(argv)
                peaks[command].append(peak)
                read = rows * (2 if command == "compare" else 1)
                print(
                    f"{command:<8} {rows:>9,} rows/run ({size_mb:.0f} MiB/run): {seconds:7.1f} s wall, "
                    f"{cpu:7.1f} s CPU, {read / seconds:8,.0f} rows/s, peak RSS {peak:7.1f} MiB"
                )
            base.unlink()
            tuned.unlink(missing_ok=True)
    if len(sizes) > 1:
        for command, values in peaks.items():
            ratio = values[-1] / values[0]
            verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
            print(
                f"{command}: peak RSS at {sizes[-1]:,} rows / at {sizes[0]:,} rows = {ratio:.2f}x "
                f"(target <= {TARGET_RATIO}x): {verdict}"
            )


if __name__ == "__main__":
    main()
