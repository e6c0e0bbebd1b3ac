"""The ``backtest`` command line: a thin click layer over the library.

Each command group lives in its own module; this module assembles them and maps
errors to exit codes: ``UserInputError`` and click usage errors exit 2, other
``BacktestError`` exit 1, each with a single line on stderr (``--debug`` shows
the traceback).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import click

from backtests import __version__
from backtests.cli.interrupts import install, interruptible, settle
from backtests.errors import BacktestError, flag_wording

INTERRUPTED = "Interrupted."  # what a Ctrl-C prints (exit 130)

#: Subcommand -> (module, attribute, the one-line help ``backtest --help`` lists). Modules load only
#: when their command runs, so ``backtest --help`` imports neither pandas nor matplotlib; a test keeps
#: each line equal to the command's own short help.
COMMANDS = {
    "run": (
        "backtests.cli.run_cmd",
        "run_command",
        "Backtest STRATEGY (a shipped name or a .toml path) and write its report folder.",
    ),
    "list": (
        "backtests.cli.strategy_cmd",
        "list_command",
        "List the shipped strategies with their one-line descriptions.",
    ),
    "show": (
        "backtests.cli.strategy_cmd",
        "show_command",
        "Print STRATEGY (a name from `backtest list` or a .toml path) as TOML, every default filled in.",
    ),
    "triggers": (
        "backtests.cli.triggers_cmd",
        "triggers_command",
        "List every firing of STRATEGY's triggers, with the events behind each.",
    ),
    "sweep": (
        "backtests.cli.sweep_cmd",
        "sweep_command",
        "Sweep STRATEGY's parameters and tell whether the winner is skill or luck.",
    ),
    "data": ("backtests.cli.data_cmd", "data_group", "Manage the local price cache (and GPR index data)."),
    "events": (
        "backtests.cli.events_cmd",
        "events_group",
        "Geopolitical event calendars: the curated one and your own CSV files.",
    ),
    "report": (
        "backtests.cli.report_cmd",
        "report_group",
        "List, open and compare finished runs (under $BACKTEST_REPORTS_DIR, else ./reports).",
    ),
}

#: Library argument names (as errors name them) -> the flags that set them.
FLAGS = {
    "start": "--start",
    "end": "--end",
    "overrides": "--set",
    "events": "--events",
    "prices": "--prices",
    "source": "--source",
    "benchmark": "--benchmark",
    "grid": "--grid",
    "random": "--random",
    "seed": "--seed",
    "objective": "--objective",
    "train_until": "--train-until",
    "walk_forward": "--walk-forward",
    "jobs": "--jobs",
    "executor": "--executor",
    "top": "--top",
    "out": "--out",
    "since": "--since",
    "until": "--until",
    "cluster": "--cluster",
}


class _Root(click.Group):
    """Root group that loads subcommands on demand and turns library errors into one-line messages
    and exit codes. ``--debug`` adds the traceback but never changes the exit code.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, _, short) in COMMANDS.items()])

    def invoke(self, ctx: click.Context):  # noqa: D401 - click hook
        try:
            with interruptible():
                return super().invoke(ctx)
        except BacktestError as exc:
            _fail(ctx, f"Error: {flag_wording(str(exc), FLAGS)}", exc.exit_code)
        except KeyboardInterrupt:
            click.echo(INTERRUPTED, err=True)
            ctx.exit(130)
        except BrokenPipeError:  # the reader left (`backtest report list | head`): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush into it
            ctx.exit(141)  # 128 + SIGPIPE, as a shell reports a command killed by a closed pipe
        except click.UsageError as exc:  # click prints four lines; we keep errors to one
            where = exc.ctx.command_path if exc.ctx else ctx.command_path
            _fail(ctx, f"Error: {exc.format_message()} (see '{where} --help')", exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug, not a user error: still one line unless --debug
            _fail(
                ctx,
                f"Error: internal error {type(exc).__name__}: {exc} (rerun with --debug for the traceback "
                "and please report it)",
                1,
            )


def _fail(ctx: click.Context, message: str, code: int) -> None:
    """Print ``message`` (after the traceback with --debug) and exit with ``code``."""
    if ctx.meta.get("debug"):
        traceback.print_exc()
    click.echo(message, err=True)
    ctx.exit(code)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="geohedge backtest")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Backtest portfolio hedges and green-infrastructure tilts triggered by geopolitical events.

    \b
    Example:
        backtest run tariff-shock-hedge              # demo market if no prices are cached
        backtest run tariff-shock-hedge --prices ../shared/data/prices --start 2015-01-01
        backtest sweep tariff-shock-hedge --grid response.hedge_fraction=0.1:1.0:0.1
    """
    ctx.meta["debug"] = debug


def main() -> None:
    """Console-script entry point: run the command, flush both streams, then end the process at once.

    ``os._exit`` skips the interpreter's teardown, which after a compiled parallel kernel
    spends about half a second freeing numba's LLVM state. Nothing is lost: every command
    writes its files atomically and closes them (and stops its worker processes and Dask
    cluster) before it returns. The exit code is the command's. Ctrl-C is raised only inside
    the command, where no import is in progress (``interrupts``), and reported by ``invoke``;
    one held until the command ended is reported here.
    """
    install()
    code: int | str | None = 0
    try:
        cli(prog_name="backtest")
    except SystemExit as done:
        code = done.code
    if settle() and code != 130:
        sys.stderr.write(f"{INTERRUPTED}\n")
        code = 130
    if isinstance(code, str):
        sys.stderr.write(f"{code}\n")
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the reader left before the last bytes: as in ``invoke``
            code = code or 141
        except (OSError, ValueError):  # a closed stream: nothing more can be said
            pass
    os._exit(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
