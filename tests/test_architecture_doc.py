"""docs/architecture.md's "add a reward in five minutes" works as written."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

from conftest import ROOT

DOC = ROOT / "docs" / "architecture.md"


def test_the_documented_reward_registers_scores_and_passes_its_doctest(tmp_path):
    example = re.search(
        r"1\. Create `rewardlab/rewards/shout.py`:\n\n   ```python\n(.*?)   ```", DOC.read_text(), re.S
    )
    assert example, "the example reward is not in docs/architecture.md"
    (tmp_path / "shout.py").write_text(textwrap.dedent(example.group(1)))
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"completion": "yes!"}\n{"completion": "no"}\n')
    script = f"""
import doctest, json, sys
sys.path.insert(0, {str(tmp_path)!r})
import shout
from click.testing import CliRunner
from rewardlab.cli import main
assert doctest.testmod(shout).failed == 0
listed = CliRunner().invoke(main, ["list"]).output
scored = CliRunner().invoke(main, ["score", {str(rows)!r}, "-r", "shout", "-p", "bonus=0.5"])
print(json.dumps({{"listed": "shout" in listed, "rewards": [json.loads(l)["reward"] for l in scored.output.splitlines()
                  if l.startswith("{{")]}}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '{"listed": true, "rewards": [1.5, 0.0]}'
