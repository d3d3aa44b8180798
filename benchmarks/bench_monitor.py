"""What grpo-train's monitor costs: step time on the tiny Qwen3 with the monitor against without it.

Both arms run the same ``grpo-train`` (same model, prompts, ``math`` reward, seed, steps, sampling); the plain arm
replaces :class:`grpo_plugin.monitor.Monitor` by a stand-in that hands TRL the bare rewards and records nothing.
Reported: the median of TRL's logged ``step_time`` over the steps after the first, per arm, and their ratio; and
the monitor's own measure of its bookkeeping (``monitor/overhead_share``: seconds in the monitor / seconds of the
logging step), which does not depend on how busy the machine is. Target: at most 5% of the step time.

    python benchmarks/bench_monitor.py [--steps 12] [--repeats 1] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.05


def plain_arm(argv: list[str]) -> None:
    """Run grpo-train with a monitor that does nothing (the child process of the plain arm)."""
    from transformers import TrainerCallback

    import grpo_plugin.train

    class Unmonitored(TrainerCallback):
        def __init__(self, rewards: Any, *args: Any, **kwargs: Any) -> None:
            self.rewards = rewards

        def wrap(self) -> list[Any]:
            return list(self.rewards.funcs)

    grpo_plugin.train.Monitor = Unmonitored
    from grpo_plugin.cli import main

    main(argv, standalone_mode=True)


def train(arm: str, out: Path, model: Path, steps: int) -> dict[str, Any]:
    args = [
        "--model", str(model), "--data", str(ROOT / "fixtures" / "math.jsonl"), "--reward", "math",
        "--output-dir", str(out), "--max-steps", str(steps), "--max-completion-length", "16",
        "--num-generations", "4", "--per-device-train-batch-size", "8", "--seed", "0", "--save-steps", "100000",
        "--overwrite-output-dir",
    ]  # fmt: skip
    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **os.environ}
    command = [sys.executable, __file__, "--child", arm, *args]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        sys.exit(f"{arm} arm failed ({done.returncode}):\n{done.stderr[-2000:]}")
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    logged = [entry for entry in history if "step_time" in entry][1:]
    return {
        "step_time": statistics.median(entry["step_time"] for entry in logged),
        "overhead_share": statistics.median(entry.get("monitor/overhead_share", 0.0) for entry in logged),
        "reward_time_share": statistics.median(entry.get("monitor/reward_time_share", 0.0) for entry in logged),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-monitor-"))
    model = work / "tiny-qwen"
    if not model.is_dir():
        subprocess.run([sys.executable, str(ROOT / "fixtures" / "tiny_qwen.py"), str(model)], check=True)
    results: dict[str, list[dict[str, Any]]] = {"plain": [], "monitored": []}
    for repeat in range(args.repeats):
        for arm in ("plain", "monitored"):  # interleaved, so a change in the machine's load hits both arms
            results[arm].append(train(arm, work / f"{arm}-{repeat}", model, args.steps))
    plain = statistics.median(r["step_time"] for r in results["plain"])
    monitored = statistics.median(r["step_time"] for r in results["monitored"])
    overhead = statistics.median(r["overhead_share"] for r in results["monitored"])
    reward_share = statistics.median(r["reward_time_share"] for r in results["monitored"])
    print(
        f"tiny Qwen3, math reward, {args.steps} steps x {args.repeats} run(s) per arm, load {os.getloadavg()[0]:.1f}"
    )
    print(f"median step time: plain {plain:.3f} s, monitored {monitored:.3f} s, ratio {monitored / plain:.3f}x")
    print(f"monitor bookkeeping: {overhead:.2%} of the step (target <= {TARGET:.0%}); rewards: {reward_share:.1%}")
    return 0 if overhead <= TARGET else 1


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        arm, argv = sys.argv[2], sys.argv[3:]
        if arm == "plain":
            plain_arm(argv)
        else:
            from grpo_plugin.cli import main as train_main

            train_main(argv, standalone_mode=True)
    else:
        sys.exit(main())
