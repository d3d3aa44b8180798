"""The errors a user can cause and fix: each carries a one-line message that the commands print as it is."""

from __future__ import annotations


class RewardlabError(Exception):
    """An error the user can fix (bad input, unknown reward, invalid parameter); its message is one line."""


class ConfigError(RewardlabError, ValueError):
    """A reward name, parameter or weight that cannot be used; also a ValueError, as the peers raise for these."""


class RowError(RewardlabError):
    """A row whose column has the wrong type or value; ``index`` is its position in the batch."""

    def __init__(self, index: int, field: str, message: str) -> None:
        super().__init__(f"field '{field}': {message}")
        self.index = index
        self.field = field
        self.message = message


class UserRewardError(RowError):
    """A user's reward function raised or returned something that is not a reward, at the row ``index``.

    The original exception is the ``__cause__``; the CLIs show its traceback with ``--traceback``.
    """

    def __init__(self, index: int, message: str) -> None:
        RewardlabError.__init__(self, message)
        self.index = index
        self.field = None  # type: ignore[assignment]
        self.message = message


def first_line(error: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none), for one-line errors."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that every ``finally`` (temporary files) still runs.

    ``args[0]`` is the signal's number.
    """


class StoppedWithWork(Exception):
    """A command stopped on a signal after keeping its work (a training run's checkpoint); the message says where.

    The commands end with this message as it is and exit status 128 + ``signum``, as shells report a signal.
    """

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message)
        self.signum = signum
        self.message = message
