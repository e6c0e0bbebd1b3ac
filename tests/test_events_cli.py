"""``backtest events list/show/validate/add``: outputs, exit codes and exact error texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backtests.cli import cli
from backtests.events import calendar

FIXTURES = Path(__file__).parent / "fixtures" / "events"
GOOD = str(FIXTURES / "good.csv")
CHAINS = str(FIXTURES / "chains.csv")
JSON_KEYS = {
    "date", "title", "category", "direction", "severity", "countries", "assets", "source", "notes",
    "chain", "stage", "public_at", "origin",
}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(autouse=True)
def fixture_curated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The curated calendar is a small fixture here, so tests do not depend on the shipped one."""
    monkeypatch.setattr(calendar, "curated_events_dir", lambda: FIXTURES / "curated")


# --- validate ------------------------------------------------------------------------------

BAD_FILES = [
    (
        "bad_date.csv",
        [
            "3:date: '2019-13-45' is not a valid date; use YYYY-MM-DD, e.g. 2019-05-10",
            "4:date: '05/10/2019' is not a valid date; use YYYY-MM-DD, e.g. 2019-05-10",
        ],
    ),
    (
        "bad_category.csv",
        [
            "2:category: unknown category 'tarif'; use one of tariff, export_control, sanctions, "
            "trade_talks, military, policy"
        ],
    ),
    (
        "bad_severity.csv",
        [
            "2:severity: severity 9 is out of range; use an integer from 1 to 5",
            "3:severity: severity '2.5' is not an integer; use an integer from 1 to 5",
        ],
    ),
    (
        "missing_column.csv",
        ["1:severity: missing required column 'severity'; the header needs date,title,category,direction,severity"],
    ),
    ("duplicate.csv", ["4:title: duplicate of line 2 (same date, title and category); remove one of the two lines"]),
    ("non_utf8.csv", ["3:title: byte 0xe9 is not UTF-8 text; save the file as UTF-8"]),
    ("empty.csv", ["1: empty file, no events; start with the header line date,title,category,direction,severity"]),
]


@pytest.mark.parametrize(("name", "messages"), BAD_FILES)
def test_validate_bad_file_exits_2_with_each_problem_on_one_line(name: str, messages: list[str]) -> None:
    path = str(FIXTURES / name)
    result = run("events", "validate", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"{path}:{m}" for m in messages]
    assert result.stdout == ""


def test_validate_good_files_counts_events() -> None:
    user = str(FIXTURES / "user.csv")
    result = run("events", "validate", GOOD, user)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"{GOOD}: 6 events, valid", f"{user}: 2 events, valid"]


def test_validate_mixed_files_reports_all_and_exits_2() -> None:
    bad = str(FIXTURES / "bad_category.csv")
    result = run("events", "validate", GOOD, bad)
    assert result.exit_code == 2
    assert result.stdout == f"{GOOD}: 6 events, valid\n"
    assert result.stderr.startswith(f"{bad}:2:category: unknown category 'tarif'")


# --- list ----------------------------------------------------------------------------------


def test_list_json_is_an_array_with_required_keys_and_nothing_else_on_stdout() -> None:
    result = run("events", "list", "--no-curated", "--events", GOOD, "--json")
    assert result.exit_code == 0
    records = json.loads(result.stdout)
    assert isinstance(records, list) and len(records) == 6
    assert all(set(r) == JSON_KEYS for r in records)
    assert records[0] == {
        "date": "2018-03-01",
        "title": "US announces steel and aluminium tariffs",
        "category": "tariff",
        "direction": "escalation",
        "severity": 4,
        "countries": ["US"],
        "assets": ["steel", "XLI"],
        "source": "https://example.com/steel",
        "notes": "Section 232",
        "chain": "",
        "stage": "announced",
        "public_at": None,
        "origin": "good.csv:2",
    }


def test_list_json_shows_chain_stage_and_public_at_in_new_york_time() -> None:
    result = run("events", "list", "--no-curated", "--events", CHAINS, "--json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [(r["chain"], r["stage"], r["public_at"]) for r in records] == [
        ("us-cn-list3-hike-2019", "announced", "2019-05-05T14:08-04:00"),
        ("us-cn-list3-hike-2019", "official", "2019-05-09T08:30-04:00"),
        ("us-cn-list3-hike-2019", "effective", None),
        ("", "announced", "2019-05-13T16:00-04:00"),  # written 20:00Z in the file
    ]


@pytest.mark.parametrize(
    ("options", "dates"),
    [
        (["--category", "tariff"], ["2018-03-01", "2018-07-06", "2019-05-10"]),
        (["--category", "export_control,sanctions"], ["2019-05-15", "2022-02-26"]),
        (["--category", "sanctions", "--category", "trade_talks"], ["2019-12-13", "2022-02-26"]),
        (["--direction", "de-escalation"], ["2019-12-13"]),
        (["--min-severity", "5"], ["2019-05-10", "2022-02-26"]),
        (["--since", "2019-05-15", "--until", "2019-12-13"], ["2019-05-15", "2019-12-13"]),
        (["--category", "tariff", "--min-severity", "5"], ["2019-05-10"]),
    ],
)
def test_list_filters(options: list[str], dates: list[str]) -> None:
    result = run("events", "list", "--no-curated", "--events", GOOD, "--json", *options)
    assert result.exit_code == 0, result.output
    assert [r["date"] for r in json.loads(result.stdout)] == dates


def test_list_combines_curated_and_user_file() -> None:
    result = run("events", "list", "--events", str(FIXTURES / "user.csv"), "--json")
    assert [r["origin"] for r in json.loads(result.stdout)] == [
        "calendar.csv:2",
        "user.csv:2",
        "calendar.csv:3",
        "user.csv:3",
    ]


def test_list_table_shows_the_columns_in_order() -> None:
    result = run("events", "list", "--direction", "de-escalation")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "date        category     direction      severity  title",
        "2019-06-29  trade_talks  de-escalation  3         Fixture curated: summit",
    ]
    assert result.stderr == "1 of 2 events match\n"


def test_list_with_no_match_prints_no_table() -> None:
    result = run("events", "list", "--category", "military")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "0 of 2 events match\n")


def test_list_unknown_category_exits_2() -> None:
    result = run("events", "list", "--no-curated", "--events", GOOD, "--category", "tariff,tarif")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: Invalid value for '--category': unknown category 'tarif'; use one of tariff, export_control, "
        "sanctions, trade_talks, military, policy (see 'cli events list --help')"
    ]


def test_list_bad_file_exits_2_with_file_and_line() -> None:
    path = str(FIXTURES / "bad_severity.csv")
    result = run("events", "list", "--no-curated", "--events", path)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}:2:severity: severity 9 is out of range; use an integer from 1 to 5\n"


def test_list_bad_since_exits_2() -> None:
    result = run("events", "list", "--no-curated", "--events", GOOD, "--since", "2019/01/01")
    assert result.exit_code == 2
    assert result.stderr == "Error: --since: '2019/01/01' is not a date; use YYYY-MM-DD, e.g. 2019-05-10\n"


def test_list_since_after_until_exits_2_with_one_line() -> None:
    result = run("events", "list", "--no-curated", "--events", GOOD, "--since", "2020-01-01", "--until", "2019-01-01")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --since 2020-01-01 is after --until 2019-01-01; give a --since on or before the --until\n"
    )
    same_day = run("events", "list", "--no-curated", "--events", GOOD, "--since", "2019-05-10", "--until", "2019-05-10")
    assert same_day.exit_code == 0 and "1 of 6 events match" in same_day.stderr


# --- show ----------------------------------------------------------------------------------


def test_show_prints_every_field_of_the_events_on_that_date() -> None:
    result = run("events", "show", "2019-05-10", "--no-curated", "--events", GOOD)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "date:      2019-05-10",
        "title:     Tariffs on $200bn raised to 25%",
        "category:  tariff",
        "direction: escalation",
        "severity:  5",
        "countries: US;CN",
        "assets:",
        "source:    https://example.com/may",
        "notes:",
        "chain:",
        "stage:     announced",
        "public_at:",
        "origin:    good.csv:4",
    ]


def test_show_empty_date_names_the_nearest_events() -> None:
    result = run("events", "show", "2019-05-12", "--no-curated", "--events", GOOD)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "No events on 2019-05-12.",
        "Nearest before: 2019-05-10  tariff  escalation  5  Tariffs on $200bn raised to 25%",
        "Nearest after: 2019-05-15  export_control  escalation  4  Huawei added to the Entity List",
    ]


def test_show_malformed_date_exits_2() -> None:
    result = run("events", "show", "2019-13-01", "--no-curated", "--events", GOOD)
    assert result.exit_code == 2
    assert result.stderr == "Error: DATE: '2019-13-01' is not a date; use YYYY-MM-DD, e.g. 2019-05-10\n"


# --- add -----------------------------------------------------------------------------------

ADD = [
    "--date",
    "2019-05-10",
    "--title",
    "Tariffs raised",
    "--category",
    "tariff",
    "--direction",
    "escalation",
    "--severity",
    "5",
]


def test_add_appends_a_valid_event_and_list_shows_it(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    result = run("events", "add", str(path), *ADD, "--countries", "US;CN", "--source", "https://example.com/x")
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Added 2019-05-10 tariff event to {path} (line 2).\n"
    listed = json.loads(run("events", "list", "--no-curated", "--events", str(path), "--json").stdout)
    assert [(r["title"], r["countries"], r["source"]) for r in listed] == [
        ("Tariffs raised", ["US", "CN"], "https://example.com/x")
    ]


@pytest.mark.parametrize(
    ("extra", "stderr_end"),
    [
        (
            ["--date", "2019-02-30"],
            "cannot add the event, date: '2019-02-30' is not a valid date; use YYYY-MM-DD, e.g. 2019-05-10",
        ),
        (["--title", "tariffs RAISED"], "cannot add the event, it duplicates line 2 (same date, title and category)"),
        (
            ["--source", "www.example.com"],
            "cannot add the event, source: source 'www.example.com' is not a web address; "
            "use a URL starting with https:// or http://",
        ),
    ],
)
def test_add_refuses_invalid_or_duplicate_event_and_leaves_file_untouched(
    tmp_path: Path, extra: list[str], stderr_end: str
) -> None:
    path = tmp_path / "mine.csv"
    assert run("events", "add", str(path), *ADD).exit_code == 0
    before = path.read_bytes()
    result = run("events", "add", str(path), *ADD, *extra)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: {stderr_end}\n"
    assert path.read_bytes() == before


def test_add_refuses_a_duplicate_of_a_curated_event_unless_no_curated(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    curated_copy = [
        "--date",
        "2019-05-10",
        "--title",
        "Fixture curated: tariff increase",
        "--category",
        "tariff",
        "--direction",
        "escalation",
        "--severity",
        "4",
    ]
    refused = run("events", "add", str(path), *curated_copy)
    assert refused.exit_code == 2
    assert refused.stderr == (
        f"Error: {path}: cannot add the event, it duplicates calendar.csv:2 (same date, title and category)\n"
    )
    assert not path.exists()
    assert run("events", "add", str(path), *curated_copy, "--no-curated").exit_code == 0
    assert path.read_text().splitlines()[1] == "2019-05-10,Fixture curated: tariff increase,tariff,escalation,4,,,,,,,"


def test_add_severity_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    result = run("events", "add", str(path), *ADD[:-1], "9")
    assert result.exit_code == 2
    assert "Invalid value for '--severity': 9 is not in the range 1<=x<=5." in result.stderr
    assert not path.exists()


@pytest.mark.parametrize("title", ["Tariffs\nraised", "Tariffs\rraised", "Tariffs\r\nraised"])
def test_add_refuses_a_title_with_a_line_break_in_one_line(tmp_path: Path, title: str) -> None:
    path = tmp_path / "mine.csv"
    result = run("events", "add", str(path), *ADD[:2], "--title", title, *ADD[4:])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {path}: cannot add the event, title: title contains a line break; write the title on one line\n"
    )
    assert not path.exists()


def test_add_writes_chain_stage_and_public_at(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    extra = ["--chain", "us-cn-2019", "--stage", "official", "--public-at", "2019-05-10T00:01-04:00"]
    result = run("events", "add", str(path), *ADD, *extra)
    assert result.exit_code == 0, result.output
    assert path.read_text().splitlines()[1] == (
        "2019-05-10,Tariffs raised,tariff,escalation,5,,,,,us-cn-2019,official,2019-05-10T00:01-04:00"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--public-at", "2019-05-10T21:00-04:00", "--date", "2019-05-11"],
            "date: date 2019-05-11 is not the US-Eastern day of public_at 2019-05-10T21:00-04:00; "
            "use 2019-05-10 (or correct public_at)",
        ),
        (
            ["--public-at", "2019-05-11T01:00+00:00"],  # 21:00 ET on 10 May: the date is right
            None,
        ),
        (
            ["--public-at", "2019-05-10T14:00"],
            "public_at: public_at '2019-05-10T14:00' has no UTC offset; add it, e.g. 2019-05-05T14:08-04:00 "
            "(New York summer time)",
        ),
    ],
)
def test_add_checks_public_at(tmp_path: Path, extra: list[str], message: str | None) -> None:
    path = tmp_path / "mine.csv"
    result = run("events", "add", str(path), *ADD, *extra)
    if message is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2
    assert result.stderr == f"Error: {path}: cannot add the event, {message}\n"
    assert not path.exists()


def test_add_unknown_stage_is_a_usage_error(tmp_path: Path) -> None:
    result = run("events", "add", str(tmp_path / "mine.csv"), *ADD, "--stage", "signed")
    assert result.exit_code == 2
    assert "Invalid value for '--stage'" in result.stderr


# --- validate against the curated calendar ---------------------------------------------------


def test_validate_refuses_a_duplicate_of_the_curated_calendar_unless_alone(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "date,title,category,direction,severity\n"
        "2019-05-11,New event,tariff,escalation,2\n"
        "2019-06-29,fixture curated:  SUMMIT,trade_talks,de-escalation,1\n"
    )
    curated = FIXTURES / "curated" / "calendar.csv"
    result = run("events", "validate", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"{path}:3:title: duplicate of {curated}:3 (same date, title and category); remove one of the two lines\n"
    )
    # Every other command refuses the file for the same reason.
    assert run("events", "list", "--events", str(path)).exit_code == 2
    alone = run("events", "validate", str(path), "--alone")
    assert alone.exit_code == 0
    assert alone.stdout == f"{path}: 2 events, valid\n"


def test_validate_the_curated_file_itself_is_not_its_own_duplicate() -> None:
    curated = str(FIXTURES / "curated" / "calendar.csv")
    result = run("events", "validate", curated)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{curated}: 2 events, valid\n"


def test_validate_reports_a_public_at_on_another_day_with_the_right_date(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "date,title,category,direction,severity,public_at\n"
        "2019-05-06,Tweet,tariff,escalation,4,2019-05-05T14:08-04:00\n"
        "2019-05-07,Notice,tariff,escalation,4,2019-05-07T14:08\n"
    )
    result = run("events", "validate", str(path), "--alone")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:2:date: date 2019-05-06 is not the US-Eastern day of public_at 2019-05-05T14:08-04:00; "
        "use 2019-05-05 (or correct public_at)",
        f"{path}:3:public_at: public_at '2019-05-07T14:08' has no UTC offset; add it, e.g. 2019-05-05T14:08-04:00 "
        "(New York summer time)",
    ]


@pytest.mark.parametrize("command", [[], ["list"], ["show"], ["validate"], ["add"], ["check"]])
def test_help_has_an_example_block(command: list[str]) -> None:
    result = run("events", *command, "--help")
    assert result.exit_code == 0
    assert "Example:\n" in result.stdout
