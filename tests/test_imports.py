"""Importing the packages is cheap: no torch, transformers, trl or sentence-transformers at import time."""

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "trl", "sentence_transformers", "math_verify", "sacrebleu", "peft")


PACKAGES = ["rewardlab", "eval", "grpo_plugin", "rewardlab.cli", "eval.cli", "grpo_plugin.cli"]


@pytest.mark.parametrize("package", PACKAGES)
def test_import_pulls_in_no_heavy_module(package):
    code = f"import sys, json, {package}; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
