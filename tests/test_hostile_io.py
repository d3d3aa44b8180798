"""Outputs and inputs a user can name that are not plain files, and data no JSONL file should hold.

Every case ends in the right result or in one line on stderr with exit status 2, and what the user had is kept.
"""

import gzip
import json
import os
import pty
import signal
import stat
import subprocess
import sys
import threading
import time
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from rewardlab.cli import main
from rewardlab.engine.read import MAX_LINE_BYTES, InputError, read_jsonl
from rewardlab.engine.write import atomic_writer, write_jsonl

ROOT = Path(__file__).resolve().parent.parent
ROW = {"prompt": "2+2?", "completion": "<think>\nadd\n</think>\n<answer>\n4\n</answer>"}


@pytest.fixture
def rows(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(ROW) + "\n" + json.dumps({**ROW, "completion": "4"}) + "\n")
    return path


def score(*args):
    return CliRunner().invoke(main, ["score", *map(str, args), "--reward", "math-tags"])


def one_line_exit_2(result, message):
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def rewardlab(*args, **kwargs):
    """Run the real command in its own process, as a shell would."""
    command = [sys.executable, "-c", "from rewardlab.cli import main; main()", *map(str, args)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


# Outputs: written into what the user named, never in place of it.


def test_a_symlinked_output_writes_its_target_and_stays_a_link(rows, tmp_path):
    target = tmp_path / "results" / "real.jsonl"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(target)
    assert score(rows, "-o", link).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert [json.loads(line)["reward"] for line in target.read_text().splitlines()] == [1.0, 0.0]
    assert sorted(p.name for p in target.parent.iterdir()) == ["real.jsonl"]


def test_a_dangling_symlink_output_creates_the_file_it_points_to(rows, tmp_path):
    link = tmp_path / "latest.jsonl"
    link.symlink_to(tmp_path / "new.jsonl")
    assert score(rows, "-o", link).exit_code == 0
    assert link.is_symlink() and len((tmp_path / "new.jsonl").read_text().splitlines()) == 2


def test_replacing_a_file_keeps_its_permissions(rows, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    out.chmod(0o640)
    assert score(rows, "-o", out).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_a_hard_linked_output_is_written_into_so_every_name_sees_it(rows, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("old\n" * 1000)
    other = tmp_path / "backup" / "same.jsonl"
    other.parent.mkdir()
    os.link(out, other)
    inode = out.stat().st_ino
    assert score(rows, "-o", out).exit_code == 0
    assert out.stat().st_ino == other.stat().st_ino == inode
    assert [json.loads(line)["reward"] for line in other.read_text().splitlines()] == [1.0, 0.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup", "out.jsonl", "rows.jsonl"]


def test_a_hard_linked_output_is_kept_whole_when_the_run_fails(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    os.link(out, tmp_path / "other.jsonl")
    with pytest.raises(RuntimeError), atomic_writer(out) as handle:
        handle.write("partial\n")
        raise RuntimeError("scoring failed")
    assert (tmp_path / "other.jsonl").read_text() == out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.jsonl", "out.jsonl"]


def test_a_fifo_output_is_written_into_not_replaced(rows, tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    result = score(rows, "-o", fifo)
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert len(received[0].splitlines()) == 2


def test_a_terminal_device_output_is_written_into_not_replaced(rows):
    controller, terminal = pty.openpty()
    name = os.ttyname(terminal)
    try:
        result = score(rows, "-o", name)
        assert result.exit_code == 0, result.output
        assert stat.S_ISCHR(os.stat(name).st_mode)
        assert b'"reward": 1.0' in os.read(controller, 1 << 16)
    finally:
        os.close(controller)
        os.close(terminal)


def test_a_process_substitution_output_reaches_the_pipe(rows):
    read_end, write_end = os.pipe()
    process = rewardlab("score", rows, "-r", "math-tags", "-o", f"/dev/fd/{write_end}", pass_fds=(write_end,))
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        piped = pipe.read()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert len(piped.splitlines()) == 2


def test_a_full_device_is_one_line_exit_2():
    result = score(ROOT / "fixtures" / "math.jsonl", "-o", "/dev/full")
    one_line_exit_2(result, "cannot write /dev/full: No space left on device")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_gz_outputs_are_compressed_and_gz_inputs_read(rows, tmp_path):
    out = tmp_path / "scored.jsonl.gz"
    assert score(rows, "-o", out).exit_code == 0
    with gzip.open(out, "rt", encoding="utf-8") as handle:
        assert [json.loads(line)["reward"] for line in handle] == [1.0, 0.0]
    assert [row.data["reward"] for row in read_jsonl(out)] == [1.0, 0.0]


def test_a_truncated_gz_input_is_one_line_exit_2(tmp_path):
    broken = tmp_path / "rows.jsonl.gz"
    broken.write_bytes(gzip.compress((json.dumps(ROW) + "\n").encode() * 100)[:40])
    one_line_exit_2(score(broken), "cannot read:")


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    with pytest.raises(KeyboardInterrupt), atomic_writer(out) as handle:
        handle.write("half")
        raise KeyboardInterrupt
    assert out.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [out]


def test_text_that_is_not_unicode_is_written_as_a_json_escape(tmp_path):
    write_jsonl(tmp_path / "out.jsonl", [{"text": "a\ud800b"}])
    assert json.loads((tmp_path / "out.jsonl").read_text()) == {"text": "a\ud800b"}


# Inputs: one line naming the file, the line and the field, never a traceback.


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            b'{"completion": "a\\ud800b"}\n', ":1: field 'completion': holds a lone surrogate", id="surrogate"
        ),
        pytest.param(
            b'{"completion": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
            ":1: JSON nested deeper than 100 levels",
            id="nested-100000",
        ),
        pytest.param(
            b'{"completion": "c", "m": ' + b"[" * 500 + b"]" * 500 + b"}\n",
            ":1: JSON nested deeper than 100 levels",
            id="nested-500",
        ),
        pytest.param(
            b'{"completion": "c", "n": ' + b"9" * 5000 + b"}\n", ":1: malformed JSON: Exceeds", id="huge-int"
        ),
        pytest.param(
            b'{"completion": [{"from": "gpt", "value": "4"}]}\n',
            ":1: field 'completion': message 1: expected keys 'role' and 'content', got 'from', 'value'",
            id="sharegpt-keys",
        ),
        pytest.param(
            b'{"completion": [{"role": "assistant", "content": 4}]}\n',
            ":1: field 'completion': message 1: 'content' must be a string or a list of parts, got int",
            id="content-int",
        ),
        pytest.param(
            b'{"completion": [{"role": "assistant", "content": [{"type": "text", "value": "4"}]}]}\n',
            ":1: field 'completion': message 1: content part 1: a text part needs 'text' as a string",
            id="text-part-without-text",
        ),
        pytest.param(
            b'{"prompt": [{"role": "user"}], "completion": "4"}\n',
            ":1: field 'prompt': message 1: expected keys 'role' and 'content', got 'role'",
            id="prompt-without-content",
        ),
    ],
)
def test_hostile_rows_are_one_line_exit_2_and_no_output(tmp_path, content, message):
    source = tmp_path / "in.jsonl"
    source.write_bytes(content)
    out = tmp_path / "out.jsonl"
    one_line_exit_2(score(source, "-o", out), message)
    assert not out.exists()


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + json.dumps(ROW).encode() + b"\n")
    assert [row.data for row in read_jsonl(source)] == [ROW]


def test_a_line_longer_than_the_maximum_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("rewardlab.engine.read.MAX_LINE_BYTES", 1024)
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(ROW) + "\n" + json.dumps({"completion": "x" * 2000}) + "\n")
    with pytest.raises(InputError, match=":2: line longer than"):
        read_jsonl(source)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("/dev/zero", f"/dev/zero:1: line longer than {MAX_LINE_BYTES // 2**20} MiB", id="dev-zero"),
        pytest.param("/proc/self/mem", "/proc/self/mem: cannot read: Input/output error", id="proc-self-mem"),
        pytest.param("/dev/null", "/dev/null: no rows: the file is empty", id="dev-null"),
    ],
)
def test_special_files_as_input_are_one_line_exit_2(source, message):
    one_line_exit_2(score(source), message)


def test_a_user_reward_that_raises_is_one_line_naming_function_row_and_exception(tmp_path):
    module = tmp_path / "mine.py"
    module.write_text("def brevity(prompts, completions, **kw):\n    return [1 / len(c) for c in completions]\n")
    source = tmp_path / "in.jsonl"
    source.write_text('{"completion": "abc"}\n{"completion": ""}\n')
    result = CliRunner().invoke(main, ["score", str(source), "--reward", f"{module}:brevity"])
    one_line_exit_2(result, f"{source}:2: reward '{module}:brevity' raised ZeroDivisionError: division by zero")


@pytest.mark.parametrize("how", ["option", "environment"])
def test_traceback_shows_where_a_user_reward_failed(tmp_path, monkeypatch, how):
    module = tmp_path / "mine.py"
    module.write_text("def brevity(prompts, completions, **kw):\n    return [1 / len(c) for c in completions]\n")
    source = tmp_path / "in.jsonl"
    source.write_text('{"completion": ""}\n')
    args = ["score", str(source), "--reward", f"{module}:brevity"]
    if how == "option":
        args.append("--traceback")
    else:
        monkeypatch.setenv("REWARDLAB_TRACEBACK", "1")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert f'File "{module}", line 2, in brevity' in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: {source}:1: reward")


def test_an_unexpected_exception_is_one_line_exit_1(rows, monkeypatch):
    def broken(*args):
        raise TypeError("a bug of ours")

    monkeypatch.setattr("rewardlab.cli.score.SummaryBuilder", broken)
    result = score(rows)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: internal error: TypeError: a bug of ours (rerun with --traceback for where, and please report it)"
    ]


# Signals while reading: one line, 128 + the signal, the old output intact, no temporary file left.


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_an_endless_line_stops_with_one_line(tmp_path, signum):
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    process = rewardlab("score", fifo, "-r", "math-tags", "-o", out)
    with fifo.open("wb") as writer:  # opens once the command has opened the FIFO to read it
        writer.write(b'{"completion": "' + b"x" * 65536)
        writer.flush()
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    assert err.decode().strip().splitlines() == [
        f"Error: interrupted by {signal.Signals(signum).name}; outputs not yet complete were not written"
    ]
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.fifo", "out.jsonl"]


# Signals while a command is still starting (importing torch takes seconds): one line, 128 + the signal.


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_command_is_imported_stops_with_one_line(tmp_path, signum):
    ready = tmp_path / "importing"
    (tmp_path / "slow_command.py").write_text(
        f"import pathlib, time\npathlib.Path({str(ready)!r}).touch()\ntime.sleep(60)\ndef main():\n    pass\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    command = [sys.executable, "-c", "from rewardlab.launch import _start; _start('slow_command')"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum
    name = signal.Signals(signum).name
    assert err.decode().splitlines() == [f"Error: interrupted by {name} while starting; nothing was read or written"]


def test_every_command_starts_through_the_guarded_launcher():
    scripts = {e.name: e.value for e in entry_points(group="console_scripts") if e.value.startswith("rewardlab.")}
    assert scripts == {
        "rewardlab": "rewardlab.launch:rewardlab",
        "evalkit": "rewardlab.launch:evalkit",
        "grpo-train": "rewardlab.launch:grpo_train",
        "sft-train": "rewardlab.launch:sft_train",
    }
    for value in scripts.values():
        assert callable(getattr(import_module("rewardlab.launch"), value.partition(":")[2]))
