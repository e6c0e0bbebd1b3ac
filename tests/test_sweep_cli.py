"""`backtest sweep` end to end on the real reference prices (10 tickers of workload W, shortened)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from backtests.cli import cli

PERIOD = ["--start", "2017-01-01", "--end", "2020-12-31"]


def _sweep(shared_data, tmp_path, *extra: str, name: str = "sweep"):
    out = tmp_path / name
    args = ["sweep", "tariff-shock-hedge", "--prices", str(shared_data / "prices"), *PERIOD, "--out", str(out), *extra]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return out, result


GRID = [
    "--grid",
    "response.hedge_fraction=0.25:1.0:0.25",
    "--grid",
    "response.hold_days=5,20",
    "--train-until",
    "2019-12-31",
]


def test_sweep_writes_its_files_and_the_winner_reproduces_with_backtest_run(shared_data, tmp_path):
    best = tmp_path / "best.toml"
    out, result = _sweep(shared_data, tmp_path, *GRID, "--save-best", str(best))
    table = pd.read_csv(out / "sweep.csv", keep_default_na=False)
    assert len(table) == 8 + 2 and list(table["reference"]) == [""] * 8 + ["spec", "base"]
    assert {"response.hedge_fraction", "response.hold_days", "is_sharpe", "oos_sharpe", "full_cagr"} <= set(table)
    assert table.iloc[9]["response.hedge_fraction"] == 0.0  # base: the response switched off
    assert "spec" in result.output and "base" in result.output  # reference rows printed
    assert "in sample to 2019-12-31, out of sample from 2020-01-02" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_trials"] == 8
    assert summary["period"]["train_until"] <= "2019-12-31" < summary["period"]["test_from"]
    assert 0.0 <= summary["probability_of_backtest_overfitting"] <= 1.0
    assert (out / "heatmap.svg").read_text().startswith("<svg") and "<svg" in (out / "heatmap.html").read_text()
    assert "Deflated Sharpe Ratio of the winner" in result.output
    # The winner is the grid row with the best in-sample Sharpe...
    table = table.iloc[:8]
    winner = table.loc[table["is_sharpe"].astype(float).idxmax()]
    assert float(summary["winner"]["params"]["response.hold_days"]) == winner["response.hold_days"]
    # ...and backtest run (backtrader) on the saved spec gives the same full-period metrics.
    run = CliRunner().invoke(
        cli, ["run", str(best), "--prices", str(shared_data / "prices"), "--no-tearsheet", "--json"]
    )
    assert run.exit_code == 0, run.output
    metrics = json.loads(run.stdout)["metrics"]["strategy"]
    for key in ("cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar"):
        assert metrics[key] == pytest.approx(winner[f"full_{key}"], rel=1e-6), key


def test_results_do_not_depend_on_jobs(shared_data, tmp_path):
    """The same bytes for 1, 2 and more jobs than cores; capping is said on stderr, not saved."""
    import os

    cores = os.cpu_count() or 1
    one, _ = _sweep(shared_data, tmp_path, *GRID, "--jobs", "1", name="one")
    two, _ = _sweep(shared_data, tmp_path, *GRID, "--jobs", "2", name="two")
    many, result = _sweep(shared_data, tmp_path, *GRID, "--jobs", str(cores + 7), name="many")
    for other in (two, many):
        for name in ("sweep.csv", "summary.json", "heatmap.svg", "heatmap.html"):
            assert (other / name).read_bytes() == (one / name).read_bytes(), (other.name, name)
    assert f"Note: --jobs {cores + 7} is more than the {cores} cores here: using {cores}\n" in result.stderr
    assert f"(fast executor, {cores} job(s))" in result.stderr


def test_fast_and_backtrader_executors_agree_in_a_sweep(shared_data, tmp_path):
    grid = ["--grid", "response.hedge_fraction=0.5,1.0", "--start", "2019-01-01"]
    fast, _ = _sweep(shared_data, tmp_path, *grid, name="fast")
    slow, result = _sweep(shared_data, tmp_path, *grid, "--executor", "backtrader", name="slow")
    assert "executor: backtrader" in result.output
    a, b = pd.read_csv(fast / "sweep.csv"), pd.read_csv(slow / "sweep.csv")
    pd.testing.assert_frame_equal(a, b, rtol=1e-6)


def test_walk_forward_reports_each_fold(shared_data, tmp_path):
    out, result = _sweep(shared_data, tmp_path, "--grid", "response.hold_days=5,10,20", "--walk-forward", "3")
    folds = json.loads((out / "summary.json").read_text())["walk_forward"]
    assert [f["fold"] for f in folds] == [1, 2, 3]
    for fold in folds:
        assert fold["train"][1] < fold["test"][0]
    assert result.output.count("walk-forward fold") == 3


@pytest.mark.parametrize(
    "grid, message",
    [
        (
            "response.hedge_fractoin=0.1,0.2",
            "Error: --grid response.hedge_fractoin: unknown key (did you mean response.hedge_fraction?)",
        ),
        (
            "response.hedge_fraction=0.5,2",
            "Error: --grid: response.hedge_fraction = '2' is out of range; expected a float >= 0 and <= 1",
        ),
    ],
)
def test_bad_grid_keys_and_values_fail_in_one_line(tmp_path, grid, message):
    result = CliRunner().invoke(cli, ["sweep", "tariff-shock-hedge", "--source", "demo", "--grid", grid])
    assert result.exit_code == 2
    assert result.stderr.strip() == message


@pytest.mark.parametrize("key", ["start", "end", "benchmark"])
def test_keys_that_change_the_data_cannot_be_swept(key):
    result = CliRunner().invoke(cli, ["sweep", "tariff-shock-hedge", "--source", "demo", "--grid", f"{key}=a,b"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: --grid {key}: cannot be swept (every configuration uses the same period, data and name); "
        "set one value for the whole sweep instead"
    ]


def test_walk_forward_folds_too_short_fail_in_one_line(shared_data):
    args = ["sweep", "tariff-shock-hedge", "--prices", str(shared_data / "prices"), "--start", "2024-01-01"]
    args += ["--end", "2024-03-29", "--grid", "response.hedge_fraction=0.1,0.5", "--walk-forward", "12"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: --walk-forward 12: 61 trading days make folds shorter than 20 days; use fewer folds or a longer period"
    ]


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ["--cluster", "loco:2"],
            "Error: --cluster 'loco:2': use tcp://HOST:PORT (a running dask scheduler), local or local:N",
        ),
        (
            ["--cluster", "local:2", "--jobs", "2"],
            "Error: --jobs 2 with --cluster 'local:2': a cluster's workers are its processes; drop --jobs",
        ),
    ],
)
def test_bad_cluster_requests_fail_in_one_line_before_any_work(tmp_path, extra, message):
    out = tmp_path / "out"
    args = ["sweep", "tariff-shock-hedge", "--source", "demo", "--grid", "response.hold_days=5,20", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, *extra])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message]
    assert not out.exists()
