import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from helpers import write_jsonl

import rewardlab
from rewardlab.cli import main
from rewardlab.engine.workers import fans_out

PID = "import os\n\ndef pid(prompts, completions, **columns):\n    return [float(os.getpid())] * len(completions)\n"


@pytest.fixture
def runner():
    return CliRunner()


def test_two_workers_write_what_one_process_writes_in_the_same_order(runner, tmp_path):
    completions = ["<think>\nhm\n</think>\n<answer>\n4\n</answer>", "4", "<answer>\n4\n</answer>"]
    source = write_jsonl(tmp_path / "in.jsonl", [{"completion": completions[i % 3], "i": i} for i in range(2000)])
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
    source = write_jsonl(tmp_path / "in.jsonl", [{"completion": "c"}] * 3000)
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
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    result = runner.invoke(main, ["score", str(source), "-r", "math-accuracy", "--workers", "2"])
    assert result.exit_code == 2
    assert f"{source}:300: field 'solution': expected a string or a number, got list" in result.output


def test_rewards_with_their_own_pool_stay_in_the_main_process():
    assert fans_out(rewardlab.build("math"))
    assert fans_out(rewardlab.build("engagement"))
    assert not fans_out(rewardlab.build("code"))
    assert not fans_out(rewardlab.build("math-format,code-binary"))


def test_workers_do_not_run_the_users_script_again(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"completion": "c"}] * 1100)
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


SLOW = """import time

def slow(prompts, completions, **columns):
    time.sleep(0.05)
    return [1.0] * len(completions)
"""


def test_ctrl_c_while_workers_score_is_one_line_and_keeps_the_old_output(tmp_path):
    (tmp_path / "mine.py").write_text(SLOW)
    source = write_jsonl(tmp_path / "in.jsonl", [{"completion": "x"} for _ in range(600_000)])
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    args = ["score", str(source), "-r", f"{tmp_path / 'mine.py'}:slow", "--workers", "2", "-o", str(out)]
    # A session of its own, so the signal reaches every process of the run, as a terminal's Ctrl-C does.
    command = [os.path.join(os.path.dirname(sys.executable), "rewardlab"), *args]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    inputs = {"in.jsonl", "out.jsonl", "mine.py", "__pycache__"}
    while not _written(tmp_path, inputs):  # rows in the output's temporary file: the workers are scoring
        assert process.poll() is None, process.stderr.read()
    os.killpg(process.pid, 2)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert stderr.splitlines() == ["Error: interrupted by SIGINT; outputs not yet complete were not written"]
    assert out.read_text() == "old\n"
    assert set(os.listdir(tmp_path)) <= inputs


def _written(directory, inputs):
    return any((directory / name).stat().st_size for name in set(os.listdir(directory)) - inputs)
