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


def test_the_launcher_is_in_place_before_any_of_the_toolkit_loads():
    """The commands' Ctrl-C guard (rewardlab.launch) needs ``import rewardlab`` to load only what takes no time.

    Those are the launcher, the errors it raises and the finder of moved modules: plain Python, no third party.
    """
    code = "import sys, json, rewardlab.launch; print(json.dumps(sorted(m for m in sys.modules if 'rewardlab.' in m)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == ["rewardlab._moved", "rewardlab.errors", "rewardlab.launch"]


def test_the_public_names_load_on_first_use():
    import rewardlab
    from rewardlab.registry import get
    from rewardlab.reward import Reward

    assert rewardlab.Reward is Reward and rewardlab.get is get
    assert set(rewardlab.__all__) <= set(dir(rewardlab))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = rewardlab.nope
