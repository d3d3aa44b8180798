"""Rewards in a plain user script: no `if __name__ == "__main__":` guard needed; the README TRL example runs."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_file(path, cwd, timeout=300):
    """Run a Python file as a user would (``python file.py``), offline, with this checkout importable."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_a_plain_script_without_a_main_guard_scores_once(tmp_path):
    script = tmp_path / "score_math.py"
    script.write_text(
        textwrap.dedent(
            r"""
            import rewardlab
            print("script started", flush=True)
            reward = rewardlab.get("math-accuracy")
            print(reward(completions=["<answer>\n23\n</answer>", "\\boxed{5}", "<answer>\n1024\n</answer>"],
                         solution=["23", "6", "2^{10}"]))
            """
        )
    )
    done = run_file(script, tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    # Workers started by multiprocessing re-run the script: "script started" would print again, and scoring
    # inside them would start workers of their own.
    assert done.stdout.splitlines() == ["script started", "[1.0, 0.0, 1.0]"]


def readme_trl_example():
    """The Python block of the README section "Using a reward in your own TRL script", verbatim."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Using a reward in your own TRL script", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    return code


def test_readme_trl_example_needs_no_main_guard():
    code = readme_trl_example()
    assert "__main__" not in code
    assert "rewardlab.get(" in code and "GRPOTrainer(" in code


def test_readme_trl_example_runs_verbatim_as_a_file(tmp_path, tiny_qwen):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "tiny-qwen").symlink_to(tiny_qwen)  # where `make demo` builds it
    script = tmp_path / "train_math.py"
    script.write_text(readme_trl_example(), encoding="utf-8")
    done = run_file(script, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "trained 1 step(s)" in done.stdout
