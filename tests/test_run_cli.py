"""`backtest run` through click: one-line errors and exit codes, the run folder, the offline demo quick start.

No network: the demo test replaces the Yahoo adapter with one that raises the
data layer's own ``YahooUnavailableError``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner
from test_run_pipeline import CRASH, DAYS, SPEC, _read_closes, _simple_returns, _write_prices

from backtests.cli import cli
from backtests.data import loader
from backtests.data.yahoo import FetchResult, YahooUnavailableError

SHIPPED = "buy-and-hold, gpr-regime-hedge, green-infra-tilt, rare-earth-diversify, static-60-40, tariff-shock-hedge"


@pytest.fixture
def market(tmp_path: Path) -> dict[str, Path]:
    prices = _write_prices(tmp_path / "prices")
    spec = tmp_path / "oracle.toml"
    spec.write_text(SPEC)
    events = tmp_path / "events.csv"
    events.write_text(
        "date,title,category,direction,severity\n"
        f"{DAYS[CRASH]:%Y-%m-%d},Zorblax embargo announced,tariff,escalation,5\n"
    )
    return {"prices": prices, "spec": spec, "events": events, "root": tmp_path}


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def _assert_one_line_error(result, code: int, message: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"Error: {message}"]
    assert "Traceback" not in result.output


# --- errors: exact one-line messages and exit codes ---------------------------------------------


def test_unknown_strategy():
    result = _invoke("run", "no-such-strategy", "--no-tearsheet")
    _assert_one_line_error(
        result,
        2,
        f"unknown strategy 'no-such-strategy'; choose one of: {SHIPPED} (backtest list), "
        "or give a path to a .toml file",
    )


def test_set_unknown_key_suggests_the_nearest(market):
    result = _invoke(
        "run",
        str(market["spec"]),
        "--prices",
        str(market["prices"]),
        "--no-tearsheet",
        "--set",
        "response.hedge_fractoin=0.5",
    )
    _assert_one_line_error(
        result, 2, "--set response.hedge_fractoin: unknown key (did you mean response.hedge_fraction?)"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "--set: response.hedge_fraction = 'abc' is not valid; expected a float >= 0 and <= 1"),
        ("1.5", "--set: response.hedge_fraction = '1.5' is out of range; expected a float >= 0 and <= 1"),
    ],
)
def test_set_bad_value(market, value, message):
    result = _invoke(
        "run",
        str(market["spec"]),
        "--prices",
        str(market["prices"]),
        "--no-tearsheet",
        "--set",
        f"response.hedge_fraction={value}",
    )
    _assert_one_line_error(result, 2, message)


def test_set_without_equals(market):
    result = _invoke(
        "run",
        str(market["spec"]),
        "--prices",
        str(market["prices"]),
        "--no-tearsheet",
        "--set",
        "response.hedge_fraction",
    )
    _assert_one_line_error(
        result, 2, "--set 'response.hedge_fraction': expected KEY=VALUE, e.g. response.hedge_fraction=0.5"
    )


@pytest.mark.parametrize("prices", [True, False], ids=["prices-folder", "default-source"])
def test_bad_start_date(market, prices):
    # Without --prices the check must still come before any price loading (and its progress line).
    extra = ["--prices", str(market["prices"])] if prices else []
    result = _invoke("run", str(market["spec"]), *extra, "--start", "2019-13-45", "--no-tearsheet")
    _assert_one_line_error(result, 2, "--start: '2019-13-45' is not a date; use YYYY-MM-DD, e.g. 2019-05-10")


def test_start_after_end(market):
    result = _invoke("run", "tariff-shock-hedge", "--start", "2031-03-01", "--end", "2031-02-01", "--no-tearsheet")
    _assert_one_line_error(
        result, 2, "--start 2031-03-01 is not before --end 2031-02-01; give a start earlier than the end"
    )


def test_ticker_missing_from_the_prices_folder(market):
    result = _invoke("run", "tariff-shock-hedge", "--prices", str(market["prices"]), "--no-tearsheet")
    _assert_one_line_error(
        result,
        2,
        f"no CSV for EEM, FXI, IEF, QQQ, TLT, UUP in {market['prices']} (found: GLD, SPY); "
        "add EEM.csv or choose among the tickers found",
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "2031-02-13,Zorblax,tariff,escalatoin,5",
            "{path}:2:direction: unknown direction 'escalatoin'; use one of escalation, de-escalation",
        ),
        (
            "2031-02-31,Zorblax,tariff,escalation,5",
            "{path}:2:date: '2031-02-31' is not a valid date; use YYYY-MM-DD, e.g. 2019-05-10",
        ),
        (
            "2031-02-13,Zorblax,tariff,escalation,9",
            "{path}:2:severity: severity 9 is out of range; use an integer from 1 to 5",
        ),
    ],
)
def test_malformed_events_file(market, row, message):
    bad = market["root"] / "bad-events.csv"
    bad.write_text("date,title,category,direction,severity\n" + row + "\n")
    result = _invoke(
        "run", str(market["spec"]), "--prices", str(market["prices"]), "--events", str(bad), "--no-tearsheet"
    )
    _assert_one_line_error(result, 2, message.format(path=bad))


def test_missing_events_file(market):
    missing = market["root"] / "nope.csv"
    result = _invoke(
        "run", str(market["spec"]), "--prices", str(market["prices"]), "--events", str(missing), "--no-tearsheet"
    )
    _assert_one_line_error(
        result, 2, f"{missing}: no such file; check the path (create one with `backtest events add`)"
    )


def test_gpr_strategy_without_the_gpr_cache_is_a_failure_not_a_usage_error(market):
    # The GPR index is missing from the (empty, per-test) cache: exit 1 with the import command.
    spec = market["root"] / "gpr.toml"
    spec.write_text(SPEC.replace('keywords = ["zorblax"]', "").replace('type = "event"', 'type = "gpr"'))
    result = _invoke("run", str(spec), "--prices", str(market["prices"]), "--no-tearsheet")
    _assert_one_line_error(
        result,
        1,
        "strategy oracle needs the GPR index, which is not in the cache; "
        "import it with: backtest data import-gpr ../shared/data/gpr/gpr_daily.csv",
    )


# --- a successful run on the synthetic market ----------------------------------------------------


def test_run_writes_the_folder_and_the_returns_obey_the_timing_rule(market):
    out = market["root"] / "run"
    result = _invoke(
        "run",
        str(market["spec"]),
        "--prices",
        str(market["prices"]),
        "--events",
        str(market["events"]),
        "--out",
        str(out),
        "--no-tearsheet",
        "--json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload["paths"]) >= {"metrics", "config", "manifest", "weights", "trades", "triggers", "returns"}
    assert "tearsheet" not in payload["paths"] and not (out / "tearsheet.html").exists()
    for path in payload["paths"].values():
        assert Path(path).is_file() and Path(path).parent == out

    spy = _simple_returns(_read_closes(market["prices"], "SPY"))
    gld = _simple_returns(_read_closes(market["prices"], "GLD"))
    with open(out / "returns.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["date"] for r in rows] == [f"{d:%Y-%m-%d}" for d in DAYS]
    strategy = [float(r["strategy"]) for r in rows]
    expected = spy[: CRASH + 2] + gld[CRASH + 2 :]
    assert strategy == pytest.approx(expected, rel=1e-8, abs=1e-10)  # CSV keeps 10 significant digits

    with open(out / "triggers.csv", newline="") as fh:
        firings = list(csv.DictReader(fh))
    assert [(f["date"], f["raw_date"], f["trigger"]) for f in firings] == [
        (f"{DAYS[CRASH + 1]:%Y-%m-%d}", f"{DAYS[CRASH]:%Y-%m-%d}", "shock")
    ]
    assert "Zorblax" in firings[0]["event_titles"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["data"]["synthetic"] is False
    assert manifest["events"]["files"] == [str(market["events"])]
    assert set(manifest["data"]["tickers"]) == {"SPY", "GLD"}
    # config.toml is the resolved spec, period and events files included:
    # run again from it alone, same metrics bytes.
    assert f'events = ["{market["events"].resolve()}"]' in (out / "config.toml").read_text()
    again = market["root"] / "again"
    rerun = _invoke(
        "run",
        str(out / "config.toml"),
        "--prices",
        str(market["prices"]),
        "--out",
        str(again),
        "--no-tearsheet",
    )
    assert rerun.exit_code == 0, rerun.output
    assert (again / "metrics.json").read_bytes() == (out / "metrics.json").read_bytes()


# --- the offline demo quick start ----------------------------------------------------------------


class _OfflineYahoo:
    """Stands in for ``YahooSource``: every fetch fails the way an unreachable network does."""

    calls: ClassVar[list[tuple]] = []

    def __init__(self, *args, **kwargs) -> None:
        pass

    def fetch(self, tickers, start, end) -> FetchResult:
        _OfflineYahoo.calls.append((tuple(tickers), start, end))
        raise YahooUnavailableError("cannot reach Yahoo Finance (ConnectionError); check the network connection")


@pytest.fixture
def offline(monkeypatch):
    _OfflineYahoo.calls = []
    monkeypatch.setattr(loader, "YahooSource", _OfflineYahoo)
    return _OfflineYahoo


def test_demo_quick_start_offline_with_the_tearsheet(offline, tmp_path):
    out = tmp_path / "demo-run"
    result = _invoke("run", "tariff-shock-hedge", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert offline.calls, "the empty cache must make the loader ask (the fake) Yahoo first"
    assert "Traceback" not in result.output
    # Said loudly on stderr and in the summary on stdout.
    assert "SYNTHETIC DEMO DATA: prices are simulated" in result.stderr
    assert "USING SYNTHETIC DEMO DATA, NOT REAL PRICES" in result.stderr
    assert "cannot reach Yahoo Finance (ConnectionError)" in result.stderr
    assert "synthetic demo data" in result.stdout.splitlines()[0]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["data"]["synthetic"] is True
    assert manifest["data"]["source"] == "demo"
    html = (out / "tearsheet.html").read_text()
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "synthetic demo data" in title
    assert (out / "metrics.json").is_file()


def test_demo_quick_start_writes_into_the_reports_folder(offline, tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    monkeypatch.setenv("BACKTEST_REPORTS_DIR", str(reports))
    result = _invoke("run", "tariff-shock-hedge", "--no-tearsheet", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["data"] == "synthetic demo data"
    manifest = Path(payload["paths"]["manifest"])
    assert manifest.is_relative_to(reports / "tariff-shock-hedge")
    assert json.loads(manifest.read_text())["data"]["synthetic"] is True
    assert (reports / "index.html").is_file()


def test_a_start_after_the_data_names_the_users_dates(market):
    result = _invoke(
        "run", str(market["spec"]), "--prices", str(market["prices"]), "--start", "2040-01-01", "--no-tearsheet"
    )
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line == (
        "Error: fewer than two trading days from 2040-01-01 to the last date: the data for GLD, SPY run from "
        f"{DAYS[0]:%Y-%m-%d} to {DAYS[-1]:%Y-%m-%d}; choose --start/--end inside that range"
    )


# --- one result whatever the executor; the tearsheet drawn early ---------------------------------


def test_the_executors_write_the_same_run_folder_but_for_the_manifest(offline, tmp_path):
    """The fast executor reproduces backtrader bit for bit, so every data file is the same bytes."""
    folders = {}
    for executor in ("backtrader", "fast"):
        folders[executor] = tmp_path / executor
        args = ("run", "tariff-shock-hedge", "--executor", executor, "--no-tearsheet")
        result = _invoke(*args, "--start", "2018-01-02", "--end", "2019-12-31", "--out", str(folders[executor]))
        assert result.exit_code == 0, result.output
    files = {e: {p.name: p.read_bytes() for p in sorted(f.iterdir())} for e, f in folders.items()}
    manifests = {e: json.loads(files[e].pop("manifest.json")) for e in files}
    assert files["backtrader"] == files["fast"]
    assert set(files["fast"]) >= {"metrics.json", "returns.csv", "trades.csv", "weights.csv", "events.html"}
    assert [manifests[e]["executors"]["strategy"] for e in ("backtrader", "fast")] == ["backtrader", "fast"]


def test_backtest_run_keeps_the_tearsheet_it_drew_early(offline, tmp_path, monkeypatch):
    """The page is started from the fast executor's result while backtrader runs, and kept: one render."""
    from backtests.reports.worker import TearsheetWorker

    jobs = []
    submit = TearsheetWorker._submit

    def counting(self, job):
        jobs.append(job)
        return submit(self, job)

    monkeypatch.setattr(TearsheetWorker, "_submit", counting)
    out = tmp_path / "run"
    result = _invoke("run", "tariff-shock-hedge", "--start", "2019-01-02", "--end", "2019-12-31", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert len(jobs) == 1
    assert json.loads((out / "manifest.json").read_text())["executors"]["strategy"] == "backtrader"
    assert "tariff-shock-hedge vs SPY (benchmark)" in (out / "tearsheet.html").read_text()


def test_a_run_that_fails_leaves_no_empty_run_folder(offline, tmp_path, monkeypatch):
    from backtests import pipeline
    from backtests.errors import BacktestError

    def broken(*_args, **_kwargs):
        raise BacktestError("the engine broke")

    monkeypatch.setattr(pipeline, "run_strategy", broken)
    reports = tmp_path / "reports"
    monkeypatch.setenv("BACKTEST_REPORTS_DIR", str(reports))
    result = _invoke("run", "tariff-shock-hedge", "--no-tearsheet")
    assert result.exit_code == 1 and result.stderr.splitlines()[-1] == "Error: the engine broke"
    assert list((reports / "tariff-shock-hedge").iterdir()) == []
