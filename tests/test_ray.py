import json
import os

import pytest
import ray
from click.testing import CliRunner

import rewardlab
from rewardlab.cli import main

CODE = "```python\ndef add(a, b):\n    return a + b\n```"
ANSWER = "<think>\nadd them\n</think>\n<answer>\n$4$\n</answer>"
MINE = "def words(prompts, completions, **columns):\n    return [float(len(c.split())) for c in completions]\n"
GROUPS = """
class GroupSize:
    group_level = True

    def __call__(self, prompts, completions, **columns):
        return [float(prompts.count(p)) for p in prompts]


group_size = GroupSize()
"""


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance for the module: 2 CPUs, no dashboard, never an outside cluster."""
    address = os.environ.pop("RAY_ADDRESS", None)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    if address is not None:
        os.environ["RAY_ADDRESS"] = address


def test_ray_engine_gives_the_local_engines_rows(local_ray, tmp_path):
    (tmp_path / "mine.py").write_text(MINE)
    posts = ["Finished my first marathon today!", "What is 2+2?", "Any tips for learning Python?"]
    rows = [
        {
            "prompt": posts[i % 3],
            "completion": f"{ANSWER}\n{CODE}" if i % 2 else "Congratulations, what a great effort! How did it feel?",
            "solution": "4",
            "tests": ["assert add(1, 2) == 3", "assert add(2, 2) == 5"],
            "i": i,
        }
        for i in range(12)
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = f"engagement,math,code,{tmp_path / 'mine.py'}:words"
    runner = CliRunner()
    scored = {}
    for engine in ("local", "ray"):
        out = tmp_path / f"{engine}.jsonl"
        result = runner.invoke(main, ["score", str(source), "-r", spec, "-o", str(out), "--engine", engine])
        assert result.exit_code == 0, result.output
        scored[engine] = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["i"] for r in scored["ray"]] == list(range(12))
    for local, remote in zip(scored["local"], scored["ray"], strict=True):
        assert remote["reward"] == pytest.approx(local["reward"], abs=1e-6)
        assert remote["components"] == pytest.approx(local["components"], abs=1e-6)


def test_score_dataset_keeps_prompt_groups_together(local_ray, tmp_path):
    from rewardlab.engine.ray_engine import score_dataset

    (tmp_path / "groups.py").write_text(GROUPS)
    prompts = ["a", "b", "a", "c", "b", "a"]
    dataset = ray.data.from_items([{"prompt": p, "completion": "x", "i": i} for i, p in enumerate(prompts)])
    reward = rewardlab.get(f"{tmp_path / 'groups.py'}:group_size")
    rows = sorted(score_dataset(dataset, reward).take_all(), key=lambda row: row["i"])
    assert [row["reward"] for row in rows] == [3.0, 2.0, 3.0, 1.0, 2.0, 3.0]
    assert set(rows[0]) == {"prompt", "completion", "i", "reward", "components", "details"}


def test_ray_engine_writes_parquet_in_input_order(local_ray, tmp_path):
    import pyarrow.parquet as pq

    completions = ["<think>\nhm\n</think>\n<answer>\n4\n</answer>", "4"]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"completion": completions[i % 2], "i": i}) + "\n" for i in range(6)))
    out = tmp_path / "out.parquet"
    result = CliRunner().invoke(main, ["score", str(source), "-r", "math-format", "-o", str(out), "--engine", "ray"])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out).to_pylist()
    assert [(row["i"], row["reward"]) for row in table] == [(i, 1.0 - i % 2) for i in range(6)]
    assert json.loads(table[0]["components"]) == {}
