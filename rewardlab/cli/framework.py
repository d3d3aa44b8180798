"""The one command framework of the toolkit's four commands: how each starts, takes ``--traceback`` and ends.

``rewardlab``, ``evalkit``, ``grpo-train`` and ``sft-train`` are click commands built on :class:`Group` and
:class:`Command`, so they end alike: a user error (:class:`UserError`, or any
:class:`~rewardlab.errors.RewardlabError` met under :func:`user_errors`) in one line with exit status 2; Ctrl-C
and SIGTERM with 128 + the signal's number once temporary files are removed (:class:`Stopped`); a bug of ours with
status 1 and one line asking to report it. ``--traceback`` or ``REWARDLAB_TRACEBACK=1`` adds the full traceback to
any of them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import click

from rewardlab.engine.write import discard_stdout as _discard_stdout
from rewardlab.errors import RewardlabError, StoppedWithWork, Terminated, first_line

#: Click settings every command shares: ``-h`` as well as ``--help``, and help text up to 100 columns wide.
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

#: Set to 1 to print the full traceback of an error along with its one-line message (as ``--traceback`` does).
TRACEBACK_ENV = "REWARDLAB_TRACEBACK"


def tracebacks_wanted() -> bool:
    """Whether ``--traceback`` was given to the running command or ``REWARDLAB_TRACEBACK`` is set (not 0)."""
    context = click.get_current_context(silent=True)
    if context is not None and context.meta.get(TRACEBACK_ENV):
        return True
    return os.environ.get(TRACEBACK_ENV, "0").strip() not in ("", "0")


def print_traceback(error: BaseException) -> None:
    """Print the tracebacks of ``error`` and of every exception that led to it, the first cause first.

    Causes hidden with ``raise ... from None`` are shown too: they hold where a user's reward failed.
    """
    chain = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for index, item in enumerate(reversed(chain)):
        if index:
            click.echo("\nwhich led to:\n", err=True)
        click.echo("".join(traceback.format_exception(type(item), item, item.__traceback__, chain=False)), err=True)


class UserError(click.ClickException):
    """A mistake in the user's input or options: one line on stderr, exit status 2, no traceback."""

    exit_code = 2


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the project's user-facing errors into :class:`UserError` (after the traceback, when it is wanted)."""
    try:
        yield
    except RewardlabError as error:
        if tracebacks_wanted():
            print_traceback(error)
        raise UserError(str(error)) from None


class Stopped(click.ClickException):
    """The command was interrupted: one line, exit status 128 + the signal's number, as shells report it.

    Without ``message`` nothing was kept and the line says so; a command that kept its work (a training run saves
    a checkpoint) gives the line that says where, printed as it is.
    """

    def __init__(self, signum: int, message: str | None = None) -> None:
        name = signal.Signals(signum).name
        super().__init__(message or f"interrupted by {name}; outputs not yet complete were not written")
        self.kept_work = message is not None
        self.exit_code = 128 + signum

    def show(self, file: Any = None) -> None:
        """Print the line: as an error when nothing was kept, else as the report of what was."""
        if self.kept_work:
            click.echo(self.message, err=True)
        else:
            super().show(file)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM unwinds the command like Ctrl-C instead of killing it mid-write.

    Child processes forked meanwhile (reward worker pools) get the default action back, so they still end.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()

    def stop(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _set_traceback(context: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        context.meta[TRACEBACK_ENV] = True


def traceback_option() -> click.Option:
    """``--traceback``, accepted by the group and by every command."""
    return click.Option(
        ["--traceback"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_traceback,
        help=f"On an error, also print the full traceback (or set {TRACEBACK_ENV}=1).",
    )


def _run_to_one_line(invoke: Callable[[], Any]) -> Any:
    """Run a command so that it ends as this module describes."""
    try:
        with sigterm_as_interrupt():
            return invoke()
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except BrokenPipeError:
        _discard_stdout()  # the reader went away (``rewardlab list | head``): end quietly, as a shell would
        raise click.exceptions.Exit(128 + signal.SIGPIPE) from None
    except KeyboardInterrupt as error:
        raise Stopped(error.args[0] if isinstance(error, Terminated) else signal.SIGINT) from None
    except StoppedWithWork as stop:
        raise Stopped(stop.signum, stop.message) from None
    except RewardlabError as error:
        if tracebacks_wanted():
            print_traceback(error)
        raise UserError(str(error)) from None
    except Exception as error:
        if tracebacks_wanted():
            raise
        raise click.ClickException(
            f"internal error: {type(error).__name__}: {first_line(error)} "
            "(rerun with --traceback for where, and please report it)"
        ) from None


class _Toolkit:
    """What every command and group of the toolkit adds to click's: ``--traceback``, shared settings, the ending."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT)
        super().__init__(*args, **kwargs)
        self.params.append(traceback_option())  # type: ignore[attr-defined]

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, ending as this module describes."""
        return _run_to_one_line(lambda: super(_Toolkit, self).invoke(ctx))  # type: ignore[misc]


class Command(_Toolkit, click.Command):
    """A command of the toolkit: it takes ``--traceback`` and ends in one line, alone or inside a :class:`Group`."""


class Group(_Toolkit, click.Group):
    """A group of the toolkit's commands (``rewardlab``, ``evalkit``): each subcommand is a :class:`Command`."""

    command_class = Command
