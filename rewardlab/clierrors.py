"""How every command of the toolkit ends: one line per error, interrupts included, and tracebacks on request.

User errors exit with status 2 (see ``rewardlab.cli.UserError``); Ctrl-C and SIGTERM with 128 + the signal's
number once temporary files are removed; a bug of ours with status 1 and one line asking to report it.
``--traceback`` or ``REWARDLAB_TRACEBACK=1`` adds the full traceback to any of them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import traceback
from collections.abc import Iterator
from types import FrameType
from typing import Any

import click

from rewardlab.core import first_line

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


class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that every ``finally`` (temporary files) still runs."""


class Stopped(click.ClickException):
    """The command was interrupted: one line, exit status 128 + the signal's number, as shells report it."""

    def __init__(self, signum: int) -> None:
        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name}; outputs not yet complete were not written")
        self.exit_code = 128 + signum


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
        raise Interrupted(signum)

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


class RewardlabCommand(click.Command):
    """A command that also takes ``--traceback``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(traceback_option())


class RewardlabGroup(click.Group):
    """The ``rewardlab`` group: every error ends in one line, interrupts included; ``--traceback`` shows the rest.

    User errors exit with status 2; Ctrl-C and SIGTERM with 128 + the signal's number, after temporary files are
    removed; an unexpected exception (a bug of ours) with status 1 and a line asking to report it.
    """

    command_class = RewardlabCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(traceback_option())

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command with the error handling described above."""
        try:
            with sigterm_as_interrupt():
                return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt as error:
            raise Stopped(error.args[0] if isinstance(error, Interrupted) else signal.SIGINT) from None
        except Exception as error:
            if tracebacks_wanted():
                raise
            raise click.ClickException(
                f"internal error: {type(error).__name__}: {first_line(error)} "
                "(rerun with --traceback for where, and please report it)"
            ) from None
