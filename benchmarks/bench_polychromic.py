"""Polychromic GRPO against plain GRPO on the tiny Qwen3: does it keep the samples diverse at the same reward?

Both arms train the same LoRA on the same prompts with the same reward, seed, steps and sampling settings; only
``--objective`` differs. The base model and both adapters are then sampled with ``evalkit generate`` and compared
with ``evalkit compare`` (paired bootstrap over prompts). Two rewards: ``e_share``, a reward of our own written
to a file for this check (the share of the letter e in the reply, which the tiny model learns in a few dozen
steps), and the shipped ``engagement`` in its seed variant (``-p variant=seed``: the gated default pays the random
tiny model's replies nothing, since none is relevant to its post, so there would be nothing to compare).
Targets, per reward: polychromic's Self-BLEU lower than plain GRPO's with p < 0.05, and its mean reward at least
90% of plain GRPO's.

    python benchmarks/bench_polychromic.py [--steps 40] [--lr 3e-2] [--set-size 4] [--rewards e_share,engagement]
        [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SELF_BLEU_P_TARGET = 0.05
REWARD_RATIO_TARGET = 0.9
SYSTEM = "Reply to the post in one friendly sentence."

E_SHARE = """
def e_share(completions, **kwargs):
    texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
    return [t.count("e") / max(1, len(t)) for t in texts]
"""


def run(*command: str, log: Path) -> None:
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(command)}\n")
        handle.flush()
        # One thread per process: a model this small only loses time to threads fighting over the cores.
        env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **os.environ}
        done = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, check=False, env=env)
    if done.returncode:
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}; see {log}")


def prompts(path: Path, count: int) -> None:
    """One row per post of fixtures/replies.jsonl (with its prompt_id), the first ``count`` posts."""
    posts: dict[str, str] = {}
    for line in (ROOT / "fixtures" / "replies.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        posts.setdefault(row["prompt_id"], row["prompt"])
    rows = [{"prompt_id": key, "prompt": text} for key, text in list(posts.items())[:count]]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def metric(report: dict, name: str) -> dict:
    return next(m for m in report["metrics"] if m["name"] == name)


def arm(
    work: Path, reward: str, params: list[str], args: argparse.Namespace, model: Path, data: Path, log: Path
) -> dict:
    """Train plain and polychromic GRPO on ``reward``, sample base and both adapters, compare; return the figures."""
    out = work / reward.rpartition(":")[2]
    runs = out / "runs"
    train = [
        "--model", str(model), "--data", str(data), "--reward", reward, *params, "--system-prompt", SYSTEM,
        "--max-steps", str(args.steps), "--learning-rate", str(args.lr), "--num-generations", str(args.generations),
        "--per-device-train-batch-size", str(args.generations * 2), "--max-completion-length", str(args.length),
        "--seed", str(args.seed), "--save-steps", "100000",
    ]  # fmt: skip
    sample = [
        "--model", str(model), "--data", str(data), "--system-prompt", SYSTEM, "--num-samples", str(args.samples),
        "--max-new-tokens", str(args.length), "--seed", str(args.seed),
    ]  # fmt: skip
    seconds = {}
    for name, objective in (
        ("grpo", []),
        ("polychromic", ["--objective", "polychromic", "--set-size", str(args.set_size)]),
    ):
        start = time.perf_counter()
        run("grpo-train", *train, "--output-dir", str(out / name), *objective, log=log)
        seconds[name] = time.perf_counter() - start
    run("evalkit", "generate", *sample, "--out", str(runs / "base" / "generations.jsonl"), log=log)
    for name in ("grpo", "polychromic"):
        run(
            "evalkit",
            "generate",
            *sample,
            "--adapter",
            str(out / name),
            "--out",
            str(runs / name / "generations.jsonl"),
            log=log,
        )
    # The figures are Self-BLEU, distinct-2 and mean reward; the threshold only satisfies compare's correctness rule.
    scoring = ["--reward", reward, *params, "--threshold", "0.6", "--runs-dir", str(runs)]
    run("evalkit", "compare", "base", "grpo", "polychromic", *scoring, "--out", str(out / "base-grpo-poly"), log=log)
    run("evalkit", "compare", "grpo", "polychromic", *scoring, "--out", str(out / "grpo-vs-poly"), log=log)
    three = json.loads((out / "base-grpo-poly" / "report.json").read_text())
    pair = json.loads((out / "grpo-vs-poly" / "report.json").read_text())
    figures = {"seconds": seconds}
    for name in ("Self-BLEU", "mean reward", "distinct-2"):
        values = metric(three, name)["runs"]
        figures[name] = {run_name: values[run_name]["value"] for run_name in ("base", "grpo", "polychromic")}
        figures[name]["p (polychromic vs grpo)"] = metric(pair, name)["comparisons"][0]["p_value"]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--lr", type=float, default=3e-2)
    parser.add_argument("--set-size", type=int, default=4)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--length", type=int, default=12)
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rewards", default="e_share,engagement")
    parser.add_argument("--work", type=Path, help="Keep models, runs and reports here (default: a temporary folder).")
    args, _ = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        log = work / "bench_polychromic.log"
        model, data = work / "tiny-qwen", work / "prompts.jsonl"
        run(sys.executable, str(ROOT / "fixtures" / "tiny_qwen.py"), str(model), log=log)
        prompts(data, args.prompts)
        (work / "e_share.py").write_text(E_SHARE, encoding="utf-8")
        specs = {
            "e_share": (f"{work / 'e_share.py'}:e_share", []),
            "engagement": ("engagement", ["-p", "variant=seed"]),
        }
        print(
            f"tiny Qwen3, {args.prompts} posts, {args.steps} steps, lr {args.lr}, {args.generations} generations, "
            f"set size {args.set_size}, {args.length} tokens, {args.samples} samples per post, seed {args.seed}"
        )
        status = 0
        for name in args.rewards.split(","):
            figures = arm(work, *specs[name], args, model, data, log)
            bleu, reward = figures["Self-BLEU"], figures["mean reward"]
            ratio = reward["polychromic"] / reward["grpo"] if reward["grpo"] else float("nan")
            ok = bleu["polychromic"] < bleu["grpo"] and bleu["p (polychromic vs grpo)"] < SELF_BLEU_P_TARGET
            ok = ok and ratio >= REWARD_RATIO_TARGET
            status |= not ok
            print(f"\n== reward {name}: training {figures['seconds']['grpo']:.0f} s plain, "
                  f"{figures['seconds']['polychromic']:.0f} s polychromic")  # fmt: skip
            print(f"{'metric':<12} {'base':>7} {'grpo':>7} {'poly':>7}  p(poly vs grpo)")
            for metric_name in ("Self-BLEU", "mean reward", "distinct-2"):
                row = figures[metric_name]
                print(
                    f"{metric_name:<12} {row['base']:>7.3f} {row['grpo']:>7.3f} {row['polychromic']:>7.3f}  "
                    f"{row['p (polychromic vs grpo)']:.4f}"
                )
            print(f"reward ratio poly/grpo {ratio:.3f} (target >= {REWARD_RATIO_TARGET}); {'PASS' if ok else 'FAIL'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
