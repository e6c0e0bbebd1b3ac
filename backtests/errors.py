"""Error types a user can cause or meet, and the exit codes the CLI maps them to.

Every error raised for the user carries a one-line message that says what is
wrong and how to fix it. The CLI prints that line to stderr with no traceback.
"""


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
