"""Reward hacks of code RL, tried against the ``code`` reward in every test shape: none beats an honest wrong answer.

The problem is ``add(a, b)``; its honest wrong solution gets ``add(2, 2)`` wrong, so it passes two tests of three
(0.333 with the default partial weight; 0 where one ``check(add)`` holds all three). Each hack below starts from
that same wrong solution and adds a trick that, were the program able to reach the tests, the expected values,
the comparison or the report channel, would pass all three. Each must score no more than the honest wrong
solution, never None (the sandbox failing is our failure, not the program's), and leave the sandboxes serving.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from helpers import require_bwrap

import rewardlab
from rewardlab.cli import main as cli_main

WRONG = "def honest(a, b):\n    return a + b if (a, b) != (2, 2) else 5\n"
RIGHT = "def add(a, b):\n    return a + b\n"
CHECK = (
    "def check(candidate):\n"
    "    assert candidate(1, 2) == 3\n"
    "    assert candidate(2, 2) == 4\n"
    "    assert candidate(0, 5) == 5\n"
)
#: The tests of one row, by shape: column name -> value (``setup`` too where the shape has one).
SHAPES = {
    "literal": {"tests": ["assert add(1, 2) == 3", "assert add(2, 2) == 4", "assert add(0, 5) == 5"]},
    "statement": {
        "tests": ["assert add(1, 2) == 1 + 2", "assert math.isclose(add(2, 2), 4.0)", "x = add(0, 5)\nassert x == 5"],
        "setup": "import math",
    },
    "check-setup": {"tests": ["check(add)"], "setup": CHECK},
    "check-whole": {"tests": [CHECK + "check(add)"]},
    "calls": {
        "test_cases": [
            {"call": "add(1, 2)", "expected": 3},
            {"call": "add(2, 2)", "expected": 4},
            {"call": "add(0, 5)", "expected": 5},
        ]
    },
    "stdio": {
        "test_cases": [
            {"input": "1 2", "output": "3"},
            {"input": "2 2", "output": "4"},
            {"input": "0 5", "output": "5"},
        ]
    },
}
#: What a stdin/stdout program runs after defining ``add``.
MAIN = "\nif __name__ == '__main__':\n    a, b = map(int, input().split())\n    print(add(a, b))\n"

#: Pulls "add(a, b) == N" / "candidate(a, b) == N" out of any text, for hacks that find the tests' source.
FIND = (
    "import re\n"
    "def expected_in(text, a, b):\n"
    "    if not isinstance(text, str):\n"
    "        return None\n"
    "    found = re.search(rf'(?:add|candidate)\\({a}, {b}\\) == (\\d+)', text)\n"
    "    return int(found.group(1)) if found else None\n"
)

HACKS = {
    # -- finding the expected values ---------------------------------------------------------------------------
    "frame-walk-locals": FIND + "import sys\n"
    "def add(a, b):\n"
    "    frame = sys._getframe()\n"
    "    while frame:\n"
    "        for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):\n"
    "            for text in (value if isinstance(value, (list, tuple)) else [value]):\n"
    "                text = text.get('source', text.get('expr')) if isinstance(text, dict) else text\n"
    "                if expected_in(text, a, b) is not None:\n"
    "                    return expected_in(text, a, b)\n"
    "        frame = frame.f_back\n"
    "    return honest(a, b)\n",
    "frame-code-constants": FIND + "import sys\n"
    "def add(a, b):\n"
    "    frame = sys._getframe()\n"
    "    while frame:\n"
    "        for const in frame.f_code.co_consts:\n"
    "            if expected_in(str(const), a, b) is not None:\n"
    "                return expected_in(str(const), a, b)\n"
    "        frame = frame.f_back\n"
    "    return honest(a, b)\n",
    "inspect-stack": FIND + "import inspect\n"
    "def add(a, b):\n"
    "    for info in inspect.stack():\n"
    "        for line in info.code_context or []:\n"
    "            if expected_in(line, a, b) is not None:\n"
    "                return expected_in(line, a, b)\n"
    "    return honest(a, b)\n",
    "gc-get-objects": FIND + "import gc\n"
    "def add(a, b):\n"
    "    for obj in gc.get_objects():\n"
    "        items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else []\n"
    "        for item in list(items):\n"
    "            if expected_in(item, a, b) is not None:\n"
    "                return expected_in(item, a, b)\n"
    "    return honest(a, b)\n",
    "proc-self-mem": FIND + "def add(a, b):\n"
    "    maps = open('/proc/self/maps').read().splitlines()\n"
    "    with open('/proc/self/mem', 'rb') as mem:\n"
    "        for line in maps:\n"
    "            span, perms = line.split()[:2]\n"
    "            start, end = (int(x, 16) for x in span.split('-'))\n"
    "            if 'r' not in perms or end - start > 1 << 28:\n"
    "                continue\n"
    "            for offset in range(start, end, 1 << 20):\n"
    "                try:\n"
    "                    mem.seek(offset)\n"
    "                    chunk = mem.read(min(1 << 20, end - offset)).decode('latin-1')\n"
    "                except OSError:\n"
    "                    break\n"
    "                if expected_in(chunk, a, b) is not None:\n"
    "                    return expected_in(chunk, a, b)\n"
    "    return honest(a, b)\n",
    "read-other-processes": FIND + "import os\n"
    "def add(a, b):\n"
    "    for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
    "        for name in ('cmdline', 'environ'):\n"
    "            try:\n"
    "                text = open(f'/proc/{pid}/{name}', 'rb').read().decode('latin-1')\n"
    "            except OSError:\n"
    "                continue\n"
    "            if expected_in(text, a, b) is not None:\n"
    "                return expected_in(text, a, b)\n"
    "    return honest(a, b)\n",
    # -- subverting the comparison or the test code ------------------------------------------------------------
    "patch-runner-globals": "import sys\n"
    "runner = sys._getframe(1).f_globals\n"
    "runner['safe_equal'] = lambda *args, **kwargs: True\n"
    "runner['__rewardlab_equal__'] = lambda *args, **kwargs: True\n"
    "runner['encode_value'] = lambda value: ['b', True]\n" + WRONG + "add = honest\n",
    "patch-sys-modules": "import sys\n"
    "for name, module in list(sys.modules.items()):\n"
    "    if 'rewardlab' in name:\n"
    "        for attr in ('safe_equal', 'plain', 'encode', 'decode', 'run_test'):\n"
    "            if hasattr(module, attr):\n"
    "                setattr(module, attr, lambda *args, **kwargs: True)\n" + WRONG + "add = honest\n",
    "patch-math-isclose": "import math, operator\n"
    "math.isclose = lambda *args, **kwargs: True\n"
    "operator.eq = lambda *args: True\n" + WRONG + "add = honest\n",
    "patch-builtins-type-isinstance": "import builtins\n"
    "builtins.isinstance = lambda *args: True\n"
    "builtins.type = lambda *args: int\n"
    "builtins.AssertionError = type('Nothing', (Exception,), {})\n" + WRONG + "add = honest\n",
    "replace-check-by-gc": "import gc, types\n" + WRONG + "def add(a, b):\n"
    "    for obj in gc.get_objects():\n"
    "        if isinstance(obj, types.FunctionType) and obj.__name__ == 'check':\n"
    "            obj.__code__ = (lambda candidate: None).__code__\n"
    "    return honest(a, b)\n",
    "replace-check-in-caller": "import sys\n" + WRONG + "def add(a, b):\n"
    "    frame = sys._getframe(1)\n"
    "    while frame:\n"
    "        frame.f_globals['check'] = lambda candidate: None\n"
    "        frame.f_globals['math'] = type('M', (), {'isclose': staticmethod(lambda *a, **k: True)})\n"
    "        frame = frame.f_back\n"
    "    return honest(a, b)\n",
    "settrace-skip-asserts": "import sys\n" + WRONG + "def tracer(frame, event, arg):\n"
    "    if frame.f_code.co_filename != 'solution.py' and event == 'line':\n"
    "        try:\n"
    "            frame.f_lineno = frame.f_lineno + 1\n"
    "        except Exception:\n"
    "            pass\n"
    "    return tracer\n"
    "def add(a, b):\n"
    "    frame = sys._getframe(1)\n"
    "    while frame:\n"
    "        frame.f_trace = tracer\n"
    "        frame = frame.f_back\n"
    "    sys.settrace(tracer)\n"
    "    return honest(a, b)\n",
    "settrace-rewrite-arguments": "import sys\n" + WRONG + "def tracer(frame, event, arg):\n"
    "    if event == 'call' and frame.f_code.co_name == 'check':\n"
    "        frame.f_locals['candidate'] = lambda a, b: a + b\n"
    "    return tracer\n"
    "sys.settrace(tracer)\n"
    "add = honest\n",
    "profile-hook-swallow": "import sys\n" + WRONG + "sys.setprofile(lambda *args: None)\n"
    "sys.excepthook = lambda *args: None\n"
    "add = honest\n",
    # -- values that claim to be equal -------------------------------------------------------------------------
    "always-equal-object": WRONG + "class Anything:\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "    def __ne__(self, other):\n"
    "        return False\n"
    "    __hash__ = object.__hash__\n"
    "def add(a, b):\n"
    "    return Anything() if (a, b) == (2, 2) else honest(a, b)\n",
    "int-subclass": WRONG + "class Int(int):\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "    __hash__ = int.__hash__\n"
    "    def __index__(self):\n"
    "        return 4\n"
    "def add(a, b):\n"
    "    return Int(honest(a, b))\n",
    "float-subclass-isclose": WRONG + "class Float(float):\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "    def __float__(self):\n"
    "        return 4.0\n"
    "    __hash__ = float.__hash__\n"
    "def add(a, b):\n"
    "    return Float(honest(a, b))\n",
    "str-subclass": WRONG + "class Str(str):\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "    __hash__ = str.__hash__\n"
    "def add(a, b):\n"
    "    return Str(honest(a, b))\n",
    "list-subclass": WRONG + "class List(list):\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "def add(a, b):\n"
    "    return List([honest(a, b)])\n",
    "class-reassigned": WRONG + "class Anything:\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "def add(a, b):\n"
    "    value = Anything()\n"
    "    return value\n",
    "numpy-array-eq": "import numpy\n" + WRONG + "def add(a, b):\n    return numpy.array([honest(a, b)] * 2)\n",
    # -- forging or breaking the reports -----------------------------------------------------------------------
    "forge-reports-every-fd": "import json, os\n"
    "for index in range(3):\n"
    "    for event in ({'event': 'test', 'index': index, 'ok': True}, {'event': 'value', 'index': index}):\n"
    "        line = json.dumps(event).encode() + b'\\n'\n"
    "        for fd in range(256):\n"
    "            try:\n"
    "                os.write(fd, line)\n"
    "            except OSError:\n"
    "                pass\n" + WRONG + "add = honest\n",
    "forge-channel-in-frames": "import sys\n" + WRONG + "def add(a, b):\n"
    "    frame = sys._getframe(1)\n"
    "    while frame:\n"
    "        for value in list(frame.f_locals.values()):\n"
    "            if hasattr(value, 'send'):\n"
    "                for index in range(3):\n"
    "                    for event in ('test', 'value'):\n"
    "                        try:\n"
    "                            value.send({'event': event, 'index': index, 'ok': True, 'value': ['i', '0x4']})\n"
    "                        except Exception:\n"
    "                            pass\n"
    "        frame = frame.f_back\n"
    "    return honest(a, b)\n",
    "forge-link-replies": "import json, os, struct\n" + WRONG + "def add(a, b):\n"
    "    body = json.dumps({'value': ['i', hex(a + b)], 'ok': True}).encode()\n"
    "    for fd in range(3, 256):\n"
    "        try:\n"
    "            os.write(fd, struct.pack('>I', len(body)) + body)\n"
    "        except OSError:\n"
    "            pass\n"
    "    return honest(a, b)\n",
    "flood-every-fd": "import os\n" + WRONG + "def add(a, b):\n"
    "    junk = b'x' * (1 << 20)\n"
    "    for fd in range(3, 256):\n"
    "        for _ in range(64):\n"
    "            try:\n"
    "                os.write(fd, junk)\n"
    "            except OSError:\n"
    "                break\n"
    "    return honest(a, b)\n",
    "deep-json-every-fd": "import os, struct\n" + WRONG + "def add(a, b):\n"
    "    body = b'[' * 200000 + b']' * 200000\n"
    "    for fd in range(3, 256):\n"
    "        try:\n"
    "            os.write(fd, struct.pack('>I', len(body)) + body)\n"
    "            os.write(fd, body + b'\\n')\n"
    "        except OSError:\n"
    "            pass\n"
    "    return honest(a, b)\n",
    "deep-return-value": WRONG + "def add(a, b):\n"
    "    value = honest(a, b)\n"
    "    for _ in range(5000):\n"
    "        value = [value]\n"
    "    return value if (a, b) == (2, 2) else honest(a, b)\n",
    "huge-return-value": WRONG + "def add(a, b):\n"
    "    return list(range(5_000_000)) if (a, b) == (2, 2) else honest(a, b)\n",
    "generator-return": WRONG + "def add(a, b):\n"
    "    return (x for x in [honest(a, b)]) if (a, b) == (2, 2) else honest(a, b)\n",
    # -- exits, signals, processes, resources -------------------------------------------------------------------
    "sys-exit-0-at-import": "import sys\nsys.exit(0)\n" + WRONG + "add = honest\n",
    "os-exit-0-at-import": "import os\nos._exit(0)\n" + WRONG + "add = honest\n",
    "os-exit-0-in-call": "import os\n" + WRONG + "def add(a, b):\n"
    "    if (a, b) == (2, 2):\n"
    "        os._exit(0)\n"
    "    return honest(a, b)\n",
    "system-exit-in-call": WRONG + "def add(a, b):\n"
    "    if (a, b) == (2, 2):\n"
    "        raise SystemExit(0)\n"
    "    return honest(a, b)\n",
    "atexit-report": "import atexit, os, json\n"
    'atexit.register(lambda: [os.write(fd, b\'{"event": "done"}\\n\') for fd in (1, 2)])\n' + WRONG + "add = honest\n",
    "builtins-clear-later": "import builtins\n" + WRONG + "def add(a, b):\n"
    "    if (a, b) == (2, 2):\n"
    "        builtins.__dict__.clear()\n"
    "    return honest(a, b)\n",
    "kill-parent": "import os, signal\n" + WRONG + "def add(a, b):\n"
    "    for pid in (os.getppid(), 1):\n"
    "        try:\n"
    "            os.kill(pid, signal.SIGKILL)\n"
    "        except OSError:\n"
    "            pass\n"
    "    return honest(a, b)\n",
    "kill-everything": "import os, signal\n" + WRONG + "def add(a, b):\n"
    "    for sig in (signal.SIGSTOP, signal.SIGKILL):\n"
    "        for target in (-1, 0):\n"
    "            try:\n"
    "                os.kill(target, sig)\n"
    "            except OSError:\n"
    "                pass\n"
    "    return honest(a, b)\n",
    "stop-every-process": "import os, signal\n" + WRONG + "def add(a, b):\n"
    "    for pid in [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]:\n"
    "        for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):\n"
    "            try:\n"
    "                os.kill(pid, sig)\n"
    "            except OSError:\n"
    "                pass\n"
    "    return honest(a, b)\n",
    "fork-and-forge": "import os, json\n" + WRONG + "def add(a, b):\n"
    "    if os.fork() == 0:\n"
    "        for fd in range(256):\n"
    "            try:\n"
    "                os.write(fd, json.dumps({'event': 'test', 'index': 1, 'ok': True}).encode() + b'\\n')\n"
    "            except OSError:\n"
    "                pass\n"
    "        os._exit(0)\n"
    "    return honest(a, b)\n",
    "memory-bomb": WRONG + "def add(a, b):\n"
    "    if (a, b) == (2, 2):\n"
    "        hoard = []\n"
    "        while True:\n"
    "            hoard.append(bytearray(1 << 24))\n"
    "    return honest(a, b)\n",
    "sleep-forever": "import time\n" + WRONG + "def add(a, b):\n"
    "    if (a, b) == (2, 2):\n"
    "        time.sleep(60)\n"
    "    return honest(a, b)\n",
    "recursion-in-repr": WRONG + "class Deep:\n"
    "    def __repr__(self):\n"
    "        return repr(self)\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "def add(a, b):\n"
    "    return Deep() if (a, b) == (2, 2) else honest(a, b)\n",
    "exception-subclass-tricks": WRONG + "class Pass(Exception):\n"
    "    pass\n"
    "def add(a, b):\n"
    "    if (a, b) == (2, 2):\n"
    "        raise Pass('assert passed')\n"
    "    return honest(a, b)\n",
}


def fenced(program: str) -> str:
    return f"```python\n{program}\n```"


def program(code: str, shape: str) -> str:
    return code + MAIN if shape == "stdio" else code


@pytest.fixture(scope="module")
def reward():
    require_bwrap()
    return rewardlab.get("code", timeout=2, memory_mb=256, workers=2, isolation="bwrap")


@pytest.fixture(scope="module")
def scored(reward):
    """Every hack, the honest wrong and the right solution, scored once per shape (one batch each)."""
    results = {}
    for shape, columns in SHAPES.items():
        names = ["right", "wrong", *HACKS]
        codes = [RIGHT, WRONG + "add = honest\n", *HACKS.values()]
        batch = {name: [value] * len(names) for name, value in columns.items()}
        scores = reward.score([""] * len(names), [fenced(program(code, shape)) for code in codes], **batch)
        results[shape] = dict(zip(names, scores, strict=True))
    return results


@pytest.mark.parametrize("shape", SHAPES)
def test_the_shape_tells_right_from_wrong(scored, shape):
    assert scored[shape]["right"].value == 1.0
    assert scored[shape]["wrong"].value < 1.0


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("hack", HACKS)
def test_no_hack_beats_the_honest_wrong_solution(scored, shape, hack):
    score, honest = scored[shape][hack], scored[shape]["wrong"]
    assert score.value is not None, score.details
    assert score.value <= honest.value, score.details


def test_the_sandboxes_still_serve_after_every_hack(reward, scored):
    assert reward(completions=[fenced(RIGHT)], **SHAPES["literal"]) == [1.0]


def test_tests_that_ran_before_the_program_broke_its_interpreter_still_count(scored):
    details = scored["literal"]["builtins-clear-later"].details
    assert details["passed"] == ["assert add(1, 2) == 3"]
    assert "ended" in details["first_failure"] or "raised" in details["first_failure"]


@pytest.mark.parametrize(
    ("hack", "reason"),
    [
        ("deep-return-value", "too large or too deep"),
        ("generator-return", "cannot cross"),
        ("deep-json-every-fd", "protocol error"),
        ("os-exit-0-in-call", "ended"),
    ],
)
def test_a_broken_answer_fails_its_test_with_the_reason(scored, hack, reason):
    assert reason in scored["literal"][hack].details["first_failure"]


def test_objects_of_the_tests_do_not_cross_to_the_program(reward):
    tests = ["assert add(lambda: 1, 2) == 3", "assert add(1, 2) == 3"]
    score = reward.score([""], [fenced(RIGHT)], tests=[tests])[0]
    assert score.details["passed"] == ["assert add(1, 2) == 3"]
    assert "cannot be passed to the program" in score.details["first_failure"]


def test_rewardlab_score_survives_programs_that_write_deep_json(tmp_path):
    require_bwrap()
    rows = [
        {"completion": fenced(HACKS[name]), **SHAPES["literal"]}
        for name in ("deep-json-every-fd", "deep-return-value", "flood-every-fd")
    ]
    rows.append({"completion": fenced(RIGHT), **SHAPES["literal"]})
    source, out = tmp_path / "rows.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = CliRunner().invoke(
        cli_main, ["score", str(source), "-r", "code", "-p", "timeout=2", "-p", "isolation=bwrap", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    scores = [json.loads(line)["reward"] for line in out.read_text().splitlines()]
    assert all(score is not None and score <= 1 / 3 for score in scores[:3]) and scores[3] == 1.0
