"""The ``backtest`` command line: a thin click layer over the library.

Each command group lives in its own module; this module assembles them and maps
errors to exit codes: ``UserInputError`` and click usage errors exit 2, other
``BacktestError`` exit 1, each with a single line on stderr (``--debug`` shows
the traceback).
"""

from __future__ import annotations

import sys
import traceback

import click

from backtests import __version__
from backtests.cli.data_cmd import data_group
from backtests.cli.events_cmd import events_group
from backtests.cli.gpr_cmd import fetch_gpr_command, import_gpr_command
from backtests.cli.report_cmd import report_group
from backtests.cli.strategy_cmd import list_command, show_command
from backtests.cli.run_cmd import run_command
from backtests.cli.sweep_cmd import sweep_command
from backtests.cli.triggers_cmd import triggers_command
from backtests.errors import BacktestError, flag_wording

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
    """Root group that turns library errors into one-line messages and exit codes.

    ``--debug`` adds the traceback but never changes the exit code.
    """

    def invoke(self, ctx: click.Context):  # noqa: D401 - click hook
        try:
            return super().invoke(ctx)
        except BacktestError as exc:
            _fail(ctx, f"Error: {flag_wording(str(exc), FLAGS)}", exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
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


for _command in (
    run_command,
    list_command,
    show_command,
    triggers_command,
    sweep_command,
    data_group,
    events_group,
    report_group,
):
    cli.add_command(_command)
data_group.add_command(fetch_gpr_command)
data_group.add_command(import_gpr_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="backtest")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
