"""The Python API, used only through ``backtests``' public names (nothing from an underscored module).

A small seeded market as a DataFrame (a dotted ticker, 0700.HK, among them),
events as a list of dicts, a strategy built from a dict: ``run``, ``sweep``,
``summary()``, ``plot()``, ``tearsheet()`` and ``save()``, and the CLI writing
the same ``metrics.json`` bytes as ``run(...).save()``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import backtests
from backtests import Strategy, UserInputError, run, sweep
from backtests.cli import cli

TICKERS = ("SPY", "TLT", "GLD", "0700.HK")
# A Saturday: the news is public before Monday's open, so it trades at Monday's close.
WEEKEND_EVENT = {
    "date": "2019-03-16",
    "title": "Zorblax Republic slaps tariffs on widgets",
    "category": "tariff",
    "direction": "escalation",
    "severity": 4,
    "countries": ["ZX"],
    "source": "https://example.org/zorblax",
}


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    """Seeded random walks on weekdays that are NYSE sessions in 2018-2019 (US holidays left out)."""
    days = pd.bdate_range("2018-01-02", "2019-12-31")
    holidays = pd.to_datetime(
        ["2018-01-15", "2018-02-19", "2018-03-30", "2018-05-28", "2018-07-04", "2018-09-03", "2018-11-22",
         "2018-12-05", "2018-12-25", "2019-01-01", "2019-01-21", "2019-02-18", "2019-04-19", "2019-05-27",
         "2019-07-04", "2019-09-02", "2019-11-28", "2019-12-25"]
    )
    days = days[~days.isin(holidays)]
    rng = np.random.default_rng(11)
    steps = rng.normal(0.0003, 0.01, size=(len(days), len(TICKERS)))
    return pd.DataFrame(100 * np.exp(np.cumsum(steps, axis=0)), index=days, columns=list(TICKERS))


@pytest.fixture(scope="module")
def strategy() -> Strategy:
    return Strategy.from_dict(
        {
            "name": "api-test",
            "benchmark": "SPY",
            "universe": {"SPY": 0.6, "0700.hk": 0.4},  # lower case on purpose: tickers are normalised
            "hedge": {"TLT": 0.5, "GLD": 0.5},
            "triggers": {"zorblax": {"type": "event", "keywords": ["Zorblax"], "hold_days": 3}},
            "response": {"hedge_fraction": 0.5, "hold_days": 5},
            "costs": {"commission_bps": 2.0, "slippage_bps": 1.0},
        }
    )


@pytest.fixture(scope="module")
def result(strategy, prices):
    return run(strategy, prices=prices, events=[WEEKEND_EVENT], start="2018-06-01", end="2019-12-31")


def test_public_names_are_exported() -> None:
    for name in ("Strategy", "run", "sweep", "RunResult", "SweepResult", "load_prices", "load_events"):
        assert name in backtests.__all__ and getattr(backtests, name) is not None


def test_sweep_stays_the_function_after_the_sweeps_subpackage_loads() -> None:
    import importlib

    importlib.import_module("backtests.sweeps.report")
    importlib.import_module("backtests.sweeps.runner")
    assert callable(backtests.sweep) and backtests.sweep.__module__ == "backtests.api"
    from backtests import sweep as again

    assert again is sweep


def test_dict_strategy_normalises_and_keeps_dotted_tickers(strategy) -> None:
    assert strategy.universe == {"SPY": 0.6, "0700.HK": 0.4}
    varied = strategy.with_overrides({"universe.0700.HK": 0.3, "universe.SPY": 0.7, "response.hedge_fraction": 0.25})
    assert varied.universe == {"SPY": 0.7, "0700.HK": 0.3}
    assert varied.response["hedge_fraction"] == 0.25
    quoted = strategy.with_overrides(['universe."0700.HK"=0.2', "universe.SPY=0.8"])
    assert quoted.universe["0700.HK"] == 0.2
    assert 'universe' in quoted.to_toml() and '"0700.HK" = 0.2' in quoted.to_toml()


def test_validation_errors_name_the_key_the_allowed_values_and_the_argument(strategy) -> None:
    with pytest.raises(UserInputError) as caught:
        strategy.with_overrides({"response.hedge_fraction": 1.3})
    message = str(caught.value)
    assert "response.hedge_fraction = 1.3 is out of range; expected a float >= 0 and <= 1" in message
    assert "--set" not in message and "`overrides`" in message


def test_weekend_event_fires_on_the_next_trading_day(result) -> None:
    ours = result.firings[result.firings["event_titles"].str.contains("Zorblax")]
    assert list(ours["date"]) == [pd.Timestamp("2019-03-18")]  # Monday


def test_summary_matches_an_independent_computation(result) -> None:
    summary = result.summary()
    assert list(summary.columns) == ["Strategy", "Base (unhedged)", "Benchmark (SPY)"]
    equity = result.equity
    years = (equity.index[-1] - equity.index[0]).days / 365.25
    cagr = (equity.iloc[-1] / 100_000.0) ** (1 / years) - 1  # cash 100,000 by default
    assert summary.loc["CAGR", "Strategy"] == pytest.approx(cagr, rel=1e-12)
    assert summary.loc["Time hedged", "Strategy"] == pytest.approx((result.exposure > 0).mean())
    assert 0 < summary.loc["Time hedged", "Strategy"] < 0.1
    assert "Hedge vs unhedged" in result._repr_html_()


def test_plot_draws_strategy_base_and_benchmark(result) -> None:
    fig = result.plot()
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels[:3] == ["api-test", "base (unhedged)", "SPY (benchmark)"]


def test_tearsheet_is_written_quietly(result, tmp_path, capfd) -> None:
    page = result.tearsheet(tmp_path / "sheet.html")
    text = page.read_text(encoding="utf-8")
    assert "<title>api-test vs SPY" in text
    assert "findfont" not in capfd.readouterr().err


def test_events_dataframe_errors_name_the_row(strategy, prices) -> None:
    bad = pd.DataFrame([WEEKEND_EVENT, {**WEEKEND_EVENT, "title": "second", "severity": 9}])
    with pytest.raises(UserInputError, match=r"`events` row 2, severity: severity 9 is out of range"):
        run(strategy, prices=prices, events=bad, start="2018-06-01", end="2019-12-31")


def test_cli_and_save_write_identical_metrics(strategy, prices, tmp_path) -> None:
    folder = tmp_path / "prices"
    folder.mkdir()
    for ticker in prices.columns:
        prices[ticker].rename("Close").rename_axis("Date").to_csv(folder / f"{ticker}.csv", float_format="%.10f")
    events = tmp_path / "events.csv"
    pd.DataFrame([{**WEEKEND_EVENT, "countries": "ZX"}]).to_csv(events, index=False)
    spec_file = tmp_path / "api-test.toml"
    spec_file.write_text(strategy.to_toml(), encoding="utf-8")
    saved = run(
        spec_file, prices=folder, events=[events], start="2018-06-01", end="2019-12-31"
    ).save(tmp_path / "py", tearsheet=False)
    args = ["run", str(spec_file), "--prices", str(folder), "--events", str(events)]
    args += ["--start", "2018-06-01", "--end", "2019-12-31", "--no-tearsheet", "--out", str(tmp_path / "cli")]
    outcome = CliRunner().invoke(cli, args)
    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "cli" / "metrics.json").read_bytes() == saved["metrics"].read_bytes()


def test_sweep_winner_equals_run_of_best(strategy, prices) -> None:
    grid = {"response.hedge_fraction": [0.25, 0.5, 1.0], "response.hold_days": [2, 10]}
    found = sweep(strategy, grid, prices=prices, events=[WEEKEND_EVENT], start="2018-06-01", end="2019-12-31")
    table = found.table
    assert len(table) == 6 + 2 and list(table["reference"]).count("") == 6
    assert set(table.loc[table["reference"] != "", "reference"]) == {"spec", "base"}
    assert 0.0 <= found.dsr <= 1.0 and (math.isnan(found.pbo) or 0.0 <= found.pbo <= 1.0)
    best = found.best
    winner = table.iloc[int(table.loc[table["reference"] == "", "is_sharpe"].idxmax())]
    assert best.response["hedge_fraction"] == winner["response.hedge_fraction"]
    same_code = run(best, prices=prices, events=[WEEKEND_EVENT], executor="fast")
    assert same_code.metrics["strategy"]["sharpe"] == winner["full_sharpe"]
    assert same_code.metrics["strategy"]["cagr"] == winner["full_cagr"]
    reference = run(best, prices=prices, events=[WEEKEND_EVENT])
    assert reference.metrics["strategy"]["cagr"] == pytest.approx(winner["full_cagr"], rel=1e-9)
    base = table[table["reference"] == "base"].iloc[0]
    assert base["full_cagr"] == pytest.approx(reference.metrics["base"]["cagr"], rel=1e-9)
    picture = found.heatmap()
    assert picture._repr_svg_() == picture.svg and 'id="is-winner-cell"' in picture.svg


def test_gpr_given_as_a_file_equals_the_same_index_given_as_a_frame(prices, tmp_path) -> None:
    days = pd.date_range("2016-01-01", "2019-12-31", freq="D")
    level = 100 + 60 * np.sin(np.arange(len(days)) / 45.0)  # rises above its own 90th percentile now and then
    frame = pd.DataFrame({"gpr": level, "gpr_acts": level / 2, "gpr_threats": level / 2}, index=days)
    path = tmp_path / "gpr_daily.csv"
    frame.rename(columns={"gpr": "gpr_index"}).rename_axis("date").to_csv(path)  # the shared CSV layout
    gpr_strategy = Strategy.from_dict(
        {
            "name": "api-gpr-test",
            "benchmark": "SPY",
            "universe": {"SPY": 0.6, "0700.HK": 0.4},
            "hedge": {"TLT": 0.5, "GLD": 0.5},
            "triggers": {"gpr_high": {"type": "gpr", "measure": "percentile", "threshold": 0.9}},
            "response": {"hedge_fraction": 0.5, "hold_days": 5},
        }
    )
    from_file = run(gpr_strategy, prices=prices, gpr=path, start="2018-06-01", end="2019-12-31")
    from_frame = run(gpr_strategy, prices=prices, gpr=frame, start="2018-06-01", end="2019-12-31")
    assert from_file.metrics["strategy"]["trigger_firings"] > 0  # the GPR trigger did fire
    pd.testing.assert_series_equal(from_file.returns, from_frame.returns, check_exact=True)
    with pytest.raises(UserInputError, match=r"nowhere\.csv: no such file; check the path"):
        run(gpr_strategy, prices=prices, gpr=tmp_path / "nowhere.csv")
    with pytest.raises(UserInputError, match=r"or pass the file's path"):
        run(gpr_strategy, prices=prices, gpr=frame.rename(columns={"gpr": "gpr_index"}))
