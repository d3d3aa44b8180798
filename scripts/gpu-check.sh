#!/usr/bin/env bash
# GPU readiness: on a CUDA machine without network, install rewardlab's missing packages from wheels/ (made
# beforehand by scripts/gpu-wheels.sh), build the tiny Qwen3, and run grpo-train (bf16), sft-train, evalkit
# generate and engagement scoring on the GPU, printing steps/s and texts/s; then TRL's GPU settings: gradient
# checkpointing with explicit bf16 and sdpa attention, fp16, QLoRA (4-bit and 8-bit loading through bitsandbytes),
# and vLLM generation in colocate and server mode (each where its package is installed; otherwise the one-line error
# that says so is checked and the step reported as not run). Exits non-zero at the first error.
#
#   bash scripts/gpu-check.sh
#
# Env: PYTHON (default python3, the interpreter holding torch), WHEELS (default wheels), WORK (scratch folder,
# default a new temporary one), STEPS (training steps, default 20), GPU_CHECK_CPU=1 (a dry run on a machine without
# a GPU: everything runs on the CPU, in float32, instead of failing the CUDA check).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WHEELS=${WHEELS:-wheels}
WORK=${WORK:-$(mktemp -d)}
STEPS=${STEPS:-20}
SITE="$WORK/site"
SYSTEM="Reply to the post in one friendly sentence."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1

fail() {
  echo "gpu-check: FAILED: $*" >&2
  exit 1
}
trap 'fail "line $LINENO: $BASH_COMMAND"' ERR
step() { printf '\n== %s\n' "$*"; }
count() { wc -l <"$1" | tr -d ' '; }
# "N texts, R texts/s" for N lines of a file written since the time $2 (date +%s.%N).
rate() {
  $PYTHON -c 'import sys, time; n = int(sys.argv[1]); print(f"{n} texts, {n / (time.time() - float(sys.argv[2])):.1f} texts/s")' \
    "$(count "$1")" "$2"
}
steps_per_second() {
  $PYTHON -c 'import json, sys; s = json.load(open(sys.argv[1]))["log_history"][-1]["train_steps_per_second"]; print(f"{s:.2f}")' "$1"
}

step "install from $WHEELS (no network)"
ls "$WHEELS"/*.whl >/dev/null 2>&1 || fail "no wheels in $WHEELS: run scripts/gpu-wheels.sh where pip reaches PyPI"
MINILM="$(cd "$WHEELS" && pwd)/all-MiniLM-L6-v2-fp16"
[[ -d "$MINILM" ]] || fail "no $MINILM: run scripts/gpu-wheels.sh"
# One pip run for the wheels and rewardlab itself (built with the setuptools wheel): a second --target run would
# leave the first one's bin/ as it is.
$PYTHON -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --find-links "$WHEELS" \
  --target "$SITE" "$WHEELS"/*.whl .
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}" PATH="$SITE/bin:$PATH"
for command in rewardlab evalkit grpo-train sft-train; do
  command -v "$command" >/dev/null || fail "$command is not installed (is it in pyproject.toml's [project.scripts]?)"
done

step "device"
$PYTHON - <<'EOF'
import os
from importlib.metadata import version

import torch

names = ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "pyarrow", "sentence-transformers")
print(", ".join(f"{name} {version(name)}" for name in names))
if torch.cuda.is_available():
    assert torch.cuda.is_bf16_supported(), "this GPU has no bf16; grpo-train would train in float32"
    print(f"{torch.cuda.get_device_name(0)}, CUDA {torch.version.cuda}: bf16")
elif os.environ.get("GPU_CHECK_CPU") == "1":
    print("no GPU: dry run on the CPU in float32 (GPU_CHECK_CPU=1)")
else:
    raise SystemExit("torch sees no CUDA device (GPU_CHECK_CPU=1 makes a dry run on the CPU)")
EOF

step "tiny Qwen3, and the replies split into sft.jsonl and grpo.jsonl"
$PYTHON fixtures/tiny_qwen.py "$WORK/tiny-qwen"
rewardlab split fixtures/replies.jsonl --reward engagement -p model="$MINILM" --seed 0 --out-dir "$WORK/split"
$PYTHON - "$WORK/split/grpo.jsonl" "$WORK/posts.jsonl" <<'EOF'
import json
import sys

posts = {}
for line in open(sys.argv[1], encoding="utf-8"):
    row = json.loads(line)
    posts.setdefault(row["prompt_id"], {"prompt_id": row["prompt_id"], "prompt": row["prompt"]})
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.writelines(json.dumps(row) + "\n" for row in posts.values())
EOF

step "grpo-train: $STEPS steps, LoRA, engagement reward"
grpo-train --model "$WORK/tiny-qwen" --data "$WORK/split/grpo.jsonl" --reward engagement -p model="$MINILM" \
  --output-dir "$WORK/grpo" --system-prompt "$SYSTEM" --max-steps "$STEPS" --learning-rate 2e-2 \
  --num-generations 8 --per-device-train-batch-size 16 --max-completion-length 24 --seed 0 \
  >"$WORK/grpo-train.log" 2>&1 || { tail -n 20 "$WORK/grpo-train.log"; fail "grpo-train"; }
echo "grpo-train: $(steps_per_second "$WORK/grpo/trainer_state.json") steps/s"

step "sft-train: $STEPS steps on sft.jsonl"
sft-train --model "$WORK/tiny-qwen" --data "$WORK/split/sft.jsonl" --output-dir "$WORK/sft" --max-steps "$STEPS" \
  --learning-rate 2e-3 --per-device-train-batch-size 16 --seed 0 --system-prompt "$SYSTEM" \
  >"$WORK/sft-train.log" 2>&1 || { tail -n 20 "$WORK/sft-train.log"; fail "sft-train"; }
echo "sft-train: $(steps_per_second "$WORK/sft/trainer_state.json") steps/s"

step "evalkit generate: 8 samples per post with the GRPO adapter"
start=$(date +%s.%N)
evalkit generate --model "$WORK/tiny-qwen" --adapter "$WORK/grpo" --data "$WORK/posts.jsonl" \
  --system-prompt "$SYSTEM" --num-samples 8 --max-new-tokens 24 --batch-size 64 --out "$WORK/generations.jsonl"
echo "evalkit generate: $(rate "$WORK/generations.jsonl" "$start")"

step "engagement scoring (all-MiniLM-L6-v2, the float16 copy in $WHEELS)"
start=$(date +%s.%N)
rewardlab score "$WORK/generations.jsonl" --reward engagement -p model="$MINILM" -o "$WORK/scored.jsonl" 2>/dev/null
echo "engagement: $(rate "$WORK/scored.jsonl" "$start") (model load included)"
$PYTHON - "$WORK/scored.jsonl" "$MINILM" <<'EOF'
import json
import os
import sys

from rewardlab.rewards.engagement import load_model

rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
assert rows and all(isinstance(row["reward"], float) for row in rows), "engagement left rows unscored"
device = str(load_model(sys.argv[2]).device)
assert device.startswith("cuda") or os.environ.get("GPU_CHECK_CPU") == "1", f"the embedding model ran on {device}"
print(f"mean engagement {sum(row['reward'] for row in rows) / len(rows):.3f}; embedding model on {device}")
EOF

# TRL's settings that only a GPU runs (grpo-train --help lists them all); a few steps each.
gpu_train() {
  local name=$1
  shift
  grpo-train --model "$WORK/tiny-qwen" --data "$WORK/split/grpo.jsonl" --reward engagement -p model="$MINILM" \
    --output-dir "$WORK/$name" --system-prompt "$SYSTEM" --max-steps 3 --num-generations 4 \
    --per-device-train-batch-size 8 --max-completion-length 16 --seed 0 "$@" >"$WORK/$name.log" 2>&1
}
has() { $PYTHON -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$1') is None)"; }
on_gpu=$($PYTHON -c 'import torch; print(int(torch.cuda.is_available()))')

step "grpo-train: gradient checkpointing, bf16 and sdpa attention given explicitly; fp16"
if [[ $on_gpu == 1 ]]; then
  gpu_train gc-bf16 --gradient-checkpointing --bf16 true --attn-implementation sdpa --loss-type dr_grpo ||
    { tail -n 20 "$WORK/gc-bf16.log"; fail "grpo-train --gradient-checkpointing --bf16"; }
  grep -q "^attn_implementation: sdpa" "$WORK/gc-bf16/grpo-train.yaml" || fail "sdpa not in the record"
  gpu_train fp16 --fp16 true --bf16 false --dtype float32 || { tail -n 20 "$WORK/fp16.log"; fail "grpo-train --fp16"; }
  echo "gradient checkpointing + bf16 + sdpa, and fp16: trained"
else
  echo "not run: no GPU (GPU_CHECK_CPU=1)"
fi

for bits in 4 8; do
  step "grpo-train --load-in-${bits}bit (QLoRA) with gradient checkpointing"
  if [[ $on_gpu == 1 ]] && has bitsandbytes; then
    gpu_train "qlora$bits" "--load-in-${bits}bit" --gradient-checkpointing ||
      { tail -n 20 "$WORK/qlora$bits.log"; fail "grpo-train --load-in-${bits}bit"; }
    grep -q '"peft_type": "LORA"' "$WORK/qlora$bits/adapter_config.json" || fail "no LoRA adapter saved"
    echo "QLoRA ${bits}-bit: $(steps_per_second "$WORK/qlora$bits/trainer_state.json") steps/s"
  else
    if gpu_train "qlora$bits" "--load-in-${bits}bit"; then fail "--load-in-${bits}bit ran without a GPU or bitsandbytes"; fi
    grep -q "^Error: --load-in-${bits}bit needs" "$WORK/qlora$bits.log" || fail "no one-line error for --load-in-${bits}bit"
    echo "not run: $(grep '^Error:' "$WORK/qlora$bits.log") (the one-line error was checked)"
  fi
done

step "grpo-train --use-vllm: colocate, then server (trl vllm-serve)"
if [[ $on_gpu == 1 ]] && has vllm; then
  gpu_train vllm-colocate --use-vllm --vllm-mode colocate --vllm-gpu-memory-utilization 0.3 ||
    { tail -n 20 "$WORK/vllm-colocate.log"; fail "grpo-train --vllm-mode colocate"; }
  echo "vLLM colocate: $(steps_per_second "$WORK/vllm-colocate/trainer_state.json") steps/s"
  trl vllm-serve --model "$WORK/tiny-qwen" --gpu-memory-utilization 0.3 --port 8011 >"$WORK/vllm-serve.log" 2>&1 &
  server=$!
  for _ in $(seq 120); do curl -sf http://127.0.0.1:8011/health/ >/dev/null && break; sleep 2; done
  gpu_train vllm-server --use-vllm --vllm-mode server --vllm-server-port 8011 ||
    { kill "$server"; tail -n 20 "$WORK/vllm-server.log"; fail "grpo-train --vllm-mode server"; }
  kill "$server"
  echo "vLLM server: $(steps_per_second "$WORK/vllm-server/trainer_state.json") steps/s"
else
  echo "not run: vllm is not installed (pip install 'rewardlab[vllm]') or no GPU"
fi

trap - ERR
step "gpu-check passed (scratch: $WORK)"
