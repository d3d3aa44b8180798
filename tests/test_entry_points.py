"""Rewards of other distributions, registered through the entry-point group ``rewardlab.rewards``.

Each test installs a small distribution the way pip leaves one (a package beside its ``.dist-info`` with
``entry_points.txt``) into a folder put on ``PYTHONPATH``, and runs the toolkit in a fresh process, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import read_jsonl, write_jsonl

PLUGIN = '''
from rewardlab import Reward, Score


class Shout(Reward):
    """Reward completions that end in an exclamation mark.

    Args:
        bonus: Added to the reward of a shouted completion.
    """

    columns = ("prompt",)
    correct_when = "value"

    def __init__(self, bonus: float = 0.0) -> None:
        self.bonus = bonus

    def score(self, prompts, completions, **columns):
        shouted = [c.endswith("!") for c in completions]
        return [Score(1.0 + self.bonus if s else 0.0, {"shouted": float(s)}) for s in shouted]


def exclaims(completions, **kwargs):
    """The share of characters that are exclamation marks."""
    return [c.count("!") / max(1, len(c)) for c in completions]


not_a_reward = 42
'''

ENTRY_POINTS = """
[rewardlab.rewards]
shout = shoutplugin:Shout
exclaims = shoutplugin:exclaims
gone = shoutplugin:missing
answer = shoutplugin:not_a_reward
math-format = shoutplugin:exclaims
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("site")
    (root / "shoutplugin.py").write_text(textwrap.dedent(PLUGIN))
    info = root / "shoutplugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shoutplugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return root


def run(site: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from rewardlab.launch import rewardlab; sys.argv[0] = 'rewardlab'; rewardlab()",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
    )


def python(site: Path, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_entry_point_rewards_are_listed_beside_the_built_ins(site):
    done = run(site, "list")
    assert done.returncode == 0, done.stderr
    names = [line.split()[0] for line in done.stdout.splitlines() if line and not line.startswith("rewardlab show")]
    assert {"shout", "exclaims", "engagement", "math-format"} <= set(names)
    assert "Reward completions that end in an exclamation mark." in done.stdout


def test_an_entry_point_that_cannot_be_used_is_named_with_its_reason_and_the_rest_still_work(site):
    done = run(site, "list")
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert any("'gone = shoutplugin:missing' failed to load: AttributeError" in line for line in warnings)
    assert any("'answer = shoutplugin:not_a_reward' names a int" in line for line in warnings)
    assert any(
        "'math-format = shoutplugin:exclaims' is ignored: 'math-format' is already a reward" in w for w in warnings
    )
    failed = run(site, "show", "gone")
    assert failed.returncode == 2
    assert failed.stderr.strip().splitlines() == [
        "Error: entry point 'gone = shoutplugin:missing' failed to load: "
        "AttributeError: module 'shoutplugin' has no attribute 'missing'"
    ]


def test_show_reads_an_entry_point_reward_like_a_built_in(site):
    done = run(site, "show", "shout")
    assert done.returncode == 0, done.stderr
    assert "shout: Reward completions that end in an exclamation mark." in done.stdout
    assert "bonus" in done.stdout and "needs: prompt" in done.stdout


def test_score_uses_entry_point_rewards_with_their_parameters(site, tmp_path):
    rows = write_jsonl(
        tmp_path / "rows.jsonl", [{"prompt": "p", "completion": "yes!"}, {"prompt": "p", "completion": "no"}]
    )
    out = tmp_path / "scored.jsonl"
    done = run(site, "score", str(rows), "-r", "shout,exclaims", "-p", "shout.bonus=0.5", "-o", str(out))
    assert done.returncode == 0, done.stderr
    scored = read_jsonl(out)
    assert [row["components"]["shout"] for row in scored] == [1.5, 0.0]
    assert [row["components"]["exclaims"] for row in scored] == [0.25, 0.0]
    assert scored[0]["components"]["shout/shouted"] == 1.0


def test_entry_point_rewards_pickle_keep_their_names_and_reach_grpo_train(site):
    out = python(
        site,
        "import json, pickle, rewardlab\n"
        "from grpo_plugin.rewards import build_rewards\n"
        "shout, exclaims = rewardlab.get('shout', bonus=1.0), rewardlab.get('exclaims')\n"
        "clones = [pickle.loads(pickle.dumps(r)) for r in (shout, exclaims)]\n"
        "rewards = build_rewards('shout,exclaims', weights=[1.0, 2.0])\n"
        "print(json.dumps({'names': [c.__name__ for c in clones], 'values': [c(['p'], ['a!']) for c in clones],\n"
        "  'grpo': rewards.names, 'rule': shout.correct_rule()}))\n",
    )
    result = json.loads(out)
    assert result == {
        "names": ["shout", "exclaims"],
        "values": [[2.0], [0.5]],
        "grpo": ["shout", "exclaims"],
        "rule": "shout = 1",
    }


def test_a_wrongly_typed_parameter_is_refused_when_the_reward_is_built(site, tmp_path):
    rows = write_jsonl(tmp_path / "rows.jsonl", [{"prompt": "p", "completion": "yes!"}])
    done = run(site, "score", str(rows), "-r", "shout", "-p", "bonus=loud")
    assert done.returncode == 2
    assert done.stderr.strip() == "Error: reward 'shout': bonus must be a number, got 'loud'"
