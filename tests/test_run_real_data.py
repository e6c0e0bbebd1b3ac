"""Every shipped strategy on the real reference prices (``../shared/data``), through the CLI.

The six runs are made once per module (in-process CliRunner, ~2-4 s each), into a
module-scoped cache holding the imported GPR index; the tests then read the run
folders. Reproducibility reruns: the ``config.toml`` of two runs (together they
use every trigger type shipped), and one strategy twice with the same command.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from backtests.cli import cli

pytestmark = pytest.mark.shared

PERIOD = ["--start", "2015-01-01", "--end", "2025-12-31"]
METRIC_KEYS = {"cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar"}
ALWAYS = ("metrics.json", "config.toml", "manifest.json", "weights.csv", "trades.csv", "triggers.csv")
REPO = Path(__file__).resolve().parents[1]


def _invoke(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def setup(shared_data, tmp_path_factory):
    """The GPR imported into a module cache, and the list of shipped strategies."""
    root = tmp_path_factory.mktemp("real")
    cache = root / "cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKTEST_DATA_DIR", str(cache))
        _invoke("data", "import-gpr", str(shared_data / "gpr" / "gpr_daily.csv"))
        listed = json.loads(_invoke("list", "--json").stdout)
    assert (cache / "gpr").is_dir()
    return {"root": root, "cache": cache, "prices": shared_data / "prices", "strategies": listed}


def _run(setup, strategy: str, out: Path, *extra: str):
    return _invoke(
        "run", strategy, "--prices", str(setup["prices"]), *PERIOD, "--no-tearsheet",
        "--data-dir", str(setup["cache"]), "--out", str(out), "--json", *extra,
    )


@pytest.fixture(scope="module")
def runs(setup):
    """strategy name -> (run folder, parsed --json output) for each shipped strategy."""
    out = {}
    for entry in setup["strategies"]:
        folder = setup["root"] / "runs" / entry["name"]
        out[entry["name"]] = (folder, json.loads(_run(setup, entry["name"], folder).stdout))
    return out


def test_the_six_shipped_strategies_are_listed(setup):
    names = [s["name"] for s in setup["strategies"]]
    assert names == sorted(p.stem for p in (REPO / "strategies").glob("*.toml"))
    assert len(names) == 6


def test_every_strategy_writes_every_artifact(runs):
    for name, (folder, payload) in runs.items():
        for filename in ALWAYS:
            assert (folder / filename).is_file() and (folder / filename).stat().st_size > 0, (name, filename)
        assert not (folder / "tearsheet.html").exists(), name
        # Every path printed exists, and every file written (returns/targets included) is in the manifest.
        for path in payload["paths"].values():
            assert Path(path).is_file(), (name, path)
        manifest = json.loads((folder / "manifest.json").read_text())
        on_disk = {p.name for p in folder.iterdir()} - {"manifest.json"}
        assert set(manifest["files"]) == on_disk, name
        assert manifest["data"]["synthetic"] is False and manifest["data"]["source"].startswith("csv:")
        assert manifest["period"]["start"] >= "2015-01-02" and manifest["period"]["end"] <= "2025-12-31"
        # weights.csv: one row per trading day, rows sum to ~1 (fully invested, tiny cash cushion).
        weights = pd.read_csv(folder / "weights.csv", index_col="date")
        assert weights.index[0] == manifest["period"]["start"] and weights.index[-1] == manifest["period"]["end"]
        assert ((weights.sum(axis=1) - 1.0).abs() < 1e-6).all(), name
        with open(folder / "trades.csv", newline="") as fh:
            header = next(csv.reader(fh))
        assert header == ["date", "ticker", "size", "price", "value", "commission"], name


def test_metrics_have_the_stable_keys_for_strategy_and_benchmark(runs):
    for name, (folder, payload) in runs.items():
        metrics = json.loads((folder / "metrics.json").read_text())
        for side in ("strategy", "benchmark"):
            assert METRIC_KEYS <= set(metrics[side]), (name, side)
            for key in METRIC_KEYS:
                assert isinstance(metrics[side][key], float), (name, side, key)
        assert metrics["strategy"]["final_value"] > 0
        assert payload["metrics"]["strategy"]["cagr"] == pytest.approx(metrics["strategy"]["cagr"], rel=1e-9)


def test_buy_and_hold_tracks_its_benchmark(runs):
    # All in SPY with SPY as benchmark: same volatility; CAGR lower only by the entry costs (7 bps over 11 years).
    metrics = json.loads((runs["buy-and-hold"][0] / "metrics.json").read_text())
    strat, bench = metrics["strategy"], metrics["benchmark"]
    assert strat["volatility"] == pytest.approx(bench["volatility"], rel=1e-3)
    assert 0 < bench["cagr"] - strat["cagr"] < 1e-4


def test_the_same_command_twice_gives_byte_identical_metrics(setup, runs):
    name = "tariff-shock-hedge"
    first = runs[name][0]
    second = setup["root"] / "twice" / name
    _run(setup, name, second)
    for filename in ("metrics.json", "weights.csv", "trades.csv", "triggers.csv", "config.toml"):
        assert (second / filename).read_bytes() == (first / filename).read_bytes(), filename


def _data_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "manifest.json"}


@pytest.mark.parametrize("name", ["tariff-shock-hedge", "gpr-regime-hedge", "green-infra-tilt"])
def test_the_fast_executor_writes_backtraders_bytes(setup, name):
    """Eleven years of real prices, a hedge, a GPR hedge and a tilt: every file but the manifest is the
    same bytes on the fast executor as on backtrader."""
    folders = {e: setup["root"] / e / name for e in ("backtrader", "fast")}
    for executor, folder in folders.items():
        _run(setup, name, folder, "--executor", executor)
        assert json.loads((folder / "manifest.json").read_text())["executors"]["strategy"] == executor
    assert _data_files(folders["fast"]) == _data_files(folders["backtrader"])


# Two reruns cover every trigger type shipped (event, gpr, any) and keep the file's runtime down.
@pytest.mark.parametrize("name", ["green-infra-tilt", "rare-earth-diversify"])
def test_config_toml_reproduces_the_run(setup, runs, name):
    folder = runs[name][0]
    again = setup["root"] / "from-config" / name
    _run(setup, str(folder / "config.toml"), again)
    assert (again / "metrics.json").read_bytes() == (folder / "metrics.json").read_bytes()
    assert (again / "config.toml").read_text() == (folder / "config.toml").read_text()


def _trading_days(prices: Path) -> list[str]:
    with open(prices / "SPY.csv", newline="") as fh:
        return [row["Date"][:10] for row in csv.DictReader(fh)]


def _curated(date: str, words: str) -> dict:
    with open(REPO / "data" / "events" / "curated.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["date"] == date and words in r["title"]]
    assert len(rows) == 1, (date, words)
    return rows[0]


@pytest.mark.parametrize(
    ("event_date", "words"),
    [("2018-03-22", "Section 301 memorandum"), ("2019-05-05", "tweets")],
    ids=["section-301-memo", "may-2019-tweets"],
)
def test_triggers_fire_within_two_trading_days_of_the_curated_events(setup, event_date, words):
    event = _curated(event_date, words)
    assert event["category"] == "tariff" and event["direction"] == "escalation" and int(event["severity"]) >= 3
    result = CliRunner().invoke(
        cli,
        ["triggers", "tariff-shock-hedge", "--prices", str(setup["prices"]), "--start", "2018-01-01",
         "--end", "2019-12-31", "--data-dir", str(setup["cache"]), "--json"],
    )
    assert result.exit_code == 0, result.output
    firings = json.loads(result.stdout)
    assert isinstance(firings, list) and firings
    days = _trading_days(setup["prices"])
    after = [d for d in days if d > event_date][:2]  # the two trading days after the event date
    hits = [f for f in firings if f["date"] in after]
    assert len(hits) == 1, (event_date, after, [f["date"] for f in firings])
    assert event_date in hits[0]["event_dates"].split(";")
    assert event["title"] in hits[0]["event_titles"]
    # Never before the news: the firing is strictly after the event date.
    assert hits[0]["date"] > event_date


def test_a_benchmark_listed_after_the_start_is_refused(shared_data):
    args = ["run", "tariff-shock-hedge", "--prices", str(shared_data / "prices"), "--benchmark", "ACWI"]
    result = CliRunner().invoke(cli, [*args, "--start", "2005-01-01", "--end", "2010-01-01", "--no-tearsheet"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: benchmark ACWI has no price before 2008-03-28, after the start 2005-01-03; "
        "choose a later --start or another --benchmark"
    )


def test_a_hedge_ticker_listed_after_the_period_simply_gets_no_weight(shared_data):
    """UUP (hedge basket) lists in 2007: a 2000-2004 run goes ahead, UUP's share going to GLD/TLT."""
    args = ["run", "tariff-shock-hedge", "--prices", str(shared_data / "prices"), "--start", "2000-01-01"]
    result = CliRunner().invoke(cli, [*args, "--end", "2004-12-31", "--no-tearsheet", "--json"])
    assert result.exit_code == 0, result.output
    weights = json.loads(result.stdout)["paths"]["weights"]
    assert (pd.read_csv(weights)["UUP"] == 0).all()
