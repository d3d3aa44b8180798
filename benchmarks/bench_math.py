"""math-accuracy against math-verify called in a plain loop (parse gold, parse answer, verify) on fixtures/math.jsonl.

Both sides read the same answer text (rewardlab.rewards.math.answers.answer_region) with the same reading rules (the
parse of rewardlab.rewards.math._verify_worker, called directly in this process), and both are warmed up by one untimed
pass (imports done, worker pool started, sympy's caches filled). In each timed run the golds are new to our gold caches
(a run's golds carry its own number of trailing spaces), as in the first epoch of training; a last run shows golds
already cached (later epochs). Rows are scored in GRPO-sized batches of 8 prompts × their completions.
Target: ratio (plain loop time / ours) ≥ 1.

    python benchmarks/bench_math.py [--repeat 3] [--batch-prompts 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_rows() -> list[dict]:
    with open(ROOT / "fixtures" / "math.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def batches(rows: list[dict], prompts_per_batch: int) -> list[list[dict]]:
    order = list(dict.fromkeys(r["prompt_id"] for r in rows))
    groups = [order[i : i + prompts_per_batch] for i in range(0, len(order), prompts_per_batch)]
    return [[r for r in rows if r["prompt_id"] in set(group)] for group in groups]


def plain_loop(reader, rows: list[dict]) -> list[float]:
    """Parse each gold and answer with math-verify under ``reader``'s rules (no pool, timer or gold cache), verify."""
    from rewardlab.rewards.math.answers import answer_region

    values = []
    for row in rows:
        gold = reader.read_gold(row["solution"])
        answer = reader.answer(answer_region(row["completion"]))
        values.append(float(reader.verify(gold, answer)))
    return values


def ours(reward, batch_list: list[list[dict]]) -> list[float]:
    values = []
    for batch in batch_list:
        values += reward(
            prompts=[r["prompt"] for r in batch],
            completions=[r["completion"] for r in batch],
            solution=[r["solution"] for r in batch],
        )
    return values


def with_gold_suffix(rows: list[dict], spaces: int) -> list[dict]:
    return [{**r, "solution": r["solution"] + " " * spaces} for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-prompts", type=int, default=8)
    args = parser.parse_args()

    import rewardlab
    from rewardlab.rewards.math._verify_worker import Worker

    rows = load_rows()
    reward = rewardlab.get("math-accuracy")
    reader = Worker()
    plain_loop(reader, rows)
    ours(reward, batches(rows, args.batch_prompts))

    loop_times, our_times = [], []
    for run in range(1, args.repeat + 1):
        run_rows = with_gold_suffix(rows, run)
        start = time.perf_counter()
        expected = plain_loop(reader, run_rows)
        loop_times.append(time.perf_counter() - start)

        batch_list = batches(run_rows, args.batch_prompts)
        start = time.perf_counter()
        got = ours(reward, batch_list)
        our_times.append(time.perf_counter() - start)
        if got != expected:
            raise SystemExit("math-accuracy and the plain loop disagree")

    start = time.perf_counter()
    ours(reward, batch_list)
    warm_golds = time.perf_counter() - start

    loop, mine = statistics.median(loop_times), statistics.median(our_times)
    from rewardlab.rewards.math.answers import answer_region

    distinct = len({(r["solution"], answer_region(r["completion"])) for r in rows})
    print(f"rows: {len(rows)} ({len(batch_list)} batches of {args.batch_prompts} prompts), medians of {args.repeat}")
    print(f"distinct (gold, answer) pairs: {distinct}; distinct golds: {len({r['solution'] for r in rows})}")
    print(f"math-verify plain loop:            {loop:.3f} s  ({1000 * loop / len(rows):.2f} ms/row)")
    print(f"math-accuracy, golds not cached:   {mine:.3f} s  ({1000 * mine / len(rows):.2f} ms/row)")
    print(f"math-accuracy, golds cached:       {warm_golds:.3f} s  ({1000 * warm_golds / len(rows):.2f} ms/row)")
    print(
        f"ratio plain loop / math-accuracy:  {loop / mine:.2f}x (golds not cached), {loop / warm_golds:.2f}x (cached)"
    )


if __name__ == "__main__":
    main()
