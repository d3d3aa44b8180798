#!/usr/bin/env bash
# The whole pipeline on CPU in a few minutes: score replies, split them, GRPO-train a tiny Qwen3 with LoRA on the
# engagement reward, sample the base model and the adapter, and compare the two runs.
# `make demo` runs this with .venv/bin first on PATH and the hub offline.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=runs
SYSTEM="Reply to the post in one friendly sentence."
start=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$1" "$(($(date +%s) - start))"; }

step "build the tiny Qwen3 model"
python fixtures/tiny_qwen.py "$RUNS/tiny-qwen"

step "score the replies with engagement"
rewardlab score fixtures/replies.jsonl --reward engagement -o "$RUNS/scored.jsonl"

step "split them by reward quartile into an SFT half and a GRPO half"
rewardlab split "$RUNS/scored.jsonl" --reward engagement --ratio 0.5 --seed 42 --out-dir "$RUNS/split"

# One row per post, for sampling both models on the same prompts.
python - "$RUNS/split/grpo.jsonl" "$RUNS/posts.jsonl" <<'EOF'
import json, sys
posts = {}
for line in open(sys.argv[1], encoding="utf-8"):
    row = json.loads(line)
    posts.setdefault(row["prompt_id"], {"prompt_id": row["prompt_id"], "prompt": row["prompt"]})
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in posts.values())
print(f"{len(posts)} posts")
EOF

step "GRPO: LoRA on the tiny model, engagement reward"
grpo-train --reward engagement --model "$RUNS/tiny-qwen" --data "$RUNS/split/grpo.jsonl" --output-dir "$RUNS/grpo" \
  --system-prompt "$SYSTEM" --max-steps 30 --learning-rate 2e-2 --num-generations 4 \
  --per-device-train-batch-size 8 --max-completion-length 24 --seed 0 >"$RUNS/grpo-train.log" 2>&1 \
  || { tail -n 20 "$RUNS/grpo-train.log"; exit 1; }
tail -n 2 "$RUNS/grpo-train.log"
echo "(full training log: $RUNS/grpo-train.log)"

step "sample the base model and the adapter"
evalkit generate --model "$RUNS/tiny-qwen" --data "$RUNS/posts.jsonl" --system-prompt "$SYSTEM" --num-samples 4 \
  --max-new-tokens 24 --out "$RUNS/baseline/generations.jsonl"
evalkit generate --model "$RUNS/tiny-qwen" --adapter "$RUNS/grpo" --data "$RUNS/posts.jsonl" \
  --system-prompt "$SYSTEM" --num-samples 4 --max-new-tokens 24 --out "$RUNS/grpo/generations.jsonl"

step "compare the runs"
# engagement has no right or wrong: pass@k counts a reply "correct" at engagement >= 0.5, said explicitly
evalkit compare baseline grpo --runs-dir "$RUNS" --reward engagement --threshold 0.5 --out "$RUNS/report"

step "done"
echo "report: $RUNS/report/report.md (also report.json and the PNG plots in $RUNS/report)"
echo "adapter, trainer_state.json and grpo-train.yaml: $RUNS/grpo"
