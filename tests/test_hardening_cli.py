"""Hostile input and faults at the command line: one clear line, the documented exit code, no computation wasted.

Each test pins one item of the hardening issue (numbered as there):

- 5: absurd values, a binary spec, bad sweep options and over-long names are user errors
  (exit 2, one line, never "internal error");
- 6: output locations that cannot be written fail in one line naming the path (exit 1)
  BEFORE prices are loaded or anything is computed;
- 7: ``--debug`` adds the traceback and never changes the exit code;
- 9: unsweepable keys, an absurd cash and an incomplete run folder are named as such;
- 10: a weekend period, a start before the data and ``run --help`` say what is true;
- 12: dotted and lower-case tickers.

Expected lines are written out by hand from the documented wording (README), not
copied from a run.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from backtests.cli import cli

HUGE = "99999999999999999999999999"
SHORT_DEMO = ("--source", "demo", "--start", "2019-05-01", "--end", "2019-05-31", "--no-tearsheet")
STRATEGIES = Path(__file__).resolve().parents[1] / "strategies"


def _invoke(*args: str, env: dict[str, str] | None = None):
    result = CliRunner(env=env).invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def _one_line(result, code: int) -> str:
    """The single stderr line of a failed command (after any progress lines), checked for the essentials."""
    assert result.exit_code == code, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and result.stderr.splitlines()[-1] == errors[0], result.stderr
    return errors[0]


@pytest.fixture
def no_computation(monkeypatch):
    """Fail the test if prices are loaded or a run or sweep is computed."""

    def refuse(*args, **kwargs):
        raise AssertionError("the computation started before the output location was checked")

    targets = [
        (importlib.import_module(module), name)  # every module imported BEFORE any patch, so none binds `refuse`
        for module, name in (
            ("backtests.inputs", "load_inputs"),
            ("backtests.api", "load_inputs"),
            ("backtests.pipeline", "run_strategy"),
            ("backtests.sweeps.runner", "run_sweep"),
        )
    ]
    for module, name in targets:
        monkeypatch.setattr(module, name, refuse)


@contextlib.contextmanager
def _unwritable(path: Path):
    """Make ``path`` unwritable: ``chattr +i`` for root (mode bits do not stop root), else mode bits."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o755 if path.is_dir() else 0o644)


# --- 5: hostile values are one-line user errors ------------------------------------------------------


@pytest.mark.parametrize(
    "key, bound",
    [("response.hold_days", ">= 1"), ("triggers.tariffs.lag", ">= 0")],
)
@pytest.mark.parametrize("command", [("show",), ("run", *SHORT_DEMO)])
def test_a_huge_integer_in_set_is_out_of_range_in_one_line(command, key, bound, tmp_path, no_computation):
    result = _invoke(command[0], "tariff-shock-hedge", *command[1:], "--set", f"{key}={HUGE}")
    assert _one_line(result, 2) == f"Error: --set: {key} = '{HUGE}' is out of range; expected a int {bound}"


def test_a_binary_spec_file_is_one_line(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_bytes(b"\xff\xfe\x00\x81name = \x00\xc3(\n")
    result = _invoke("show", str(spec))
    assert _one_line(result, 2) == f"Error: {spec}: not a UTF-8 text file; save the spec as UTF-8 TOML"
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "option, line",
    [
        (("--top", "0"), "Error: Invalid value for '--top': 0 is not in the range x>=1. (see 'cli sweep --help')"),
        (
            ("--random", "1", "--seed", "-5"),
            "Error: Invalid value for '--seed': -5 is not in the range x>=0. (see 'cli sweep --help')",
        ),
    ],
)
def test_bad_sweep_counts_are_usage_errors(option, line, no_computation):
    result = _invoke("sweep", "tariff-shock-hedge", "--source", "demo", "--grid", "response.hold_days=5,10", *option)
    assert _one_line(result, 2) == line
    assert result.stderr.splitlines() == [line]


@pytest.mark.parametrize("kind", ["name", "path"])
@pytest.mark.parametrize("command", [("show",), ("run", *SHORT_DEMO), ("triggers", "--source", "demo")])
def test_a_5000_character_strategy_is_one_line(kind, command, tmp_path, no_computation):
    if kind == "name":
        strategy = "a" * 5000
    else:  # many folder levels, each a legal name, 5,000 characters in all
        strategy = (str(tmp_path) + "/" + "/".join(["d" * 99] * 60))[: 5000 - len(".toml")] + ".toml"
    assert len(strategy) == 5000
    result = _invoke(command[0], strategy, *command[1:])
    assert _one_line(result, 2) == (
        f"Error: strategy {strategy[:40]!r}... is too long for a file name; give a shipped name or a real .toml path"
    )


# --- 6: unwritable output locations, checked before any computation ---------------------------------


def test_run_out_blocked_by_a_file_fails_before_computing(tmp_path, no_computation):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    result = _invoke("run", "tariff-shock-hedge", *SHORT_DEMO, "--out", str(blocker))
    assert _one_line(result, 1) == f"Error: --out {blocker}: it is a file, not a folder; choose another folder"
    result = _invoke("run", "tariff-shock-hedge", *SHORT_DEMO, "--out", str(blocker / "run"))
    assert _one_line(result, 1) == (
        f"Error: --out {blocker / 'run'} cannot be written: {blocker} is a file, not a folder; choose another folder"
    )
    assert blocker.read_text() == "not a folder"


def test_run_out_in_a_read_only_folder_fails_before_computing(tmp_path, no_computation):
    locked = tmp_path / "locked"
    locked.mkdir()
    reason = "Operation not permitted" if os.geteuid() == 0 else "Permission denied"
    with _unwritable(locked):
        result = _invoke("run", "tariff-shock-hedge", *SHORT_DEMO, "--out", str(locked / "run"))
    assert _one_line(result, 1) == (
        f"Error: --out {locked / 'run'} cannot be written: {locked} is not writable ({reason}); choose another folder"
    )


def test_a_reports_dir_that_is_a_file_fails_before_computing(tmp_path, no_computation):
    blocker = tmp_path / "reports"
    blocker.write_text("not a folder")
    for args in (
        ("run", "tariff-shock-hedge", *SHORT_DEMO),
        ("sweep", "tariff-shock-hedge", "--source", "demo", "--grid", "response.hold_days=5,10"),
    ):
        result = _invoke(*args, env={"BACKTEST_REPORTS_DIR": str(blocker)})
        line = _one_line(result, 1)
        assert line == f"Error: reports folder {blocker}: it is a file, not a folder; choose another folder"
        assert result.stderr.splitlines() == [line]


def test_a_data_dir_that_is_a_file_is_refused_in_one_line(tmp_path, no_computation):
    """--data-dir FILE: click's folder check refuses it as a usage error (exit 2, one line);
    a data dir UNDER a file passes click and the cache check refuses it (exit 1, one line)."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    result = _invoke("run", "tariff-shock-hedge", *SHORT_DEMO, "--data-dir", str(blocker))
    assert result.stderr.splitlines() == [
        f"Error: Invalid value for '--data-dir': Directory '{blocker}' is a file. (see 'cli run --help')"
    ]
    assert result.exit_code == 2
    imported = _invoke("data", "import", str(tmp_path), "--data-dir", str(blocker / "cache"))
    assert _one_line(imported, 1) == (
        f"Error: cannot write to the data folder {blocker / 'cache' / 'prices'} (a file is in the way); fix it or "
        "choose another folder with --data-dir or BACKTEST_DATA_DIR"
    )
    assert imported.stderr.count("\n") == 1


@pytest.mark.parametrize("case", ["a folder", "under a file", "a read-only file"])
def test_save_best_that_cannot_be_written_fails_before_computing(case, tmp_path, no_computation):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    existing = tmp_path / "best.toml"
    existing.write_text("# mine\n")
    path, reason = {
        "a folder": (tmp_path, f"Error: --save-best {tmp_path}: it is a folder, not a file; give a file name"),
        "under a file": (
            blocker / "best.toml",
            (f"Error: --save-best {blocker / 'best.toml'} cannot be written: {blocker} is a file, not a folder; "
            "choose another path"),
        ),
        "a read-only file": (
            existing,
            f"Error: --save-best {existing} cannot be written: it is read-only; choose another path",
        ),
    }[case]
    args = ("sweep", "tariff-shock-hedge", "--source", "demo", "--grid", "response.hold_days=5,10")
    with _unwritable(existing) if case == "a read-only file" else contextlib.nullcontext():
        result = _invoke(*args, "--save-best", str(path), "--out", str(tmp_path / "sweep"))
    assert _one_line(result, 1) == reason
    assert existing.read_text() == "# mine\n" and blocker.read_text() == "not a folder"


def test_save_best_into_a_missing_folder_creates_it(tmp_path):
    """A folder that does not exist yet is not a problem: it is created, as for --out (documented)."""
    best = tmp_path / "new" / "deeper" / "best.toml"
    result = _invoke(
        "sweep", "tariff-shock-hedge", "--source", "demo", "--start", "2019-01-01", "--end", "2019-06-30",
        "--grid", "response.hold_days=5,10", "--save-best", str(best), "--out", str(tmp_path / "sweep"),
    )
    assert result.exit_code == 0, result.stderr
    assert tomllib.loads(best.read_text())["response"]["hold_days"] in (5, 10)


EVENT = ("--date", "2025-04-02", "--title", "Tariff test", "--category", "tariff", "--direction", "escalation",
         "--severity", "3")


@pytest.mark.parametrize("case", ["a read-only file", "a read-only folder", "under a file", "a folder"])
def test_events_add_to_an_unwritable_file_is_one_line(case, tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("date,title,category,direction,severity\n")
    locked = tmp_path / "locked"
    locked.mkdir()
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    denied = "Operation not permitted" if os.geteuid() == 0 else "Permission denied"
    target, unwritable, line = {
        "a read-only file": (
            events, events, f"Error: events file {events} cannot be written: it is read-only; choose another path"
        ),
        "a read-only folder": (
            locked / "events.csv", locked,
            (f"Error: events file {locked / 'events.csv'} cannot be written: {locked} is not writable ({denied}); "
            "choose another path"),
        ),
        "under a file": (
            blocker / "events.csv", None,
            (f"Error: events file {blocker / 'events.csv'} cannot be written: {blocker} is a file, not a folder; "
            "choose another path"),
        ),
        "a folder": (locked, None, f"Error: events file {locked}: it is a folder, not a file; give a file name"),
    }[case]
    with _unwritable(unwritable) if unwritable else contextlib.nullcontext():
        result = _invoke("events", "add", str(target), *EVENT, "--no-curated")
    assert _one_line(result, 1) == line
    assert result.stderr.count("\n") == 1
    assert events.read_text() == "date,title,category,direction,severity\n"
    assert list(locked.iterdir()) == []


# --- 7: --debug never changes the exit code ----------------------------------------------------------


@pytest.mark.parametrize(
    "args, code, line",
    [
        (
            ("show", "tariff-shock-hedge", "--set", "response.hold_days=x"),
            2,
            "Error: --set: response.hold_days = 'x' is not valid; expected a int >= 1",
        ),
        (("events", "add", "{blocker}/events.csv", *EVENT), 1, None),
    ],
)
def test_debug_adds_the_traceback_and_keeps_the_exit_code(args, code, line, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    args = tuple(a.replace("{blocker}", str(blocker)) for a in args)
    plain = _invoke(*args)
    debug = _invoke("--debug", *args)
    assert plain.exit_code == debug.exit_code == code
    assert plain.stderr.splitlines() == [plain.stderr.splitlines()[-1]]
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.splitlines()[-1] == plain.stderr.splitlines()[-1]
    if line is not None:
        assert plain.stderr.splitlines() == [line]


# --- 9: refused keys and values; an incomplete run folder ---------------------------------------------


def test_sweeping_the_name_is_refused(no_computation):
    result = _invoke("sweep", "tariff-shock-hedge", "--source", "demo", "--grid", "name=a,b")
    assert _one_line(result, 2) == (
        "Error: --grid name: cannot be swept (every configuration uses the same period, data and name); "
        "set one value for the whole sweep instead"
    )


@pytest.mark.parametrize("command", [("show",), ("run", *SHORT_DEMO)])
def test_an_absurd_cash_names_the_allowed_range(command, no_computation):
    result = _invoke(command[0], "tariff-shock-hedge", *command[1:], "--set", "cash=1e308")
    assert _one_line(result, 2) == "Error: --set: cash = '1e308' is out of range; expected a float >= 1 and <= 1e+12"


def test_report_open_on_an_empty_manifest_says_incomplete(tmp_path):
    reports = tmp_path / "reports"
    folder = reports / "tariff-shock-hedge" / "20200101T000000Z-abcdef"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    line = f"Error: run folder {folder} is incomplete (no valid manifest.json)"
    for reference in (str(folder), "tariff-shock-hedge/20200101T000000Z-abcdef", "20200101T000000Z-abcdef"):
        result = _invoke("report", "open", reference, env={"BACKTEST_REPORTS_DIR": str(reports)})
        assert _one_line(result, 1) == line
        assert "unknown" not in result.stderr


# --- 10: what the run says about its period; what --help promises -----------------------------------


def test_a_weekend_period_says_there_are_no_sessions(tmp_path):
    result = _invoke(
        "run", "tariff-shock-hedge", "--source", "demo", "--start", "2020-01-04", "--end", "2020-01-05",
        "--no-tearsheet", "--out", str(tmp_path / "run"),
    )
    assert _one_line(result, 2) == (
        "Error: fewer than two trading days from 2020-01-04 to 2020-01-05: the XNYS calendar has 0 sessions in "
        "that range (weekends and holidays have none); widen --start/--end"
    )
    assert "run from" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_a_friday_and_weekend_is_one_session():
    result = _invoke(
        "triggers", "tariff-shock-hedge", "--source", "demo", "--start", "2020-01-03", "--end", "2020-01-05",
    )
    assert _one_line(result, 2).startswith(
        "Error: fewer than two trading days from 2020-01-03 to 2020-01-05: the XNYS calendar has 1 session in that"
    )


def _notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Note: the run starts")]


def test_a_start_before_the_demo_market_names_the_tickers_that_limit_it(tmp_path):
    """The demo market starts on 2010-01-04 and every ticker of the spec was listed before: all limit it."""
    result = _invoke(
        "run", "tariff-shock-hedge", "--source", "demo", "--start", "1900-01-01", "--end", "2010-02-26",
        "--executor", "fast", "--no-tearsheet", "--out", str(tmp_path / "run"),
    )
    assert result.exit_code == 0, result.stderr
    assert _notes(result.stderr) == [
        ("Note: the run starts on 2010-01-04, not 1900-01-01: that is the first price of EEM, FXI, GLD, IEF, QQQ, "
        "SPY, TLT, UUP (none has an earlier one; later-listed tickers follow the late-listing policy)")
    ]


def test_a_ticker_listed_after_the_end_does_not_break_the_start_note(tmp_path):
    """rare-earth-diversify holds MP (listed 2020-06-22) and KWEB (2013-08-01): they have no price before 2012.
    This crashed (None compared with a date) before the fix."""
    result = _invoke(
        "run", "rare-earth-diversify", "--source", "demo", "--start", "1900-01-01", "--end", "2011-12-30",
        "--executor", "fast", "--no-tearsheet", "--out", str(tmp_path / "run"),
    )
    assert result.exit_code == 0, result.stderr
    [note] = _notes(result.stderr)
    assert note.startswith("Note: the run starts on 2010-01-04, not 1900-01-01: that is the first price of ACWI, ")
    assert "MP" not in note.split("(")[0] and "KWEB" not in note.split("(")[0]


def test_a_start_before_real_data_names_spy(shared_data, tmp_path):
    """SPY (first close 1993-01-29) is the oldest of tariff-shock-hedge's tickers in the reference data."""
    result = _invoke(
        "run", "tariff-shock-hedge", "--prices", str(shared_data / "prices"), "--start", "1900-01-01",
        "--end", "1993-06-30", "--executor", "fast", "--no-tearsheet", "--out", str(tmp_path / "run"),
    )
    assert result.exit_code == 0, result.stderr
    assert _notes(result.stderr) == [
        ("Note: the run starts on 1993-01-29, not 1900-01-01: that is the first price of SPY, the ticker with the "
        "longest history (later-listed tickers follow the late-listing policy)")
    ]


def test_run_help_names_every_file_a_run_writes(tmp_path):
    help_text = " ".join(_invoke("run", "--help").stdout.split())
    for name in ("events.html", "returns.csv", "targets.csv", "episodes.csv", "tearsheet.html"):
        assert name in help_text
    result = _invoke("run", "tariff-shock-hedge", *SHORT_DEMO, "--executor", "fast", "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert "episodes.csv" in written and "targets.csv" in written
    assert [name for name in written if name not in help_text] == []


# --- 12: dotted and lower-case tickers ----------------------------------------------------------------


def _shipped_universe() -> dict[str, float]:
    return tomllib.loads((STRATEGIES / "tariff-shock-hedge.toml").read_text())["universe"]


@pytest.mark.parametrize("key", ['universe."0700.HK"', "universe.0700.HK"])
def test_a_dotted_ticker_can_be_set(key):
    result = _invoke("show", "tariff-shock-hedge", "--set", f"{key}=0.2", "--set", "universe.SPY=0.2")
    assert result.exit_code == 0, result.stderr
    assert '"0700.HK" = 0.2' in result.stdout.splitlines()
    expected = {**_shipped_universe(), "SPY": 0.2, "0700.HK": 0.2}
    assert tomllib.loads(result.stdout)["universe"] == expected


def test_lower_case_tickers_in_a_spec_file_are_upper_cased(tmp_path):
    spec = tmp_path / "lower.toml"
    spec.write_text('benchmark = "spy"\n\n[universe]\nspy = 0.6\nagg = 0.4\n\n[hedge]\ngld = 1.0\n')
    result = _invoke("show", str(spec))
    assert result.exit_code == 0, result.stderr
    resolved = tomllib.loads(result.stdout)
    assert resolved["universe"] == {"SPY": 0.6, "AGG": 0.4}
    assert resolved["hedge"] == {"GLD": 1.0}
    assert resolved["benchmark"] == "SPY"
    assert not re.search(r"^(spy|agg|gld) =", result.stdout, flags=re.MULTILINE)


# --- found by the fuzz suite (tests/test_cli_fuzz.py): each crashed with "internal error" before its fix ----


@pytest.mark.parametrize(
    "option, day", [("--start", "0001-01-01"), ("--start", "2263-01-01"), ("--end", "9999-12-31")]
)
def test_a_date_pandas_cannot_hold_is_refused(option, day):
    other = ["--end", "2020-01-31"] if option == "--start" else ["--start", "2020-01-02"]
    result = _invoke("triggers", "tariff-shock-hedge", "--source", "demo", option, day, *other)
    assert _one_line(result, 2) == (
        f"Error: {option}: '{day}' is out of range; use a date from 1677-09-22 to 2262-04-11"
    )


def test_a_price_dated_beyond_2262_is_a_cell_error(tmp_path):
    prices = tmp_path / "SPY.csv"
    prices.write_text("Date,Close\n2262-04-11,1.0\n2263-01-01,1.0\n")
    result = _invoke("data", "import", str(prices), "--data-dir", str(tmp_path / "cache"))
    assert _one_line(result, 2) == (
        f"Error: {prices}:3: column 1 (Date) is '2263-01-01', not a date (YYYY-MM-DD); fix that cell"
    )
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    "cells, problem",
    [
        ("2263-01-01,", "date: '2263-01-01' is out of range; use a date from 1677-09-22 to 2262-04-11"),
        (
            "2020-01-02,2263-01-01T10:00-05:00",
            "public_at: public_at '2263-01-01T10:00-05:00' is out of range; use a time from 1677-09-22 to 2262-04-11",
        ),
    ],
)
def test_an_event_dated_beyond_2262_is_a_cell_error(cells, problem, tmp_path):
    events = tmp_path / "events.csv"
    date, public_at = cells.split(",")
    events.write_text(f"date,title,category,direction,severity,public_at\n{date},Far,tariff,escalation,3,{public_at}\n")
    validated = _invoke("events", "validate", "--alone", str(events))
    assert validated.exit_code == 2 and validated.stderr.splitlines() == [f"{events}:2:{problem}"]
    listed = _invoke("events", "list", "--no-curated", "--events", str(events))
    assert _one_line(listed, 2) == f"Error: {events}:2:{problem}"


@pytest.mark.parametrize(
    "axis, line",
    [
        ("0:0:NaN", "Error: --grid response.hold_days=0:0:NaN: START, STOP and STEP must be numbers"),
        ("1:Infinity:1", "Error: --grid response.hold_days=1:Infinity:1: START, STOP and STEP must be numbers"),
        (
            "0:1e999999:1e-999999",
            ("Error: --grid response.hold_days=0:1e999999:1e-999999: more than 1,000,000 values is too many; "
            "use a larger STEP"),
        ),
    ],
)
def test_a_non_finite_or_endless_grid_range_is_refused(axis, line, no_computation):
    result = _invoke("sweep", "tariff-shock-hedge", "--source", "demo", "--grid", f"response.hold_days={axis}")
    assert _one_line(result, 2) == line


def test_sweeping_a_list_valued_key_works(tmp_path):
    result = _invoke(
        "sweep", "tariff-shock-hedge", "--source", "demo", "--start", "2010-02-01", "--end", "2010-06-30",
        "--grid", "triggers.tariffs.categories=tariff,export_control", "--out", str(tmp_path / "sweep"),
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("2 configurations ranked")


def test_a_reader_that_leaves_early_ends_the_command_quietly():
    """``backtest events list --json`` into a pipe whose reader has already left: it ends quietly
    with 141 (128 + SIGPIPE), as a shell reports it; no "internal error", no traceback."""
    import sys

    command = [sys.executable, "-c", "from backtests.cli import main; main()", "events", "list", "--json"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # the reader is gone before the first event is printed
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141
    assert stderr == ""


def test_the_entry_point_keeps_each_exit_code():
    """``main`` ends the process itself (no interpreter teardown): 0, 2 and the printed line survive."""
    import sys

    def run(*args: str) -> subprocess.CompletedProcess:
        code = "from backtests.cli import main; main()"
        return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)

    ok, bad = run("--version"), run("run", "no-such-strategy")
    assert ok.returncode == 0 and ok.stdout.startswith("geohedge backtest, version")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_a_two_day_run_with_its_tearsheet_prints_no_numpy_warnings(tmp_path):
    """quantstats on two days of returns trips numpy's "Degrees of freedom <= 0" in the tearsheet
    worker; the figures are NaN on the page, and stderr keeps to our own lines."""
    import sys

    code = "from backtests.cli import main; main()"
    args = ["run", "tariff-shock-hedge", "--source", "demo", "--start", "2024-01-02", "--end", "2024-01-03"]
    done = subprocess.run(
        [sys.executable, "-c", code, *args, "--out", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "BACKTEST_DATA_DIR": str(tmp_path / "d")},
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and (tmp_path / "run" / "tearsheet.html").exists()


_RUN = ("run", "tariff-shock-hedge", "--source", "demo", "--start", "2012-01-02", "--end", "2025-12-31")
_SWEEP = (
    *("sweep", "tariff-shock-hedge", "--source", "demo", "--start", "2012-01-02", "--end", "2025-12-31"),
    *("--grid", "response.hold_days=1:250:1", "--train-until", "2020-12-31"),
)
# 25,000 and 100,000 configurations: seconds of simulating on any machine, to land a Ctrl-C in
_SIMULATING = (*_SWEEP, "--grid", "response.hedge_fraction=0.01:1.0:0.01")
_LOCAL2 = (*_SWEEP, "--grid", "response.hedge_fraction=0.0025:1.0:0.0025", "--cluster", "local:2")
_STARTED, _BACKTRADER, _WRITING, _SWEEPING = None, "Running tariff-shock-hedge on", "Writing the", "Sweeping"


@pytest.mark.parametrize(
    ("args", "after", "delay"),
    [
        (_RUN, _STARTED, 0.3),
        (_RUN, _BACKTRADER, 0.5),
        (_RUN, _WRITING, 0.1),
        (_SIMULATING, _SWEEPING, 0.3),
        pytest.param(
            (*_SIMULATING, "--jobs", "2"),
            _SWEEPING,
            1.0,
            marks=pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="--jobs 2 is capped to one job on one core"),
        ),
        (_LOCAL2, _SWEEPING, 0.2),
        (_LOCAL2, _SWEEPING, 3.0),
    ],
    ids=[
        "run-loading",
        "run-backtrader",
        "run-writing",
        "sweep-simulating",
        "jobs2-simulating",
        "local2-starting",
        "local2-simulating",
    ],
)
def test_ctrl_c_during_a_command_leaves_no_process_folder_or_temporary_file(tmp_path, args, after, delay):
    """Ctrl-C (SIGINT to the terminal's process group) while the spec loads, while backtrader runs
    beside the early tearsheet, or while the pages are written; while a sweep's worker simulates;
    while a LocalCluster starts or its workers simulate: exit 130 with "Interrupted."
    and no traceback (not even from a worker still importing, or from dask's scheduler losing its
    workers), no leaked semaphores, every worker gone, the reserved run folder and the worker's
    private folder removed. The signal is timed from the stderr line that starts the phase, so it
    lands in that phase on a fast machine too; wherever it lands the same must hold."""
    reports, scratch = tmp_path / "reports", tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "BACKTEST_REPORTS_DIR": str(reports), "TMPDIR": str(scratch)}
    process, err, sent = _interrupt(args, delay, env, after=after)
    if not sent:
        pytest.skip(f"the command finished within {delay} s of the line {after!r}")
    assert process.returncode == 130 and err.splitlines()[-1] == "Interrupted.", err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "ERROR" not in err and "WARNING" not in err and "leaked" not in err, err
    _assert_nothing_outlives(process.pid)
    assert not any(p.is_dir() for p in (reports / "tariff-shock-hedge").glob("*")) if reports.exists() else True
    # dask keeps its shared workspace (two lock files) in the temporary folder after any cluster, by design
    assert [p.name for p in scratch.iterdir() if p.name != "dask-scratch-space"] == []
    assert sorted(p.name for p in scratch.glob("dask-scratch-space/*")) in ([], ["global.lock", "purge.lock"])


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="--jobs 2 is capped to one job on one core")
def test_a_finished_sweep_with_two_jobs_leaves_no_process(tmp_path):
    """joblib's loky workers outlived a --jobs 2 sweep by five minutes (their idle timeout), holding
    memory; the processes are now the sweep's own, closed when it ends."""
    import sys

    env = {**os.environ, "BACKTEST_REPORTS_DIR": str(tmp_path / "reports")}
    code = "import sys; sys.argv[0] = 'backtest'; from backtests.cli import main; main()"
    args = [*_SWEEP, "--grid", "response.hedge_fraction=0.25:1.0:0.25", "--jobs", "2"]
    command = [sys.executable, "-c", code, *args]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "(fast executor, 2 job(s))" in err
    _assert_nothing_outlives(process.pid)


def _assert_nothing_outlives(group: int) -> None:
    """No worker of the finished command ``group`` is left; multiprocessing's resource tracker
    follows within seconds once the command is gone."""
    import time

    assert not [c for c in _group_commands(group) if "spawn_main" in c or "loky" in c], "a worker outlived the command"
    deadline = time.monotonic() + 10
    while _group_commands(group):
        assert time.monotonic() < deadline, f"outlived the command: {_group_commands(group)}"
        time.sleep(0.05)


def test_ctrl_c_while_a_worker_starts_prints_no_traceback(tmp_path):
    """A worker spawned a moment before Ctrl-C is still starting Python when the signal reaches the
    process group: it must already ignore SIGINT (it is spawned with SIGINT blocked), or it
    prints a KeyboardInterrupt traceback from its imports (or "Fatal Python error"). The window
    is a few tens of milliseconds, a fraction of a second in, so the signal is sent at many moments.
    Meanwhile this process imports pandas: a Ctrl-C there is raised once the import is complete
    (``cli.interrupts``), never dropped (exit 0) nor turned into an ImportError (exit 1)."""
    env = {**os.environ, "BACKTEST_REPORTS_DIR": str(tmp_path / "reports")}
    for delay in [0.025 * i for i in range(20)]:
        process, err, _sent = _interrupt(_SWEEP, delay, env)
        assert process.returncode == 130 and err.splitlines()[-1] == "Interrupted.", f"at {delay:.3f} s: {err}"
        worker_noise = ("multiprocessing", "spawn_main", "Fatal Python error")
        assert not any(text in err for text in worker_noise), f"at {delay:.3f} s: {err}"


def _interrupt(
    args: tuple[str, ...], delay: float, env: dict[str, str], after: str | None = None
) -> tuple[subprocess.Popen, str, bool]:
    """Start ``backtest ARGS`` in a new process group, send the group SIGINT ``delay`` seconds after
    its Ctrl-C handler is installed, or after it prints a stderr line starting with ``after`` (as a
    terminal's Ctrl-C does), wait: (the finished process, its stderr, whether the signal was sent
    while it ran). Before the handler, Python itself is starting and importing click: a Ctrl-C
    there is Python's (README)."""
    import select
    import signal
    import sys
    import time

    ready, tell = os.pipe()
    # SIGINT handled as from a terminal, even when these tests run in a shell's background job (which ignores it)
    code = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from backtests.cli import main; from backtests.cli.interrupts import install; install(); "
        f"os.write({tell}, b'.'); sys.argv[0] = 'backtest'; main()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        pass_fds=(tell,),
    )
    os.close(tell)
    try:
        assert select.select([ready], [], [], 60)[0] and os.read(ready, 1) == b".", "the command never started"
    finally:
        os.close(ready)
    head = ""  # what it printed up to the line ``after``, read here; communicate reads the rest
    if after is not None:
        for line in iter(process.stderr.readline, ""):
            head += line
            if line.startswith(after):
                break
    time.sleep(delay)
    sent = process.poll() is None
    try:
        os.killpg(process.pid, signal.SIGINT)
    except ProcessLookupError:
        sent = False  # finished first: nothing to interrupt on a fast machine
    _out, err = process.communicate(timeout=120)
    return process, head + err, sent


def _group_commands(group: int) -> list[str]:
    """Command lines of the live processes in process group ``group`` (Linux ``/proc``)."""
    commands = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and fields[0] != "Z":
                commands.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
    return commands
