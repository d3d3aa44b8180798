"""What a forked child does inside the sandbox: run one program and its tests, and report on a private channel.

Standard library only and free of package-relative imports (the fork server loads it by path inside the
sandbox). By the time :func:`main` runs, the server has already dropped privileges, applied the resource limits
and pointed fds 0, 1 and 2 at the run's own input and capture pipes.

Reports travel on ``channel_fd``, a pipe end at a random descriptor number, one line per event, each prefixed
with a nonce the server drew for this run; the program's stdout and stderr are never parsed. Three kinds of run:

``asserts``
    Execute the program, then ``setup``, then each test in the program's namespace, in order. The host sends
    ``assert EXPR == LITERAL`` tests as EXPR alone: its value is reported (as for calls) and compared with the
    literal on the host. Other tests are statements run here; every ``a == b`` and ``a != b`` inside an assert
    statement of the tests and of ``setup`` (a HumanEval ``check`` function's asserts too) is judged by
    :func:`safe_equal`, the same rule the host applies to reported values, so an object whose ``__eq__`` always
    answers True does not pass. Events: ``start``, ``program-error``, ``test``, ``value``, ``done``.
``calls``
    Execute the program and ``setup``, then evaluate each call expression and report its value in a tagged
    encoding of plain Python data (:func:`encode_value`); the host decodes it and compares it with the expected
    value, which never enters the sandbox. Events: ``start``, ``program-error``, ``value``, ``done``.
``stdio``
    Run the program as ``__main__`` with the case's input on stdin; the server captures stdout and the host
    compares it. The exit status follows the interpreter's rules (uncaught exception: 1, ``sys.exit(n)``: n).

Values are compared as the plain data they hold (:func:`plain`): numpy scalars and arrays as Python numbers and
lists, a value of a subclass of a builtin type (``OrderedDict``, an ``IntEnum``) as a value of that type.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import sys
import traceback
import types
from typing import Any, NoReturn

NUMBERS = frozenset({int, float, complex, bool})
ATOMS = frozenset({str, bytes, type(None)})
#: Most nodes one reported value may hold, and how deep it may nest.
MAX_NODES = 1_000_000
MAX_DEPTH = 100


class Channel:
    """The run's report channel: nonce-prefixed JSON lines on a pipe the server reads."""

    def __init__(self, fd: int, nonce: str) -> None:
        self._fd = fd
        self._prefix = nonce.encode() + b" "
        self._write = os.write

    def send(self, event: dict[str, Any]) -> None:
        """Write one event; a closed pipe is ignored (the server has stopped listening)."""
        data = self._prefix + json.dumps(event, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"
        view = memoryview(data)
        try:
            while view:
                view = view[self._write(self._fd, view) :]
        except OSError:
            pass


def describe(error: BaseException) -> str:
    """One line naming the exception and its message, shortened; never raises."""
    try:
        text = str(error)
    except BaseException:
        text = "<unprintable>"
    name = type(error).__name__
    text = " ".join(text.split())
    return f"{name}: {text[:300]}" if text else name


def short_repr(value: Any) -> str:
    """``repr(value)`` shortened to 200 characters; never raises."""
    try:
        text = repr(value)
    except BaseException:
        return "<unrepresentable>"
    return text if len(text) <= 200 else text[:197] + "..."


def _complex(value: complex) -> complex:
    return complex(complex.real.__get__(value), complex.imag.__get__(value))


#: Builtin types whose subclasses are compared as the value they hold, and how that value is read through the base
#: type's own slots (an override of ``__int__``, ``__str__``, ``__iter__`` or ``items`` in the subclass is not used).
BASES = (
    (int, int.__index__),
    (float, float.__float__),
    (complex, _complex),
    (str, str.__str__),
    (bytes, bytes.__bytes__),
    (list, lambda value: list(list.__iter__(value))),
    (tuple, lambda value: tuple(tuple.__iter__(value))),
    (dict, lambda value: dict(dict.items(value))),
    (set, lambda value: set(set.__iter__(value))),
    (frozenset, lambda value: frozenset(frozenset.__iter__(value))),
)
PLAIN = NUMBERS | ATOMS | {list, tuple, dict, set, frozenset}


def plain(value: Any) -> Any:
    """The plain value ``value`` holds, at its top level; a value of any other type comes back unchanged.

    numpy scalars and arrays give the Python numbers and (nested) lists they hold; a value of a subclass of a builtin
    type gives a value of that builtin type, read through the base type, so that what the subclass overrides
    (``__eq__``, ``__str__``, ``__int__``, ``__iter__``) plays no part. Items of containers are left to the caller.
    """
    kind = type(value)
    if kind in PLAIN:
        return value
    numpy = sys.modules.get("numpy")
    if numpy is not None and issubclass(kind, numpy.ndarray):
        return numpy.ndarray.tolist(value)
    if numpy is not None and issubclass(kind, numpy.generic):
        return numpy.generic.tolist(value)
    for base, read in BASES:
        if issubclass(kind, base):
            return read(value)
    return value


def _key(value: Any, depth: int = 0) -> Any:
    """A dict key or set member as hashable plain data; TypeError when it is not."""
    value = plain(value)
    kind = type(value)
    if depth > MAX_DEPTH:
        raise TypeError("nested too deep")
    if kind in NUMBERS or kind in ATOMS:
        return value
    if kind is tuple or kind is frozenset:
        return kind(_key(item, depth + 1) for item in value)
    raise TypeError(f"{kind.__qualname__} is not plain data")


def safe_equal(left: Any, right: Any, depth: int = 0) -> bool:
    """Python's ``==`` on the plain values ``left`` and ``right`` hold, which a user-defined ``__eq__`` cannot fake.

    Both sides are read as plain data first (:func:`plain`). Builtin numbers compare as Python compares them
    (``1 == 1.0``); strings, bytes and None only with their own type; lists, tuples, dicts and sets element by
    element with this same function (keys and members must be plain data); values of any other type only with a
    value of exactly the same type, through that type's ``__eq__``, which must return True itself.
    """
    if depth > MAX_DEPTH:
        return False
    left, right = plain(left), plain(right)
    lt, rt = type(left), type(right)
    if lt in NUMBERS and rt in NUMBERS:
        return left == right
    if lt in ATOMS or rt in ATOMS:
        return lt is rt and left == right
    if lt is not rt:
        return False
    if lt is list or lt is tuple:
        return len(left) == len(right) and all(safe_equal(a, b, depth + 1) for a, b in zip(left, right, strict=True))
    if lt is dict or lt is set or lt is frozenset:
        try:
            if lt is not dict:
                return {_key(k) for k in left} == {_key(k) for k in right}
            mine, theirs = {_key(k): v for k, v in left.items()}, {_key(k): v for k, v in right.items()}
        except TypeError:
            return False
        return len(mine) == len(theirs) and all(
            k in theirs and safe_equal(v, theirs[k], depth + 1) for k, v in mine.items()
        )
    return (left == right) is True


def encode_value(value: Any) -> Any:
    """Encode plain Python data as tagged JSON the host can decode without evaluating anything.

    Every value is first read as the plain data it holds (:func:`plain`: numpy values, subclasses of builtins);
    anything else raises TypeError, and the test then fails.
    """
    budget = [MAX_NODES]

    def enc(x: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_DEPTH:
            raise ValueError("value too large to report")
        x = plain(x)
        t = type(x)
        if x is None:
            return ["N"]
        if t is bool:
            return ["b", x]
        if t is int:
            return ["i", hex(x)]
        if t is float:
            return ["f", repr(x)]
        if t is complex:
            return ["c", repr(x.real), repr(x.imag)]
        if t is str:
            return ["s", x]
        if t is bytes:
            return ["y", x.hex()]
        if t is list or t is tuple or t is set or t is frozenset:
            tag = {list: "l", tuple: "t", set: "S", frozenset: "F"}[t]
            return [tag, [enc(item, depth + 1) for item in x]]
        if t is dict:
            return ["d", [[enc(k, depth + 1), enc(v, depth + 1)] for k, v in x.items()]]
        raise TypeError(f"a value of type {t.__qualname__} cannot be compared; return plain data")

    return enc(value, 0)


#: The name under which tests and setup call :func:`safe_equal` after :func:`judge_equality` rewrote them.
EQUAL = "__rewardlab_equal__"


class _Equality(ast.NodeTransformer):
    """Turn ``a == b`` into ``EQUAL(a, b)`` and ``a != b`` into ``not EQUAL(a, b)``."""

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            return node
        call: ast.expr = ast.Call(ast.Name(EQUAL, ast.Load()), [node.left, node.comparators[0]], [])
        if isinstance(node.ops[0], ast.NotEq):
            call = ast.UnaryOp(ast.Not(), call)
        return ast.copy_location(call, node)


def judge_equality(tree: ast.Module) -> ast.Module:
    """Rewrite the equality tests inside every assert statement of ``tree`` to use :func:`safe_equal`.

    Row code (``setup``, the tests) compares a program's values in its asserts, often inside a function such as
    HumanEval's ``check(candidate)``; judged this way they follow the rule that literal asserts and call cases
    follow on the host.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            node.test = _Equality().visit(node.test)
    return ast.fix_missing_locations(tree)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def _module(name: str) -> dict[str, Any]:
    module = types.ModuleType(name)
    module.__file__ = "solution.py"
    module.__builtins__ = builtins
    sys.modules[name] = module
    return module.__dict__


def run_test(source: str, namespace: dict[str, Any], label: str) -> None:
    """Execute one test's statements in the program's namespace; raise when the test fails."""
    tree = ast.parse(source, filename=label)
    for statement in tree.body:
        namespace[EQUAL] = safe_equal
        test = statement.test if isinstance(statement, ast.Assert) else None
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            left = eval(compile(ast.Expression(test.left), label, "eval"), namespace)
            right = eval(compile(ast.Expression(test.comparators[0]), label, "eval"), namespace)
            if not safe_equal(left, right):
                raise AssertionError(f"{ast.unparse(test.left)[:120]} gave {short_repr(left)}")
        else:
            exec(compile(judge_equality(ast.Module(body=[statement], type_ignores=[])), label, "exec"), namespace)


def _run_program(job: dict[str, Any], channel: Channel, namespace: dict[str, Any]) -> bool:
    for label, source in (("solution.py", job["code"]), ("setup", job.get("setup") or "")):
        if not source:
            continue
        try:
            code = source if label == "solution.py" else judge_equality(ast.parse(source, filename=label))
            namespace[EQUAL] = safe_equal
            exec(compile(code, label, "exec"), namespace)
        except BaseException as error:
            channel.send({"event": "program-error", "where": label, "error": describe(error)})
            return False
    return True


def run_asserts(job: dict[str, Any], channel: Channel) -> None:
    """Run the program and its setup, then every test in order, in the program's namespace.

    A test is ``{"expr": ...}`` (the left side of ``assert EXPR == LITERAL``; its value is reported and the host
    compares it with the literal, which never comes here) or ``{"source": ...}`` (statements, run here).
    """
    namespace = _module("solution")
    if not _run_program(job, channel, namespace):
        return
    for index, test in enumerate(job["tests"]):
        if "expr" in test:
            _report_value(channel, index, test["expr"], namespace, f"test_{index}")
            continue
        try:
            run_test(test["source"], namespace, f"test_{index}")
        except BaseException as error:
            channel.send({"event": "test", "index": index, "ok": False, "error": describe(error)})
        else:
            channel.send({"event": "test", "index": index, "ok": True})


def _report_value(channel: Channel, index: int, expression: str, namespace: dict[str, Any], label: str) -> None:
    try:
        encoded = encode_value(eval(compile(expression, label, "eval"), namespace))
    except BaseException as error:
        channel.send({"event": "value", "index": index, "error": describe(error)})
    else:
        channel.send({"event": "value", "index": index, "value": encoded})


def run_calls(job: dict[str, Any], channel: Channel) -> None:
    """Run the program and its setup, then evaluate every call and report its encoded value."""
    namespace = _module("solution")
    if not _run_program(job, channel, namespace):
        return
    for index, call in enumerate(job["calls"]):
        _report_value(channel, index, call, namespace, f"call_{index}")


def run_stdio(job: dict[str, Any]) -> int:
    """Run the program as ``__main__``; return the exit status the interpreter would have returned."""
    sys.argv = ["solution.py"]
    namespace = _module("__main__")
    try:
        exec(compile(job["code"], "solution.py", "exec"), namespace)
    except SystemExit as error:
        code = error.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code & 0xFF
        try:
            print(code, file=sys.stderr)
        except BaseException:
            pass
        return 1
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
        return 1
    return 0


def main(job: dict[str, Any], channel_fd: int, nonce: str) -> NoReturn:
    """Run ``job`` and leave the process; never returns.

    The interpreter's own ``sys.stdin``, ``sys.stdout`` and ``sys.stderr`` serve the program as they are: the
    server pointed fds 0, 1 and 2 at the run's pipes before this, and never used those streams, so their buffers
    are empty.
    """
    channel = Channel(channel_fd, nonce)
    del nonce
    status = 0
    channel.send({"event": "start"})
    if job["kind"] == "asserts":
        run_asserts(job, channel)
    elif job["kind"] == "calls":
        run_calls(job, channel)
    else:
        status = run_stdio(job)
    _flush()
    channel.send({"event": "done", "status": status})
    os._exit(status)
