"""`backtest sweep STRATEGY --grid ...`: tune parameters, rank in sample, check out of sample."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from backtests.cli.common import (
    data_options,
    note,
)
from backtests.errors import UserInputError
from backtests.sweeps import OBJECTIVES


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
@click.option(
    "--random",
    "random_n",
    type=click.IntRange(min=1),
    help="Evaluate N configurations drawn at random from the grid (which may be larger than the 1,000,000 cap).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed for --random.")
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
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes, at most one per core (results identical for any N).",
)
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Rows of the ranked table.")
@click.option("--save-best", type=click.Path(), help="Write the winner as a runnable spec (TOML).")
@click.option("--tearsheet", is_flag=True, help="Also run the winner on backtrader and write its tearsheet.")
@click.option(
    "--executor",
    type=click.Choice(["fast", "backtrader"]),
    default="fast",
    show_default=True,
    help="fast: vectorised; backtrader: the reference executor, one configuration at a time.",
)
@click.option(
    "--out", "out_dir", type=click.Path(), help="Output folder (default: under the reports root)."
)
@click.option(
    "--cluster",
    metavar="ADDRESS",
    help="Run on Dask: tcp://HOST:8786 (a running `dask scheduler`), local or local:N (N worker processes here).",
)
@click.option("--force", is_flag=True, help="Let --out replace a folder that is not one of our sweep folders.")
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
    cluster,
    force,
    data,
):
    """Sweep STRATEGY's parameters and tell whether the winner is skill or luck.

    Ranks every configuration in sample, shows the top ones with their
    out-of-sample metrics, the Deflated Sharpe Ratio of the winner and the
    Probability of Backtest Overfitting (CSCV). Writes sweep.csv,
    summary.json, heatmap.svg and heatmap.html (the first two swept keys;
    a line for one) to --out.

    \b
    Example:
        backtest sweep tariff-shock-hedge --prices ../shared/data/prices \\
            --start 2015-01-01 --end 2025-12-31 \\
            --grid response.hedge_fraction=0.05:1.0:0.05 --grid response.hold_days=1:50:1 \\
            --train-until 2022-12-31 --save-best best.toml
        backtest sweep tariff-shock-hedge --grid triggers.tariffs.min_severity=2,3,4,5 --walk-forward 4
    """
    from contextlib import nullcontext

    from backtests.paths import reports_dir
    from backtests.reports.destinations import check_writable_target
    from backtests.reports.folders import check_writable_file
    from backtests.sweeps.worker import SweepWorker

    check_writable_target(Path(out_dir) if out_dir else reports_dir(), force=force, kind="sweep")
    if save_best:
        check_writable_file(Path(save_best), what="--save-best")
    # Once the outputs are checked: with one job the fast executor's compiled work runs in a
    # worker that loads numba and the kernels while this process imports pandas and loads the data.
    with SweepWorker() if jobs == 1 and not cluster and executor == "fast" else nullcontext() as worker:
        from backtests.api import sweep
        from backtests.cli.run_cmd import announce_inputs
        from backtests.sweeps.grid import parse_grid_option
        from backtests.sweeps.parallel import capped_jobs

        spec = data.spec(strategy)
        axes: dict[str, list[str]] = {}
        for option in grids:
            key, values = parse_grid_option(option)
            if key in axes:
                raise UserInputError(f"--grid {key}: given twice; merge its values into one --grid")
            axes[key] = values

        def started(inputs, count: int) -> None:
            announce_inputs(inputs)
            used = capped_jobs(jobs)
            if not cluster and used < jobs:
                note(f"Note: --jobs {jobs} is more than the {used} cores here: using {used}")
            where = f"Dask cluster {cluster}" if cluster else f"{used} job(s)"
            note(f"Sweeping {count} configurations of {spec.name} ({executor} executor, {where})...")
            bar.length = count

        with click.progressbar(
            length=1, label="Configurations", file=sys.stderr, hidden=not sys.stderr.isatty()
        ) as bar:
            result = sweep(
                spec,
                axes,
                **data.arguments(),
                train_until=train_until,
                walk_forward=walk_forward,
                objective=objective,
                random=random_n,
                seed=seed,
                jobs=jobs,
                executor=executor,
                cluster=cluster,
                progress=bar.update,
                on_start=started,
                worker=worker,
            )
    from backtests.reports.destinations import reserved_run_dir
    from backtests.reports.index import rebuild_index

    folder = (
        nullcontext(Path(out_dir))
        if out_dir
        else reserved_run_dir("sweeps", root=reports_dir() / spec.name, spec_toml=spec.to_toml())
    )
    with folder as target:
        if tearsheet:
            note("Running the winner on backtrader for its tearsheet...")
        paths = result.save(target, force=force, winner_tearsheet=tearsheet)
    if not out_dir:
        rebuild_index(reports_dir())
    _print_ranked(result.outcome, top, result.inputs.prices.label)
    if save_best:
        paths["best spec"] = result.save_best(save_best)
    click.echo("")
    for name, path in paths.items():
        click.echo(f"{name:<18}{path}")


def _print_ranked(result, top: int, data_label: str) -> None:
    """The split, the top configurations, the reference rows, DSR, PBO, walk-forward folds and notes."""
    from backtests.sweeps.report import ranked, split_dates

    obj = result.settings.objective
    split = split_dates(result.periods)
    has_oos = "test_from" in split
    grid = result.grid_rows
    click.echo(f"{len(grid)} configurations ranked by in-sample {obj}  (data: {data_label})")
    period = f"period {split['start']} to {split['end']}"
    if has_oos:
        period += f"; in sample to {split['train_until']}, out of sample from {split['test_from']}"
    click.echo(period)
    header = ["rank", *result.keys, f"IS {obj}", "IS CAGR", "IS maxDD"]
    if has_oos:
        header += [f"OOS {obj}", "OOS CAGR", "OOS maxDD"]

    def cells(label: str, row) -> list[str]:
        out = [label, *[str(row[k]) for k in result.keys]]
        out += [f"{row[f'is_{obj}']:.3f}", f"{row['is_cagr']:+.2%}", f"{row['is_max_drawdown']:.2%}"]
        if has_oos:
            out += [f"{row[f'oos_{obj}']:.3f}", f"{row['oos_cagr']:+.2%}", f"{row['oos_max_drawdown']:.2%}"]
        return out

    rows = [cells(str(rank), row) for rank, (_, row) in enumerate(ranked(result, top).iterrows(), start=1)]
    references = result.table[result.table["reference"] != ""]
    rows += [cells(row["reference"], row) for _, row in references.iterrows()]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    click.echo("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for r in rows:
        click.echo("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    click.echo("(references: spec = the spec's own settings, base = the response switched off; not ranked)")
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
