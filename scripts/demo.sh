#!/usr/bin/env bash
# The whole workflow on CPU in a few minutes: score replies, split them by reward quartile, train an SFT LoRA warm
# start on one half, continue it with plain and with polychromic GRPO on the other half (engagement reward), sample
# the base model and the three adapters, and compare the four runs.
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

# One row per post, for sampling every model on the same prompts.
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

step "SFT warm start: LoRA on the SFT half"
sft-train --model "$RUNS/tiny-qwen" --data "$RUNS/split/sft.jsonl" --output-dir "$RUNS/sft" --overwrite-output-dir \
  --system-prompt "$SYSTEM" --max-steps 20 --learning-rate 1e-2 --per-device-train-batch-size 8 --seed 0 \
  >"$RUNS/sft-train.log" 2>&1 || { tail -n 20 "$RUNS/sft-train.log"; exit 1; }
tail -n 2 "$RUNS/sft-train.log"

# Both GRPO arms start from the SFT adapter with the same prompts, reward, seed and steps; only --objective differs.
for objective in grpo polychromic; do
  out="$RUNS/$objective"
  step "GRPO from the SFT adapter, --objective $objective"
  grpo-train --reward engagement --objective "$objective" --set-size 4 --model "$RUNS/tiny-qwen" \
    --init-adapter "$RUNS/sft" --data "$RUNS/split/grpo.jsonl" --output-dir "$out" --overwrite-output-dir \
    --system-prompt "$SYSTEM" --max-steps 30 --learning-rate 2e-2 --num-generations 8 \
    --per-device-train-batch-size 16 --max-completion-length 24 --seed 0 >"$RUNS/$objective-train.log" 2>&1 \
    || { tail -n 20 "$RUNS/$objective-train.log"; exit 1; }
  tail -n 2 "$RUNS/$objective-train.log"
  grep -m 1 -o 'WARNING step [0-9]*: zero reward variance[^.]*' "$RUNS/$objective-train.log" || true
done
echo "(the tiny model is random: its replies are not yet English about the post, and engagement pays only for"
echo " replies relevant to the post, so GRPO has next to nothing to learn here; with a real model it does."
echo " scripts/question-hack.sh shows the seed's heuristic paying this model for question marks alone)"
echo "(full training logs: $RUNS/sft-train.log, $RUNS/grpo-train.log, $RUNS/polychromic-train.log)"

step "sample the base model and the three adapters"
evalkit generate --model "$RUNS/tiny-qwen" --data "$RUNS/posts.jsonl" --system-prompt "$SYSTEM" --num-samples 4 \
  --max-new-tokens 24 --out "$RUNS/base/generations.jsonl"
for run in sft grpo polychromic; do
  evalkit generate --model "$RUNS/tiny-qwen" --adapter "$RUNS/$run" --data "$RUNS/posts.jsonl" \
    --system-prompt "$SYSTEM" --num-samples 4 --max-new-tokens 24 --out "$RUNS/$run/generations.jsonl"
done

step "compare the four runs (each against base, Holm-adjusted p)"
# engagement has no right or wrong: pass@k counts a reply "correct" at engagement >= 0.6, said explicitly
evalkit compare base sft grpo polychromic --runs-dir "$RUNS" --reward engagement --threshold 0.6 --k 1,2,4 \
  --out "$RUNS/report"

step "done"
echo "report: $RUNS/report/report.md (also report.json and the PNG plots in $RUNS/report)"
echo "adapters, trainer_state.json and the resolved configs: $RUNS/sft, $RUNS/grpo, $RUNS/polychromic"
