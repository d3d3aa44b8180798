#!/usr/bin/env bash
# Does GRPO on engagement drive "?" up without relevance? The check of issue 18, on CPU in about two minutes.
#
#   bash scripts/question-hack.sh [RUNS_DIR]     (run with .venv/bin first on PATH, as `make demo` does)
#
# Trains the tiny Qwen3 model of fixtures/tiny_qwen.py with LoRA GRPO on the 51 posts of fixtures/replies.jsonl,
# once with the seed's engagement (-p variant=seed) and once with the gated default, same seed and steps; samples the
# base model and both adapters and prints, for each, the share of replies with a "?" and their mean relevance under
# the seed's cosine ramp (the relevance the seed variant pays).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

RUNS=${1:-runs/question-hack}
SYSTEM="Reply to the post in one friendly sentence."
mkdir -p "$RUNS"
python fixtures/tiny_qwen.py "$RUNS/tiny-qwen" >/dev/null
python - "$RUNS/posts.jsonl" <<'EOF'
import json, sys
posts = {}
for line in open("fixtures/replies.jsonl", encoding="utf-8"):
    prompt = json.loads(line)["prompt"]
    posts.setdefault(prompt, {"prompt_id": f"p{len(posts):02d}", "prompt": prompt})
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.writelines(json.dumps(row) + "\n" for row in posts.values())
EOF

evalkit generate --model "$RUNS/tiny-qwen" --data "$RUNS/posts.jsonl" --system-prompt "$SYSTEM" --num-samples 4 \
  --max-new-tokens 24 --seed 0 --out "$RUNS/base/generations.jsonl" >/dev/null 2>&1
for variant in seed gated; do
  grpo-train --reward engagement -p "variant=$variant" --model "$RUNS/tiny-qwen" --data "$RUNS/posts.jsonl" \
    --output-dir "$RUNS/$variant" --overwrite-output-dir --system-prompt "$SYSTEM" --max-steps 10 \
    --learning-rate 2e-2 --num-generations 4 --per-device-train-batch-size 8 --max-completion-length 24 --seed 0 \
    >"$RUNS/$variant-train.log" 2>&1 || { tail -n 20 "$RUNS/$variant-train.log"; exit 1; }
  evalkit generate --model "$RUNS/tiny-qwen" --adapter "$RUNS/$variant" --data "$RUNS/posts.jsonl" \
    --system-prompt "$SYSTEM" --num-samples 4 --max-new-tokens 24 --seed 0 \
    --out "$RUNS/$variant/generations.jsonl" >/dev/null 2>&1
done

python - "$RUNS" <<'EOF'
import json, statistics, sys
import rewardlab

runs, seed = sys.argv[1], rewardlab.get("engagement", variant="seed")
print(f"{'run':<28}{'replies':>8}{'with ?':>9}{'relevance':>11}")
for name, label in [("base", "no adapter"), ("seed", "GRPO, -p variant=seed"), ("gated", "GRPO, gated (default)")]:
    rows = [json.loads(line) for line in open(f"{runs}/{name}/generations.jsonl", encoding="utf-8")]
    replies = [row["completion"] for row in rows]
    scores = seed.score([row["prompt"] for row in rows], replies)
    relevance = statistics.fmean(score.components["relevance"] for score in scores)
    asking = sum("?" in reply for reply in replies) / len(replies)
    print(f"{label:<28}{len(replies):>8}{asking:>9.1%}{relevance:>11.3f}")
EOF
