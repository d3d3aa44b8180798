"""math-accuracy never hangs its caller: the worker pool's time limits, kills, sharing, pickling and clean-up."""

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import rewardlab
from rewardlab.errors import RewardlabError
from rewardlab.rewards.math import verify as _verify

POWER_TOWER = "<answer>\n\\boxed{9^{9^{9^{9^{9}}}}}\n</answer>"
NESTED = "<answer>\n\\boxed{" + "(" * 3000 + "1" + ")" * 3000 + "}\n</answer>"
GOOD = "<think>\nx\n</think>\n<answer>\n\\boxed{12}\n</answer>"


@pytest.fixture(scope="module", autouse=True)
def warm_pool():
    """Start the workers once, so the bounds below measure time limits, not process start-up."""
    rewardlab.get("math-accuracy")(completions=[GOOD, GOOD + " "], solution=["12", "12"])


def in_thread(function, limit=60.0):
    """Run ``function`` in a worker thread; fail (rather than hang) if it has not returned within ``limit`` s."""
    box = {}
    thread = threading.Thread(target=lambda: box.update(result=function()), daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still running after {limit} s"
    return box["result"], time.monotonic() - start


@pytest.mark.parametrize("answer", [POWER_TOWER, NESTED], ids=["power-tower", "nested-parentheses"])
def test_pathological_answer_returns_within_seconds_from_a_worker_thread(answer):
    reward = rewardlab.get("math-accuracy", timeout=1.0)
    scores, elapsed = in_thread(lambda: reward.score([""], [answer], solution=["12"]))
    assert scores[0].value == 0.0
    assert scores[0].details["timed_out"] is True
    assert scores[0].components == {"timed_out": 1.0}
    assert elapsed < 2 * (1.0 + _verify.GRACE) + 10.0  # two tries, the second on a fresh worker


def test_pathological_answer_returns_from_the_main_thread():
    start = time.monotonic()
    assert rewardlab.get("math-accuracy", timeout=1.0)(completions=[NESTED], solution=["12"]) == [0.0]
    assert time.monotonic() - start < 2 * (1.0 + _verify.GRACE) + 10.0


def test_pathological_gold_is_none_within_seconds():
    reward = rewardlab.get("math-accuracy", timeout=1.0)
    gold = "\\boxed{" + "(" * 3000 + "1" + ")" * 3000 + "}"
    scores, _ = in_thread(lambda: reward.score(["", ""], [GOOD, GOOD], solution=[gold, gold]))
    assert [s.value for s in scores] == [None, None]
    assert scores[0].details["timed_out"] is True


def test_ordinary_rows_in_the_same_batch_still_score():
    reward = rewardlab.get("math-accuracy", timeout=1.0)
    result, _ = in_thread(lambda: reward(completions=[GOOD, NESTED, GOOD, "\\boxed{13}"], solution=["12"] * 4))
    assert result == [1.0, 0.0, 1.0, 0.0]


def test_concurrent_callers_each_get_their_own_results():
    reward = rewardlab.get("math-accuracy")
    results = {}

    def call(n):
        results[n] = reward(completions=[f"\\boxed{{{n}}}", f"\\boxed{{{n + 1}}}"] * 5, solution=[str(n)] * 10)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == {n: [1.0, 0.0] * 5 for n in range(4)}


def every_worker_ready(pool):
    """Score until the pool has all its workers and each has said it is ready (replacements start in seconds).

    Scores at least once, so the tests' gold ``\\frac{24}{2}`` is parsed and remembered before any worker is stopped.
    """
    deadline = time.monotonic() + 120
    while True:
        answers = [f"\\boxed{{{n}}}" for n in range(8)]
        rewardlab.get("math-accuracy")(completions=answers, solution=["\\frac{24}{2}"] * 8)
        if len(pool.workers) == pool.size and all(w.ready for w in pool.workers):
            return
        assert time.monotonic() < deadline, "the workers did not start"


def test_a_stuck_worker_is_killed_and_its_row_judged_on_a_fresh_one():
    pool = _verify._pool()
    every_worker_ready(pool)
    stuck = [w.process.pid for w in pool.workers]
    assert stuck
    for pid in stuck:
        os.kill(pid, signal.SIGSTOP)  # like a C call that never returns, or a host that stops it: no timer fires
    reward = rewardlab.get("math-accuracy", timeout=0.5)
    answers = ["\\boxed{12}", "\\boxed{24/2}", "\\boxed{6+6}", "\\boxed{36/3}"][: len(stuck)]  # one per worker
    try:
        golds = ["\\frac{24}{2}"] * len(stuck)  # not the answers' own text: each needs a worker's parse
        scores, elapsed = in_thread(lambda: reward.score([""] * len(stuck), answers, solution=golds))
    finally:
        for worker in pool.workers:
            if worker.process.pid in stuck:
                os.kill(worker.process.pid, signal.SIGCONT)
    assert [s.value for s in scores] == [1.0] * len(stuck)
    assert not any(s.details.get("timed_out") for s in scores)
    assert 0.5 + _verify.GRACE <= elapsed < 30
    assert not set(stuck) & {w.process.pid for w in pool.workers}


def test_golds_first_parsed_on_stuck_workers_are_parsed_again_on_fresh_ones():
    pool = _verify._pool()
    every_worker_ready(pool)
    stuck = [w.process.pid for w in pool.workers]
    for pid in stuck:
        os.kill(pid, signal.SIGSTOP)
    base = 1000 + int.from_bytes(os.urandom(2), "big")  # golds no earlier test has parsed (golds are remembered)
    golds = [f"\\frac{{{12 * k}}}{{{k}}}" for k in range(base, base + len(stuck))]  # one per worker
    reward = rewardlab.get("math-accuracy", timeout=0.5)
    try:
        scores, _ = in_thread(lambda: reward.score([""] * len(golds), ["\\boxed{12}"] * len(golds), solution=golds))
    finally:
        for worker in pool.workers:
            if worker.process.pid in stuck:
                os.kill(worker.process.pid, signal.SIGCONT)
    assert [s.value for s in scores] == [1.0] * len(golds), [s.details for s in scores]


def test_an_answer_whose_worker_is_killed_twice_costs_only_its_row():
    pool = _verify._pool()
    every_worker_ready(pool)
    reward = rewardlab.get("math-accuracy", timeout=30.0)
    box = {}
    thread = threading.Thread(target=lambda: box.update(scores=reward.score([""], [NESTED], solution=["12"])))
    thread.start()
    killed = set()
    deadline = time.monotonic() + 60
    while len(killed) < 2 and thread.is_alive() and time.monotonic() < deadline:
        busy = [w.process.pid for w in pool.workers if w.tasks and w.process.pid not in killed]
        for pid in busy[:1]:
            os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        time.sleep(0.01)
    thread.join(60)
    assert not thread.is_alive()
    assert len(killed) == 2
    [s] = box["scores"]
    assert s.value == 0.0
    assert s.details["error"] == "the worker process died on this answer, twice"
    assert reward(completions=[GOOD], solution=["12"]) == [1.0]


def test_rewards_share_one_pool_and_do_not_pickle_it():
    first, second = rewardlab.get("math-accuracy"), rewardlab.get("math-cosine")
    first(completions=[GOOD], solution=["12"])
    pool = _verify._pool()
    pids = {w.process.pid for w in pool.workers}
    second(completions=[GOOD], solution=["12"])
    assert _verify._pool() is pool
    assert {w.process.pid for w in pool.workers} == pids
    data = pickle.dumps(first)
    assert len(data) < 500
    assert pickle.loads(data)(completions=[GOOD], solution=["12"]) == [1.0]


def run_script(code, env=None):
    """Run ``code`` in a fresh interpreter (as a script, so the multiprocessing main-module guard applies)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_pool_starts_lazily_and_the_caller_never_imports_math_verify():
    done = run_script(
        """
        import sys
        import rewardlab
        from rewardlab.rewards.math import verify as _verify
        reward = rewardlab.get("math-accuracy")
        assert _verify._POOL is None, "the pool started before the first score"
        assert reward(completions=["\\\\boxed{12}"], solution=["12"]) == [1.0]
        heavy = {"math_verify", "sympy"} & set(sys.modules)
        assert not heavy, heavy
        """
    )
    assert done.returncode == 0, done.stderr


def test_workers_are_gone_after_the_caller_exits():
    done = run_script(
        """
        import rewardlab
        from rewardlab.rewards.math import verify as _verify
        rewardlab.get("math-accuracy")(completions=["\\\\boxed{1}", "\\\\boxed{2}"], solution=["1", "2"])
        print(" ".join(str(w.process.pid) for w in _verify._pool().workers))
        """
    )
    assert done.returncode == 0, done.stderr
    pids = [int(p) for p in done.stdout.split()]
    assert pids
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_pool_is_rebuilt_in_a_forked_child():
    done = run_script(
        """
        import os
        import rewardlab
        reward = rewardlab.get("math-accuracy")
        assert reward(completions=["\\\\boxed{1}"], solution=["1"]) == [1.0]
        pid = os.fork()
        if pid == 0:
            os._exit(0 if reward(completions=["\\\\boxed{2}"], solution=["2"]) == [1.0] else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert reward(completions=["\\\\boxed{3}"], solution=["3"]) == [1.0]
        """
    )
    assert done.returncode == 0, done.stderr


def test_without_math_verify_the_error_says_how_to_install_it(tmp_path):
    (tmp_path / "math_verify.py").write_text("raise ImportError('No module named math_verify')\n")
    done = run_script(
        """
        import rewardlab
        from rewardlab.errors import RewardlabError
        try:
            rewardlab.get("math-accuracy")(completions=["x"], solution=["1"])
        except RewardlabError as error:
            print(error)
        """,
        env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"},
    )
    assert done.returncode == 0, done.stderr
    assert "math-verify cannot run" in done.stdout
    assert "pip install 'rewardlab[math]'" in done.stdout


def test_pool_run_of_nothing_starts_nothing():
    assert _verify.Pool(size=1).run([], timeout=1.0) == []


def test_a_worker_that_cannot_be_started_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    with pytest.raises(RewardlabError, match="cannot start a math-verify worker process"):
        _verify.Pool(size=1).run([("gold", "1")], timeout=1.0)


class ScriptedPool:
    """Stands in for the worker pool: answers each answer task from a list of results, one list entry per try."""

    def __init__(self, tries):
        self.tries = list(tries)
        self.calls = 0

    def run(self, tasks, timeout):
        if not tasks:  # as the real pool: nothing to run, no call
            return []
        if tasks[0][0] == "gold":
            return [("ok", ["12"]) for _ in tasks]
        self.calls += 1
        return [self.tries.pop(0) for _ in tasks]


def scripted(monkeypatch, *tries):
    pool = ScriptedPool(tries)
    monkeypatch.setattr(_verify, "_pool", lambda: pool)
    monkeypatch.setattr(_verify, "_GOLDS", _verify._GoldCache())
    return pool


def test_an_answer_out_of_time_once_is_tried_again_and_judged(monkeypatch):
    pool = scripted(monkeypatch, ("timeout",), ("ok", True, ["12"]))
    assert rewardlab.get("math-accuracy")(completions=[GOOD], solution=["\\frac{24}{2}"]) == [1.0]
    assert pool.calls == 2


def test_an_answer_whose_worker_dies_twice_scores_zero_with_the_reason(monkeypatch):
    scripted(monkeypatch, ("died",), ("died",))
    score = rewardlab.get("math-accuracy").score([""], [GOOD], solution=["\\frac{24}{2}"])[0]
    assert score.value == 0.0
    assert score.details["error"] == "the worker process died on this answer, twice"


def test_math_verify_raising_is_no_judgement_not_a_wrong_answer(monkeypatch):
    scripted(monkeypatch, ("error", "TypeError: unsupported operand"))
    score = rewardlab.get("math-accuracy").score([""], [GOOD], solution=["\\frac{24}{2}"])[0]
    assert score.value is None
    assert score.details["error"] == "math-verify failed: TypeError: unsupported operand"
