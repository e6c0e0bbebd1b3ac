"""Error types a user can cause or meet, and the exit codes the CLI maps them to.

Every error raised for the user carries a one-line message that says what is
wrong and how to fix it. The CLI prints that line to stderr with no traceback.

Library messages name the *arguments* of the Python API in backquotes
(`start`, `overrides`, `grid`, ...): ``run(strategy, start=...)`` users read
"`start` '2020-13-01' is not a date". The CLI shows the same message with each
backquoted argument replaced by its command-line flag (``--start``) through
``flag_wording``, so one message serves both.
"""

import re

_ARGUMENT = re.compile(r"`([a-z_]+)`")


class BacktestError(Exception):
    """A failure at run time (no data, no network, corrupt cache). Exit code 1."""

    exit_code = 1


class UserInputError(BacktestError):
    """Bad input the user can fix (bad date, unknown key or ticker, malformed file). Exit code 2."""

    exit_code = 2


class DataUnavailableError(BacktestError):
    """Prices or index data could not be had (missing in cache, network down). Exit code 1."""


class RejectedOrdersError(BacktestError):
    """The execution engine rejected orders; results would be silently wrong. Exit code 1."""


def flag_wording(message: str, flags: dict[str, str]) -> str:
    """``message`` with every backquoted argument named in ``flags`` replaced by its flag; others unquoted."""
    return _ARGUMENT.sub(lambda m: flags.get(m.group(1), m.group(1)), message)
