"""Scale of `rewardlab score`: peak memory at 100k and 1M rows, --workers, rows per second.

Files are generated from fixtures/math.jsonl: rows in prompt groups of 8 whose members lie scattered over the file
(the group id of row i is i·7919 mod rows/8), about 310 bytes a row. Each measurement runs the real command in a
fresh process; peak memory is that process's largest resident set (getrusage of the waited child).

- peak-row: peak RSS of `score -r math-format` (a row-level reward) on 1M rows / on 100k rows. Target ≤ 1.5.
- peak-group: the same for a group-level reward over the unsorted file (a group-normalised length, so the run
  measures the bucketing and merging, not math-verify). Target ≤ 1.5.
- peak-math-length: `score -r math-length` (group level, math-verify) on --math-length-rows / a tenth of them.
  Target ≤ 1.5.
- workers: time of `score -r math --workers 1` / `--workers 2` on --math-rows rows. Target ≥ 1.5 (math-verify
  already runs in min(4, cores) processes with one worker: on 2 busy cores the gain shrinks).
- rows/s at 1M rows, row-level and group-level; rows/s of `math` at --math-rows. Target ≥ 10,000 rows/s for the
  row-level pass (the reader, checks and writer, with a cheap reward).

    python benchmarks/bench_scale.py [--big 1000000] [--math-rows 200000] [--math-length-rows 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUP = 8
GROUP_REWARD = textwrap.dedent(
    """
    class GroupLength:
        group_level = True

        def __call__(self, prompts, completions, prompt_id, **columns):
            groups = {}
            for key, text in zip(prompt_id, completions):
                groups.setdefault(key, []).append(len(text))
            return [len(text) / max(groups[key]) for key, text in zip(prompt_id, completions)]


    group_length = GroupLength()
    """
)


def generate(path: Path, rows: int) -> None:
    fixtures = [json.loads(line) for line in (ROOT / "fixtures" / "math.jsonl").read_text().splitlines() if line]
    groups = max(1, rows // GROUP)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            row = dict(fixtures[i % len(fixtures)])
            row["prompt_id"] = f"q{(i * 7919) % groups}"
            handle.write(json.dumps(row) + "\n")


def run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of `rewardlab score ARGS` in a fresh process."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
        "elapsed = time.perf_counter() - start\n"
        "if done.returncode:\n"
        "    sys.exit(done.stderr)\n"
        "print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    score = [sys.executable, "-c", "from rewardlab.cli import main; main()", "score", *args]
    command = [sys.executable, "-c", probe, *score]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=1_000_000, help="rows of the large file")
    parser.add_argument("--math-rows", type=int, default=200_000, help="rows for the --workers comparison")
    parser.add_argument("--math-length-rows", type=int, default=100_000, help="rows for math-length's peak")
    args, _ = parser.parse_known_args()
    small = args.big // 10
    cores = os.cpu_count() or 1
    print(f"machine: {platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = Path(tmp)
        (folder / "group_reward.py").write_text(GROUP_REWARD)
        group_spec = f"{folder / 'group_reward.py'}:group_length"
        files = {}
        for rows in sorted({small, args.big, args.math_rows, args.math_length_rows, args.math_length_rows // 10}):
            files[rows] = folder / f"rows-{rows}.jsonl"
            generate(files[rows], rows)
        out = str(folder / "out.jsonl")

        row_small = run([str(files[small]), "-r", "math-format", "-o", out])
        row_big = run([str(files[args.big]), "-r", "math-format", "-o", out])
        print(
            f"peak-row: {row_big[1]:.0f} MB at {args.big:,} rows / {row_small[1]:.0f} MB at {small:,} rows = "
            f"{row_big[1] / row_small[1]:.2f}x  (target <= 1.5)"
        )
        group_small = run([str(files[small]), "-r", group_spec, "-o", out])
        group_big = run([str(files[args.big]), "-r", group_spec, "-o", out])
        print(
            f"peak-group: {group_big[1]:.0f} MB at {args.big:,} rows / {group_small[1]:.0f} MB at {small:,} rows = "
            f"{group_big[1] / group_small[1]:.2f}x  (target <= 1.5)"
        )
        print(
            f"rows/s at {args.big:,} rows: math-format {args.big / row_big[0]:,.0f}  (target >= 10,000); "
            f"group-level {args.big / group_big[0]:,.0f}"
        )

        tenth = args.math_length_rows // 10
        length_small = run([str(files[tenth]), "-r", "math-length", "-o", out])
        length_big = run([str(files[args.math_length_rows]), "-r", "math-length", "-o", out])
        print(
            f"peak-math-length: {length_big[1]:.0f} MB at {args.math_length_rows:,} rows / {length_small[1]:.0f} MB "
            f"at {tenth:,} rows = {length_big[1] / length_small[1]:.2f}x  (target <= 1.5)"
        )

        one = run([str(files[args.math_rows]), "-r", "math", "-o", out, "--workers", "1"])
        two = run([str(files[args.math_rows]), "-r", "math", "-o", out, "--workers", "2"])
        print(
            f"workers: math on {args.math_rows:,} rows, --workers 1 {one[0]:.1f} s / --workers 2 {two[0]:.1f} s = "
            f"{one[0] / two[0]:.2f}x  (target >= 1.5; this machine has {cores} cores)"
        )
        rates = f"{args.math_rows / one[0]:,.0f} (--workers 1), {args.math_rows / two[0]:,.0f} (--workers 2)"
        print(f"rows/s of math at {args.math_rows:,} rows: {rates}")


if __name__ == "__main__":
    main()
