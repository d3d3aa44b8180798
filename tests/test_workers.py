import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import rewardlab
from rewardlab.cli import main
from rewardlab.workers import fans_out

PID = "import os\n\ndef pid(prompts, completions, **columns):\n    return [float(os.getpid())] * len(completions)\n"


@pytest.fixture
def runner():
    return CliRunner()


def jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_two_workers_write_what_one_process_writes_in_the_same_order(runner, tmp_path):
    completions = ["<think>\nhm\n</think>\n<answer>\n4\n</answer>", "4", "<answer>\n4\n</answer>"]
    source = jsonl(tmp_path / "in.jsonl", [{"completion": completions[i % 3], "i": i} for i in range(2000)])
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        args = ["score", str(source), "-r", "math-format,math-tags", "-o", str(out), "--workers", workers]
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]


def test_a_user_function_is_scored_in_the_worker_processes(runner, tmp_path):
    (tmp_path / "mine.py").write_text(PID)
    source = jsonl(tmp_path / "in.jsonl", [{"completion": "c"}] * 3000)
    out = tmp_path / "out.jsonl"
    args = ["score", str(source), "-r", f"{tmp_path / 'mine.py'}:pid", "-o", str(out), "--workers", "2"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    pids = {json.loads(line)["reward"] for line in out.read_text().splitlines()}
    assert os.getpid() not in pids
    assert len(pids) == 2


def test_a_row_error_in_a_worker_names_the_line(runner, tmp_path):
    rows = [{"completion": "<answer>\n$4$\n</answer>", "solution": "4"}] * 1500
    rows[299] = {"completion": "4", "solution": [4]}
    source = jsonl(tmp_path / "in.jsonl", rows)
    result = runner.invoke(main, ["score", str(source), "-r", "math-accuracy", "--workers", "2"])
    assert result.exit_code == 2
    assert f"{source}:300: field 'solution': expected a string or a number, got list" in result.output


def test_rewards_with_their_own_pool_stay_in_the_main_process():
    assert fans_out(rewardlab.build("math"))
    assert fans_out(rewardlab.build("engagement"))
    assert not fans_out(rewardlab.build("code"))
    assert not fans_out(rewardlab.build("math-format,code-binary"))


def test_workers_do_not_run_the_users_script_again(tmp_path):
    source = jsonl(tmp_path / "in.jsonl", [{"completion": "c"}] * 1100)
    script = tmp_path / "run.py"
    args = ["score", str(source), "-r", "math-tags", "-o", str(tmp_path / "out.jsonl"), "--workers", "2"]
    script.write_text(
        "from rewardlab.cli import main\n"
        "print('script ran', flush=True)\n"
        "if __name__ == '__main__':\n"
        f"    main({args!r})\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("script ran") == 1
