"""What the tests' process does inside the sandbox: run a row's tests against a program in another process.

Standard library only and free of package-relative imports (the fork server loads it by path inside the
sandbox). This process holds the tests, the setup and the report channel; the program runs in its own process
(:mod:`program`), under another uid where the server has one to give, and is reached only through ``link_fd``:
the tests' namespace holds the program module's plain values as copies and its functions, classes and objects as
:class:`Remote` proxies, whose calls carry plain data both ways (:mod:`wire`). So a test compares values this
process built itself, with this process's own ``==`` and ``math``; the program can neither see the expected
values nor reach the code that compares them or the channel that reports.

Reports travel on ``channel_fd``, a pipe end at a random descriptor, one line per event, each prefixed with a
nonce the server drew for this run. Two kinds of run:

``asserts``
    Run ``setup``, then each test in order. The host sends ``assert EXPR == LITERAL`` tests as EXPR alone: its
    value is reported and compared with the literal on the host. Other tests are statements run here. Events:
    ``start``, ``program-error``, ``test``, ``value``, ``done``.
``calls``
    Run ``setup``, then evaluate each call expression and report its value (:func:`wire.encode`). Events:
    ``start``, ``program-error``, ``value``, ``done``.

A test during which the link broke (the program's process died, answered with a malformed or oversized message,
or refused to give its result) fails with that reason, whatever the test's own code caught.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import os
import sys
import types
from typing import Any, NoReturn

wire = sys.modules.get("_rewardlab_sandbox_wire")
if wire is None:  # imported on the host
    from rewardlab.sandbox import wire

#: Modules the program imported that the tests' side imports too (the standard library's, and numpy): a program
#: cannot make the tests' process run the import-time code of just any installed package.
IMPORTABLE = frozenset(sys.stdlib_module_names) | {"numpy"}
GONE = "the program's process ended (it exited or was killed) before answering"


class Channel:
    """The run's report channel: nonce-prefixed JSON lines on a pipe the server reads."""

    def __init__(self, fd: int, nonce: str) -> None:
        self._fd = fd
        self._prefix = nonce.encode() + b" "

    def send(self, event: dict[str, Any]) -> None:
        """Write one event; a closed pipe is ignored (the server has stopped listening)."""
        data = self._prefix + json.dumps(event, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            pass


def short_repr(value: Any) -> str:
    """``repr(value)`` shortened to 200 characters; never raises."""
    try:
        text = repr(value)
    except BaseException:
        return "<unrepresentable>"
    return text if len(text) <= 200 else text[:197] + "..."


class ProgramError(Exception):
    """The program raised an exception that is not one of Python's builtin exceptions (or cannot be rebuilt)."""


class Link:
    """The tests' end of the link to the program's process; broken for good after the first protocol error."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.broken: str | None = None

    def hello(self) -> dict[str, Any]:
        """The program's first message: its module's names, or the error that stopped it."""
        try:
            message = wire.receive(self.fd)
        except wire.ProtocolError as error:
            return {"error": GONE if isinstance(error, wire.Gone) else f"protocol error: the program sent {error}"}
        if not isinstance(message, dict):
            return {"error": "the program's process sent a malformed first message"}
        return message

    def request(self, message: dict[str, Any]) -> Any:
        """Send a request and return the decoded value, or raise what the program raised."""
        if self.broken is not None:
            raise wire.ProtocolError(self.broken)
        try:
            wire.send(self.fd, message)
            reply = wire.receive(self.fd)
            if not isinstance(reply, dict):
                raise wire.ProtocolError("a reply that is not an object")
            if "value" in reply:
                return wire.decode(reply["value"], self.remote)
        except wire.ProtocolError as error:
            self.broken = GONE if isinstance(error, wire.Gone) else f"protocol error: the program sent {error}"
            raise wire.ProtocolError(self.broken) from None
        if "refused" in reply:
            self.broken = f"the result cannot cross to the tests: {str(reply['refused'])[:300]}"
            raise wire.ProtocolError(self.broken)
        raise _rebuilt(reply.get("raised"), reply.get("message"))

    def remote(self, encoded: list[Any]) -> Remote:
        """A proxy for the program's object that a handle names."""
        if len(encoded) != 3 or type(encoded[1]) is not int or type(encoded[2]) is not str:
            raise wire.ProtocolError("a malformed handle")
        return Remote(self, encoded[1], encoded[2][:80])

    def encode(self, value: Any) -> Any:
        """Encode a value the tests pass to the program: plain data and the program's own objects only."""

        def handle(x: Any) -> list[Any]:
            if type(x) is Remote and x._link is self:
                return ["R", x._number]
            raise TypeError(
                f"a {type(x).__qualname__} of the tests cannot be passed to the program (only plain data and the "
                "program's own functions and objects cross)"
            )

        return wire.encode(value, handle)


def _rebuilt(name: Any, message: Any) -> BaseException:
    text = str(message)[:400] if message is not None else ""
    kind = getattr(builtins, name, None) if isinstance(name, str) else None
    if isinstance(kind, type) and issubclass(kind, Exception) and not issubclass(kind, wire.ProtocolError):
        try:
            return kind(f"(raised by the program) {text}")
        except BaseException:
            pass
    return ProgramError(f"the program raised {text or name}")


class Remote:
    """A function, class or object of the program, reached through the link: calls and attribute reads only."""

    __slots__ = ("_link", "_number", "_kind")

    def __init__(self, link: Link, number: int, kind: str) -> None:
        self._link, self._number, self._kind = link, number, kind

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the program's object with plain data (or the program's own objects); return what it returns."""
        link = self._link
        message = {"op": "call", "handle": self._number, "args": link.encode(args), "kwargs": link.encode(kwargs)}
        return link.request(message)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._link.request({"op": "attr", "handle": self._number, "name": name})

    def __repr__(self) -> str:
        return f"<the program's {self._kind}>"


def _namespace(names: list[Any], link: Link) -> dict[str, Any]:
    """The tests' module: the program's names as copies, modules (the standard library's, imported here), proxies."""
    module = types.ModuleType("solution")
    module.__builtins__ = builtins
    namespace = module.__dict__
    for entry in names:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            continue
        name, encoded = entry
        if isinstance(encoded, list) and len(encoded) == 2 and encoded[0] == "M" and isinstance(encoded[1], str):
            if encoded[1].partition(".")[0] in IMPORTABLE:
                try:
                    namespace[name] = importlib.import_module(encoded[1])
                except BaseException:
                    pass
            continue
        try:
            namespace[name] = wire.decode(encoded, link.remote)
        except wire.ProtocolError:
            continue
    return namespace


def run_test(source: str, namespace: dict[str, Any], label: str) -> None:
    """Execute one test's statements; raise when the test fails."""
    tree = ast.parse(source, filename=label)
    for statement in tree.body:
        test = statement.test if isinstance(statement, ast.Assert) else None
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            left = eval(compile(ast.Expression(test.left), label, "eval"), namespace)
            right = eval(compile(ast.Expression(test.comparators[0]), label, "eval"), namespace)
            if not left == right:
                raise AssertionError(f"{ast.unparse(test.left)[:120]} gave {short_repr(left)}")
        else:
            exec(compile(ast.Module(body=[statement], type_ignores=[]), label, "exec"), namespace)


def _prepare(job: dict[str, Any], channel: Channel, link: Link) -> dict[str, Any] | None:
    hello = link.hello()
    if "names" not in hello or not isinstance(hello["names"], list):
        error = str(hello.get("error", "the program's process sent no names"))[:400]
        channel.send({"event": "program-error", "where": "solution.py", "error": error})
        return None
    namespace = _namespace(hello["names"], link)
    if job.get("setup"):
        try:
            exec(compile(job["setup"], "setup", "exec"), namespace)
        except BaseException as error:
            channel.send({"event": "program-error", "where": "setup", "error": link.broken or wire.describe(error)})
            return None
    return namespace


def _report_value(channel: Channel, link: Link, index: int, expression: str, namespace: dict[str, Any]) -> None:
    try:
        value = eval(compile(expression, f"test_{index}", "eval"), namespace)
        encoded = wire.encode(value)
    except BaseException as error:
        channel.send({"event": "value", "index": index, "error": link.broken or wire.describe(error)})
    else:
        if link.broken is not None:
            channel.send({"event": "value", "index": index, "error": link.broken})
        else:
            channel.send({"event": "value", "index": index, "value": encoded})


def run_asserts(job: dict[str, Any], channel: Channel, link: Link) -> None:
    """Run setup, then every test in order, in the tests' namespace.

    A test is ``{"expr": ...}`` (the left side of ``assert EXPR == LITERAL``; its value is reported and the host
    compares it with the literal, which never comes here) or ``{"source": ...}`` (statements, run here).
    """
    namespace = _prepare(job, channel, link)
    if namespace is None:
        return
    for index, test in enumerate(job["tests"]):
        if "expr" in test:
            _report_value(channel, link, index, test["expr"], namespace)
            continue
        try:
            run_test(test["source"], namespace, f"test_{index}")
        except BaseException as error:
            channel.send({"event": "test", "index": index, "ok": False, "error": link.broken or wire.describe(error)})
        else:
            if link.broken is not None:
                channel.send({"event": "test", "index": index, "ok": False, "error": link.broken})
            else:
                channel.send({"event": "test", "index": index, "ok": True})


def run_calls(job: dict[str, Any], channel: Channel, link: Link) -> None:
    """Run setup, then evaluate every call and report its encoded value."""
    namespace = _prepare(job, channel, link)
    if namespace is None:
        return
    for index, call in enumerate(job["calls"]):
        _report_value(channel, link, index, call, namespace)


def main(job: dict[str, Any], channel_fd: int, nonce: str, link_fd: int) -> NoReturn:
    """Run ``job``'s tests against the program at the other end of ``link_fd``, report, and leave the process."""
    channel = Channel(channel_fd, nonce)
    del nonce
    channel.send({"event": "start"})
    link = Link(link_fd)
    if job["kind"] == "asserts":
        run_asserts(job, channel, link)
    else:
        run_calls(job, channel, link)
    channel.send({"event": "done", "status": 0})
    os._exit(0)
