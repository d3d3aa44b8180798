"""What the program's process does inside the sandbox: run the program, then answer calls from its tests.

Standard library only and free of package-relative imports (the fork server loads it by path inside the
sandbox). The process holds the program and nothing of its tests: no test code, no expected value, no comparison
and no report channel. By the time :func:`main` runs, the server has dropped it to the program's own uid, applied
the limits and pointed fds 0, 1 and 2 at the run's input and capture pipes (``/dev/null`` for assert and call
tests).

For assert and call tests it executes the program as module ``solution``, sends the tests' process the module's
names (plain data as values, modules by name, functions, classes and other objects as handles), then answers
requests on ``link_fd``: call a handle with arguments, or read one of its attributes. Every answer is plain data
or a handle (:mod:`wire`); an object that can be neither (a generator, an open file) is refused with the reason.
For stdin/stdout cases it runs the program as ``__main__`` and exits with the interpreter's status.
"""

from __future__ import annotations

import builtins
import os
import sys
import traceback
import types
from typing import Any, NoReturn

wire = sys.modules.get("_rewardlab_sandbox_wire")
if wire is None:  # imported on the host
    from rewardlab.sandbox import wire

MODULE = "solution"


def _module(name: str) -> dict[str, Any]:
    module = types.ModuleType(name)
    module.__file__ = "solution.py"
    module.__builtins__ = builtins
    sys.modules[name] = module
    return module.__dict__


class Handles:
    """The program's objects the tests hold by number; an object keeps one number."""

    def __init__(self) -> None:
        self.objects: list[Any] = []
        self.numbers: dict[int, int] = {}

    def encode(self, value: Any) -> list[Any]:
        """A handle for a callable or an instance of one of the program's classes; TypeError for anything else."""
        if not (callable(value) or getattr(type(value), "__module__", None) == MODULE):
            kind = type(value).__qualname__
            raise TypeError(f"the program gave a {kind}, which cannot cross to the tests; return plain data")
        number = self.numbers.get(id(value))
        if number is None:
            number = self.numbers[id(value)] = len(self.objects)
            self.objects.append(value)
        return ["R", number, type(value).__qualname__[:80]]

    def resolve(self, encoded: list[Any]) -> Any:
        """The object a handle the tests passed back names."""
        number = encoded[1]
        if type(number) is not int or not 0 <= number < len(self.objects):
            raise wire.ProtocolError("a handle that names no object")
        return self.objects[number]


def _names(namespace: dict[str, Any], handles: Handles) -> list[list[Any]]:
    """The module's public names as the tests see them: values, modules by name, handles."""
    names = []
    for name, value in list(namespace.items()):
        if name.startswith("__"):
            continue
        if isinstance(value, types.ModuleType):
            names.append([name, ["M", value.__name__]])
            continue
        try:
            names.append([name, wire.encode(value, handles.encode)])
        except (TypeError, ValueError):
            continue
    return names


def serve(link_fd: int, namespace: dict[str, Any]) -> None:
    """Send the module's names, then answer the tests' requests until they close the link."""
    handles = Handles()
    wire.send(link_fd, {"names": _names(namespace, handles)})
    while True:
        try:
            request = wire.receive(link_fd)
        except wire.ProtocolError:
            return
        try:
            target = handles.resolve(["R", request["handle"]])
            if request["op"] == "call":
                args = wire.decode(request["args"], handles.resolve)
                kwargs = wire.decode(request["kwargs"], handles.resolve)
                value = target(*args, **kwargs)
            else:
                value = getattr(target, request["name"])
        except BaseException as error:
            reply = {"raised": type(error).__name__[:80], "message": wire.describe(error)}
        else:
            try:
                reply = {"value": wire.encode(value, handles.encode)}
            except BaseException as error:
                reply = {"refused": wire.describe(error)}
        wire.send(link_fd, reply)


def run_stdio(code: str) -> int:
    """Run the program as ``__main__``; return the exit status the interpreter would have returned."""
    sys.argv = ["solution.py"]
    namespace = _module("__main__")
    try:
        exec(compile(code, "solution.py", "exec"), namespace)
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


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def main(job: dict[str, Any], link_fd: int | None) -> NoReturn:
    """Run ``job``'s program and leave the process; never returns."""
    if job["kind"] == "stdio":
        status = run_stdio(job["code"])
        _flush()
        os._exit(status)
    namespace = _module(MODULE)
    try:
        exec(compile(job["code"], "solution.py", "exec"), namespace)
    except BaseException as error:
        wire.send(link_fd, {"error": wire.describe(error)})
        os._exit(1)
    try:
        serve(link_fd, namespace)
    except wire.ProtocolError:
        pass
    os._exit(0)
