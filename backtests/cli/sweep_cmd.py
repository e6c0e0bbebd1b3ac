"""`backtest sweep STRATEGY --grid ...`: tune parameters, rank in sample, check out of sample."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from backtests.cli.common import (
    data_options,
    note,
)
from backtests.sweep import OBJECTIVES

#: Spec keys a sweep cannot vary: they change the period or the data, not the strategy.
FIXED_KEYS = ("start", "end", "benchmark")


@click.command(name="sweep")
@click.argument("strategy")
@click.option(
    "--grid",
    "grids",
    multiple=True,
    required=True,
    metavar="KEY=VALUES",
    help="A swept key: KEY=V1,V2,... or KEY=START:STOP:STEP (STOP included when on the grid). Repeatable.",
)
@click.option("--random", "random_n", type=int, help="Evaluate N configurations drawn at random from the grid.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --random.")
@click.option(
    "--objective",
    type=click.Choice(OBJECTIVES),
    default="sharpe",
    show_default=True,
    help="What to maximise in sample (max_drawdown: the least deep).",
)
@click.option("--train-until", metavar="DATE", help="Rank on data up to DATE; report the rest as out of sample.")
@click.option(
    "--walk-forward", type=int, default=0, metavar="K", help="Also run an anchored walk-forward with K folds."
)
@click.option("--jobs", type=int, default=1, show_default=True, help="Worker processes (results identical for any N).")
@click.option("--top", type=int, default=10, show_default=True, help="Rows of the ranked table.")
@click.option("--save-best", type=click.Path(dir_okay=False), help="Write the winner as a runnable spec (TOML).")
@click.option("--tearsheet", is_flag=True, help="Also run the winner on backtrader and write its tearsheet.")
@click.option(
    "--executor",
    type=click.Choice(["fast", "backtrader"]),
    default="fast",
    show_default=True,
    help="fast: vectorised; backtrader: the reference executor, one configuration at a time.",
)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default: under the reports root)."
)
@data_options
def sweep_command(
    strategy,
    grids,
    random_n,
    seed,
    objective,
    train_until,
    walk_forward,
    jobs,
    top,
    save_best,
    tearsheet,
    executor,
    out_dir,
    data,
):
    """Sweep STRATEGY's parameters and tell whether the winner is skill or luck.

    Ranks every configuration in sample, shows the top ones with their
    out-of-sample metrics, the Deflated Sharpe Ratio of the winner and the
    Probability of Backtest Overfitting (CSCV). Writes sweep.csv,
    summary.json, heatmap.png/.html (two or more swept keys) to --out.

    \b
    Example:
        backtest sweep tariff-shock-hedge --prices ../shared/data/prices \\
            --start 2015-01-01 --end 2025-12-31 \\
            --grid response.hedge_fraction=0.05:1.0:0.05 --grid response.hold_days=1:50:1 \\
            --train-until 2022-12-31 --save-best best.toml
        backtest sweep tariff-shock-hedge --grid triggers.tariffs.min_severity=2,3,4,5 --walk-forward 4
    """
    from backtests.cli.run_cmd import announce_inputs
    from backtests.dates import parse_date
    from backtests.paths import reports_dir
    from backtests.reports.artifacts import new_run_dir
    from backtests.spec import load_spec
    from backtests.sweep.grid import enumerate_grid, parse_grid_option, sample_grid
    from backtests.sweep.report import write_outputs
    from backtests.sweep.runner import Periods, SweepSettings, run_sweep

    settings = SweepSettings(objective, parse_date(train_until, what="--train-until"), walk_forward, jobs, executor)
    overrides = data.overrides
    spec = load_spec(strategy, overrides)
    axes = [parse_grid_option(g) for g in grids]
    _check_keys(spec, axes)
    configs = enumerate_grid(axes)
    if random_n is not None:
        configs = sample_grid(configs, random_n, seed)
    inputs = data.load(spec)
    periods = Periods.build(inputs, settings)
    announce_inputs(inputs)
    note(f"Sweeping {len(configs)} configurations of {spec.name} ({executor} executor, {jobs} job(s))...")
    with click.progressbar(
        length=len(configs), label="Configurations", file=sys.stderr, hidden=not sys.stderr.isatty()
    ) as bar:
        result = run_sweep(strategy, overrides, configs, inputs, settings, periods, progress=bar.update)
    target = (
        Path(out_dir) if out_dir else new_run_dir("sweeps", root=reports_dir() / spec.name, spec_toml=spec.to_toml())
    )
    paths = write_outputs(result, target, spec.name, inputs.prices.label)
    _print_ranked(result, top, inputs.prices.label)
    if save_best or tearsheet:
        best_spec = _winner_spec(strategy, overrides, result, inputs)
        if save_best:
            from backtests.atomic import atomic_write_text

            paths["best spec"] = atomic_write_text(save_best, best_spec.to_toml())
        if tearsheet:
            paths.update(_winner_tearsheet(best_spec, inputs, target))
    click.echo("")
    for name, path in paths.items():
        click.echo(f"{name:<18}{path}")


def _check_keys(spec, axes) -> None:
    """Every swept key and value must be a valid ``--set`` on the spec (same checks, same messages).

    Keys that change the period or the data (start, end, benchmark) cannot be
    swept: every configuration is measured on the same prices and dates.
    """
    from backtests.errors import UserInputError
    from backtests.spec import apply_overrides

    for key, values in axes:
        if key in FIXED_KEYS:
            raise UserInputError(
                f"--grid {key}: cannot be swept (every configuration uses the same period and data); "
                f"use --{key} for a single value"
            )
        for value in values:
            apply_overrides(spec.data, [f"{key}={value}"], where="--grid")


def _winner_spec(strategy, overrides, result, inputs):
    from backtests.spec import load_spec

    row = result.table.iloc[result.winner]
    winner = [f"{k}={row[k]}" for k in result.keys]
    period = [f"start={inputs.start:%Y-%m-%d}", f"end={inputs.end:%Y-%m-%d}"]
    return load_spec(strategy, [*overrides, *winner, *period])


def _winner_tearsheet(spec, inputs, target: Path) -> dict[str, Path]:
    import dataclasses

    from backtests import pipeline
    from backtests.reports.artifacts import write_run

    note("Running the winner on backtrader for its tearsheet...")
    run = pipeline.run_strategy(dataclasses.replace(inputs, spec=spec), command_line=["backtest", *sys.argv[1:]])
    written = write_run(run, target / "winner", tearsheet=True, command_line=run.manifest["command_line"])
    return {f"winner {k}": v for k, v in written.items() if k == "tearsheet"}


def _print_ranked(result, top: int, data_label: str) -> None:
    from backtests.sweep.report import ranked

    obj = result.settings.objective
    has_oos = result.periods.train_end < len(result.periods.calendar)
    click.echo(f"{result.table.shape[0]} configurations ranked by in-sample {obj}  (data: {data_label})")
    header = ["rank", *result.keys, f"IS {obj}", "IS CAGR", "IS maxDD"]
    if has_oos:
        header += [f"OOS {obj}", "OOS CAGR", "OOS maxDD"]
    rows = []
    for rank, (_, row) in enumerate(ranked(result, top).iterrows(), start=1):
        cells = [
            str(rank),
            *[str(row[k]) for k in result.keys],
            f"{row[f'is_{obj}']:.3f}",
            f"{row['is_cagr']:+.2%}",
            f"{row['is_max_drawdown']:.2%}",
        ]
        if has_oos:
            cells += [f"{row[f'oos_{obj}']:.3f}", f"{row['oos_cagr']:+.2%}", f"{row['oos_max_drawdown']:.2%}"]
        rows.append(cells)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    click.echo("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for r in rows:
        click.echo("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    click.echo(
        f"Deflated Sharpe Ratio of the winner: {result.dsr:.3f}  (probability its Sharpe beats luck; >0.95 is strong)"
    )
    click.echo(f"Probability of Backtest Overfitting: {result.pbo:.3f}  (CSCV; above 0.5 the winner is likely luck)")
    for fold in result.walk_forward:
        click.echo(
            f"walk-forward fold {fold['fold']}: train {fold['train'][0]}..{fold['train'][1]} -> "
            f"test {fold['test'][0]}..{fold['test'][1]}: config {fold['best']} "
            f"{obj} {fold['train_score']:.3f} in sample, {fold['test_score']:.3f} out of sample"
        )
    for line in result.notes:
        click.echo(f"Note: {line}")
