"""Property-based fuzzing of the command line: malformed input never crashes it.

Hypothesis generates malformed dates, numbers, keys, ``--set`` overrides, spec
files, price CSVs, event CSVs and sweep grids (files are written under fresh
temporary folders) and runs ``show``, ``triggers``, ``run`` (demo market, a short
period, no tearsheet, ``--out`` a temporary folder), ``sweep`` (a tiny grid),
``events validate``/``events list`` and ``data import`` (into a temporary
``--data-dir``). Every command must:

- exit 0, 1 or 2 (never an uncaught exception);
- print no traceback and never "internal error";
- on stderr, print at most 3 lines besides its progress lines (``Loading prices...``,
  the demo banner, ``Note:`` caveats, ``Running``/``Sweeping``/``Writing``) and, when
  it fails, end with its one ``Error:`` line. ``events validate`` is the exception
  by design: it lists every problem, one ``FILE:LINE:COLUMN: message`` line each.

Most examples go to fast commands (show, events, data import); run and sweep get
fewer. Under CI (see ``conftest.py``) the examples are derandomized; the suite
runs about 330 cases.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from backtests.cli import cli


def fuzz(examples: int) -> settings:
    """Settings for one fuzz test: ``examples`` cases, no deadline (derandomized under CI by the profile)."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )

SHIPPED = ["tariff-shock-hedge", "rare-earth-diversify", "green-infra-tilt", "gpr-regime-hedge", "static-60-40",
           "buy-and-hold"]
SPEC_TEXT = (Path(__file__).resolve().parents[1] / "strategies" / "tariff-shock-hedge.toml").read_text()
PROGRESS = ("Loading prices", "*** ", "Note: ", "Running ", "Sweeping ", "Writing ")

# --- the pieces: text a user might type ---------------------------------------------------------------

# Command-line arguments cannot hold NUL; undecodable bytes arrive as surrogate escapes ("\udcff").
ARG_TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=16)
MALFORMED_DATES = [
    "", " ", "2020-13-01", "2020-02-30", "2019-02-29", "0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01",
    "20200101", "2020/01/02", "01/02/2020", "2020-1-1", "yesterday", "today", "NaT", "nan", "-1", "1e10",
    "2020-01-01T25:00", "2020-01-01T10:00+05:00", "2020-01-01 ", "\u0662\u0660\u0662\u0660-01-01", "1677-09-21",
    "2262-04-12", "1900-01-01", "2020-W01", "\udcff",
]
DATES = st.one_of(
    st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat),
    st.sampled_from(MALFORMED_DATES),
    ARG_TEXT,
)
NUMBER_WORDS = [
    "0", "-0", "1", "-1", "0.5", "1e308", "-1e308", "1e-400", "1e12", "1e13", "9007199254740993", "nan", "NaN",
    "inf", "-inf", "Infinity", "0x10", "1_000", "1,2", "[1, 2]", '"3"', "true", "", " ", "\uff19", "1/2", "2**64",
    "99999999999999999999999999",
]
NUMBERS = st.one_of(
    st.integers().map(str),
    st.floats().map(repr),
    st.sampled_from(NUMBER_WORDS),
    ARG_TEXT,
)
KNOWN_KEYS = [
    "response.hold_days", "response.hedge_fraction", "response.step_in", "response.step_out",
    "response.on_deescalation", "response.fund_from", "response.trigger", "response.kind",
    "triggers.tariffs.lag", "triggers.tariffs.min_severity", "triggers.tariffs.categories",
    "triggers.tariffs.hold_days", "triggers.tariffs.decay_half_life", "triggers.tariffs.intensity",
    "triggers.tariffs.stages", "triggers.tariffs.countries", "triggers.tariffs.type", "triggers.tariffs.cooldown_days",
    "triggers.new.type", "universe.SPY", "universe.spy", 'universe."0700.HK"', "universe.0700.HK", "universe.XLE",
    "hedge.GLD", "hedge.", "cash", "benchmark", "calendar", "start", "end", "name", "description", "events",
    "rebalance.schedule", "rebalance.drift_threshold", "costs.commission_bps", "costs.slippage_bps", "triggers",
    "universe", "response", "", ".", "..", "response..hold_days", 'universe."', "universe.'0700.HK'",
]
KEYS = st.one_of(
    st.sampled_from(KNOWN_KEYS),
    st.text(alphabet='abcdefghijklmnopqrstuvwxyz.ABC_"\' []{}0123456789=-', max_size=30),
)
VALUES = st.one_of(
    NUMBERS,
    DATES,
    st.sampled_from(["SPY", "spy", "GLD,TLT", "hedge", "tilt", "exit", "hold", "monthly", "XLON", "xnys", "tariffs",
                     "event", "gpr", "[]", "''", "a,,b", ",", "ZZZZ", "severity", "flat"]),
)

def _typed(key: str, values: st.SearchStrategy) -> st.SearchStrategy:
    return values.map(lambda v: f"{key}={v}")


# Near-valid overrides (a known key, a value of about the right kind, often in range) reach the deep code;
# hostile ones (any key, any text) the parsers. The near-valid ones are drawn three times as often.
PLAUSIBLE_SETS = st.one_of(
    _typed("response.hold_days", st.integers(-1, 300)),
    _typed("response.hedge_fraction", st.floats(-0.1, 1.2)),
    _typed("response.step_in", st.floats(0, 1.5)),
    _typed("response.step_out", st.sampled_from(["0", "0.01", "0.25", "1", "1.5"])),
    _typed("response.on_deescalation", st.sampled_from(["exit", "hold", "Exit", "x"])),
    _typed("response.fund_from", st.sampled_from(["SPY,QQQ", "SPY", "GLD", "", "spy,qqq", "SPY,SPY", "ZZZ"])),
    _typed("response.kind", st.sampled_from(["hedge", "tilt", "other"])),
    _typed("response.trigger", st.sampled_from(["tariffs", "", "none", "gpr_high"])),
    _typed("triggers.tariffs.lag", st.integers(-1, 400)),
    _typed("triggers.tariffs.min_severity", st.integers(0, 6)),
    _typed("triggers.tariffs.hold_days", st.integers(0, 300)),
    _typed("triggers.tariffs.cooldown_days", st.integers(-1, 300)),
    _typed("triggers.tariffs.decay_half_life", st.floats(-1, 50)),
    _typed("triggers.tariffs.intensity", st.sampled_from(["flat", "severity", "x"])),
    _typed("triggers.tariffs.categories", st.sampled_from(["tariff", "tariff,export_control", "x", "", "military"])),
    _typed("triggers.tariffs.stages", st.sampled_from(["announced", "announced,effective", "official", "x", ""])),
    _typed("triggers.tariffs.countries", st.sampled_from(["US", "CN;US", "us,cn", ""])),
    _typed("triggers.tariffs.release_on_deescalation", st.sampled_from(["true", "false", "yes", "1"])),
    _typed("rebalance.schedule", st.sampled_from(["monthly", "weekly", "daily", "quarterly", "none", "yearly"])),
    _typed("rebalance.drift_threshold", st.floats(-0.1, 1.5)),
    _typed("costs.commission_bps", st.floats(-1, 200)),
    _typed("costs.slippage_bps", st.floats(-1, 200)),
    _typed("cash", st.floats(-1, 1e13)),
    _typed("calendar", st.sampled_from(["XNYS", "XLON", "XHKG", "NYSE", "xnys", "XXXX"])),
    _typed("benchmark", st.sampled_from(["SPY", "GLD", "QQQ", "ZZZ", "spy", "MP"])),
    _typed("universe.SPY", st.sampled_from(["0", "0.4", "0.5", "1"])),
    _typed("hedge.GLD", st.sampled_from(["0", "0.4", "0.5", "1"])),
)
SETS = st.one_of(
    PLAUSIBLE_SETS,
    PLAUSIBLE_SETS,
    PLAUSIBLE_SETS,
    st.tuples(KEYS, VALUES).map(lambda kv: f"{kv[0]}={kv[1]}"),
    ARG_TEXT,  # often no "=" at all
)


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _invoke(args: list[str]):
    """Run the CLI in-process and check the contract every command keeps, whatever its input."""
    result = CliRunner().invoke(cli, args)
    event(f"{args[0]} exit {result.exit_code}")  # --hypothesis-show-statistics: how many cases got how far
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr, (args, result.stderr)
    assert "internal error" not in result.stderr, (args, result.stderr)
    return result


def _check_messages(args: list[str], result) -> None:
    """At most 3 lines besides progress, and a failure ends with its single ``Error:`` line."""
    lines = [line for line in _lines(result.stderr) if not line.startswith(PROGRESS)]
    assert len(lines) <= 3, (args, result.stderr)
    if result.exit_code != 0:
        errors = [line for line in lines if line.startswith("Error:")]
        assert len(errors) == 1 and lines[-1] == errors[0], (args, result.stderr)


def _run(args: list[str]):
    result = _invoke(args)
    _check_messages(args, result)
    return result


# --- show: --set overrides and spec files -------------------------------------------------------------


@fuzz(90)
@given(strategy=st.sampled_from(SHIPPED), overrides=st.lists(SETS, max_size=3))
def test_show_with_fuzzed_overrides(strategy, overrides):
    args = ["show", strategy]
    for override in overrides:
        args += ["--set", override]
    result = _run(args)
    if result.exit_code == 0:
        assert result.stdout.startswith("name = ")


@st.composite
def spec_files(draw) -> bytes:
    """A mutated shipped spec (a value replaced, a line dropped, added, lower-cased...), or junk bytes."""
    kind = draw(st.sampled_from(["mutate", "mutate", "mutate", "bytes", "text"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "text":
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    lines = SPEC_TEXT.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["value", "drop", "insert", "lower", "truncate", "section"]))
        if how == "value" and "=" in lines[at]:
            lines[at] = lines[at].split("=", 1)[0] + "= " + draw(
                st.one_of(NUMBERS, VALUES.map(lambda v: f'"{v}"'), st.sampled_from(["[", "{", '"""', "[1,", "true"]))
            )
        elif how == "drop":
            del lines[at]
        elif how == "insert":
            lines.insert(at, draw(st.one_of(SETS.map(lambda s: s.replace("=", " = ", 1)), ARG_TEXT)))
        elif how == "lower":
            lines[at] = lines[at].lower()
        elif how == "truncate":
            lines = lines[:at]
        else:
            lines.insert(at, draw(st.sampled_from(["[universe]", "[hedge]", "[triggers.x]", "[[response]]", "[]"])))
        if not lines:
            break
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@fuzz(70)
@given(content=spec_files(), name=st.sampled_from(["spec.toml", "s p e c.toml", "spec", "SPEC.TOML", "-spec.toml"]))
def test_show_with_fuzzed_spec_files(content, name):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        _run(["show", str(path)])


# --- events: validate and list fuzzed event files -----------------------------------------------------

EVENT_COLUMNS = ["date", "title", "category", "direction", "severity", "countries", "assets", "source", "notes",
                 "chain", "stage", "public_at"]
CELLS = {
    "date": DATES,
    "title": st.one_of(st.sampled_from(["Tariffs", "a|b", "line\nbreak", 'say "hi"', "x,y", " ", ""]), ARG_TEXT),
    "category": st.one_of(st.sampled_from(["tariff", "export_control", "sanctions", "trade_talks", "military",
                                           "policy", "Tariff", ""]), ARG_TEXT),
    "direction": st.one_of(st.sampled_from(["escalation", "de-escalation", "deescalation", ""]), ARG_TEXT),
    "severity": st.one_of(st.integers(-2, 8).map(str), NUMBERS),
    "countries": st.one_of(st.sampled_from(["US;CN", "us", ";", "US;;CN", ""]), ARG_TEXT),
    "assets": st.one_of(st.sampled_from(["SPY;rare_earths", "spy", "REMX;", "0700.HK", ""]), ARG_TEXT),
    "source": st.one_of(st.sampled_from(["https://example.com/x", "ftp://x", "http://", "javascript:alert(1)", ""]),
                        ARG_TEXT),
    "notes": ARG_TEXT,
    "chain": st.one_of(st.sampled_from(["us-cn-1", "a b", "x/y:z", ""]), ARG_TEXT),
    "stage": st.one_of(st.sampled_from(["announced", "official", "effective", "Announced", ""]), ARG_TEXT),
    "public_at": st.one_of(
        st.sampled_from(["2019-05-05T14:08-04:00", "2019-05-05T14:08", "2019-05-05T14:08Z", "2019-05-05T25:00-04:00",
                         "2019-05-05T14:08+14:30", "2019-05-06T02:00+08:00", "now", ""]),
        DATES,
    ),
}


@st.composite
def event_files(draw) -> bytes:
    """An events CSV with a fuzzed header (columns dropped, shuffled, unknown) and 0-3 fuzzed rows, or junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    columns = draw(st.lists(st.sampled_from(EVENT_COLUMNS), unique=True, min_size=0, max_size=12))
    if draw(st.integers(0, 3)):  # mostly a usable header: the required columns first
        columns = EVENT_COLUMNS[:5] + [c for c in columns if c not in EVENT_COLUMNS[:5]]
    if draw(st.integers(0, 5)) == 0:
        columns.append(draw(st.sampled_from(["extra", "", "DATE", "date"])))
    rows = []
    for _ in range(draw(st.integers(0, 3))):
        base = {"date": "2019-05-06", "title": "Tariff fuzz", "category": "tariff", "direction": "escalation",
                "severity": "4", "countries": "US;CN", "assets": "", "source": "https://example.com/a", "notes": "",
                "chain": "", "stage": "", "public_at": ""}
        for column in draw(st.lists(st.sampled_from(EVENT_COLUMNS), unique=True, max_size=2)) * draw(st.booleans()):
            base[column] = draw(CELLS[column])
        rows.append([base.get(c, "") for c in columns])
    out = io.StringIO()
    if draw(st.booleans()):
        writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
        writer.writerow(columns)
        writer.writerows(rows)
    else:  # naive joining: unbalanced quotes, stray commas and newlines stay as typed
        out.write("\n".join(",".join(cells) for cells in [columns, *rows]))
    prefix = draw(st.sampled_from(["", "", "\ufeff"]))
    return (prefix + out.getvalue()).encode(draw(st.sampled_from(["utf-8", "utf-8", "utf-16"])), "surrogatepass")


_LOCATED = re.compile(r"^.+:\d+(:[^:]*)?: ")


@fuzz(60)
@given(content=event_files(), command=st.sampled_from(["validate", "validate --alone", "list", "triggers"]))
def test_events_commands_with_fuzzed_event_files(content, command):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.csv"
        path.write_bytes(content)
        if command.startswith("validate"):
            args = ["events", *command.split(), str(path)]
            result = _invoke(args)
            lines = _lines(result.stderr)
            assert all(_LOCATED.match(line) or line.startswith("Error:") for line in lines), (args, result.stderr)
            assert (result.exit_code == 0) == (lines == []), (args, result.stderr)
            return
        if command == "list":
            args = ["events", "list", "--no-curated", "--events", str(path), "--json"]
        else:
            args = ["triggers", "tariff-shock-hedge", "--source", "demo", "--start", "2019-04-01", "--end",
                    "2019-06-28", "--events", str(path)]
        _run(args)


# --- data import: fuzzed price CSVs into a temporary cache ---------------------------------------------

TICKERS = st.one_of(
    *[st.sampled_from(["SPY", "spy", "GLD", "0700.HK", "BRK-B", "^VIX"])] * 4,
    st.sampled_from(["X" * 60, "\u00fcn\u00efcode", "A B", ".hidden", "-dash", "CON", "nul", "a.b.c"]),
    st.text(alphabet="ABCXYZabc0123456789.-_ ", min_size=1, max_size=12),
)
HEADERS = ["Date,Close", "Date,Open,High,Low,Close,Adj Close,Volume", "date,close", "Close,Date", "Date", "",
           "Date,Close,Extra", "\ufeffDate,Close", "Date;Close", "Date,Adj Close"]


@st.composite
def price_files(draw) -> bytes:
    """A price CSV: a header, then rows of (often increasing, often valid) dates and fuzzed closes, or junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    header = draw(st.one_of(*[st.sampled_from(HEADERS[:3])] * 3, st.sampled_from(HEADERS), ARG_TEXT))
    width = len(header.split(","))
    day = draw(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        day += dt.timedelta(days=draw(st.integers(-2, 20)) if draw(st.integers(0, 9)) == 0 else 1)
        date = day.isoformat() if draw(st.integers(0, 9)) else draw(DATES)
        close = repr(draw(st.floats(1, 2))) if draw(st.integers(0, 9)) else draw(NUMBERS)
        cells = [date] + [close] * max(width - 1, 1)
        rows.append(",".join(cells))
    return "\n".join([header, *rows]).encode("utf-8", "surrogatepass")


@fuzz(45)
@given(
    content=price_files(),
    ticker=TICKERS,
    suffix=st.sampled_from([".csv", ".csv", ".CSV", ".txt", ""]),
    allow=st.booleans(),
)
def test_data_import_with_fuzzed_price_files(content, ticker, suffix, allow):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (ticker + suffix)
        path.write_bytes(content)
        args = ["data", "import", str(path), "--data-dir", str(Path(tmp) / "cache")]
        result = _run(args + (["--allow-extreme-moves"] if allow else []))
        if result.exit_code == 0:
            listed = _run(["data", "list", "--json", "--data-dir", str(Path(tmp) / "cache")])
            assert listed.exit_code == 0


# --- triggers and run on the demo market, short periods -----------------------------------------------


@st.composite
def periods(draw) -> list[str]:
    """--start/--end: a short valid period on the demo market (up to ~6 weeks), or malformed dates."""
    if draw(st.integers(0, 3)):
        start = draw(st.dates(min_value=dt.date(2009, 11, 1), max_value=dt.date(2026, 12, 31)))
        end = start + dt.timedelta(days=draw(st.integers(-5, 45)))
        return ["--start", start.isoformat(), "--end", end.isoformat()]
    return ["--start", draw(DATES), "--end", draw(DATES)]


def _with_sets(args: list[str], overrides: list[str]) -> list[str]:
    for override in overrides:
        args += ["--set", override]
    return args


@fuzz(30)
@given(strategy=st.sampled_from(SHIPPED), period=periods(), overrides=st.lists(SETS, max_size=2),
       as_json=st.booleans())
def test_triggers_with_fuzzed_periods_and_overrides(strategy, period, overrides, as_json):
    args = _with_sets(["triggers", strategy, "--source", "demo", *period], overrides)
    _run(args + (["--json"] if as_json else []))


@fuzz(20)
@given(
    strategy=st.sampled_from(SHIPPED),
    period=periods(),
    overrides=st.lists(PLAUSIBLE_SETS, max_size=2),
    executor=st.sampled_from(["fast", "fast", "backtrader"]),
    extra=st.lists(
        st.sampled_from([["--benchmark", "GLD"], ["--benchmark", "zzz"], ["--tearsheet-benchmark", "base"],
                         ["--tearsheet-benchmark", "xyz"], ["--json"], ["--verbose"], ["--force"]]),
        max_size=1,
    ),
)
def test_run_on_the_demo_market_with_fuzzed_input(strategy, period, overrides, executor, extra):
    with tempfile.TemporaryDirectory() as tmp:
        args = ["run", strategy, "--source", "demo", *period, "--no-tearsheet", "--executor", executor,
                "--out", str(Path(tmp) / "run")]
        for option in extra:
            args += option
        result = _run(_with_sets(args, overrides))
        if result.exit_code == 0:
            assert (Path(tmp) / "run" / "manifest.json").is_file()


# --- sweep: tiny fuzzed grids -------------------------------------------------------------------------

SWEEP_KEYS = ["response.hold_days", "response.hedge_fraction", "response.step_out", "triggers.tariffs.lag",
              "triggers.tariffs.min_severity", "response.on_deescalation", "rebalance.schedule", "universe.SPY",
              'universe."0700.HK"', "name", "start", "cash", "nope", "response"]
SMALL = st.one_of(st.integers(-1, 8).map(str), st.sampled_from(["0.5", "0.05", "1.0", "nan", "inf", "x", "", "1e308"]))
STEPS = st.sampled_from(["1", "2", "0.5", "0.25", "0", "-1", "1e-9", "nan", "inf", "x", ""])
GRID_VALUES = st.one_of(
    st.lists(st.one_of(SMALL, VALUES), min_size=1, max_size=3).map(",".join),
    st.tuples(SMALL, SMALL, STEPS).map(":".join),
    ARG_TEXT,
)

GRID_KEYS = st.one_of(st.sampled_from(SWEEP_KEYS), KEYS)
PLAUSIBLE_GRIDS = st.sampled_from([
    ("response.hold_days", "5,10"), ("response.hold_days", "1:30:10"), ("response.hedge_fraction", "0.25,0.5,1"),
    ("response.hedge_fraction", "0.1:0.9:0.4"), ("triggers.tariffs.min_severity", "2,3,4"),
    ("triggers.tariffs.lag", "0,1,5"), ("response.on_deescalation", "exit,hold"),
    ("rebalance.schedule", "monthly,daily"), ("response.step_out", "0.25,1"), ("universe.SPY", "0.3,0.4"),
])


@fuzz(15)
@given(
    grids=st.lists(
        st.one_of(
            PLAUSIBLE_GRIDS, PLAUSIBLE_GRIDS, st.tuples(GRID_KEYS, GRID_VALUES)
        ),
        min_size=1,
        max_size=2,
    ),
    options=st.lists(
        st.one_of(
            st.tuples(st.just("--top"), st.integers(-1, 30).map(str)),
            st.tuples(st.just("--random"), st.integers(-1, 4).map(str)),
            st.tuples(st.just("--seed"), st.one_of(st.integers(-5, 10**20).map(str), NUMBERS)),
            st.tuples(st.just("--train-until"), st.one_of(st.sampled_from(["2010-04-01", "2010-06-29"]), DATES)),
            st.tuples(st.just("--walk-forward"), st.integers(-2, 40).map(str)),
            st.tuples(st.just("--objective"), st.sampled_from(["sharpe", "calmar", "max_drawdown", "cagr", "x"])),
        ),
        max_size=3,
    ),
    malformed_grid=st.booleans(),
)
def test_sweep_with_fuzzed_grids(grids, options, malformed_grid):
    with tempfile.TemporaryDirectory() as tmp:
        args = ["sweep", "tariff-shock-hedge", "--source", "demo", "--start", "2010-02-01", "--end", "2010-06-30",
                "--out", str(Path(tmp) / "sweep")]
        for key, values in grids:
            args += ["--grid", f"{key}{'' if malformed_grid and key == grids[0][0] else '='}{values}"]
        for option in options:
            args += list(option)
        result = _run(args)
        if result.exit_code == 0:
            assert (Path(tmp) / "sweep" / "summary.json").is_file()
