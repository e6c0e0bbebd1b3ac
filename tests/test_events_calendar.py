"""The events library: loading, validation messages, filters, appending, and round-trip invariants."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtests.errors import UserInputError
from backtests.events import calendar
from backtests.events.calendar import append_event, load_events, validate_file
from backtests.events.select import filter_events
from backtests.events.schema import ALL_COLUMNS, CATEGORIES, DIRECTIONS, FRAME_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "events"
GOOD = FIXTURES / "good.csv"


@pytest.fixture
def fixture_curated(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the curated calendar at a small fixture folder, independent of the shipped one."""
    monkeypatch.setattr(calendar, "curated_events_dir", lambda: FIXTURES / "curated")
    return FIXTURES / "curated"


def test_load_good_file_gives_the_documented_frame() -> None:
    events = load_events([GOOD], include_curated=False)
    assert list(events.columns) == list(FRAME_COLUMNS)
    assert isinstance(events.index, pd.RangeIndex) and len(events) == 6
    assert str(events["date"].dtype) == "datetime64[ns]"
    assert str(events["severity"].dtype) == "int64"
    first = events.iloc[0]
    assert first["date"] == pd.Timestamp("2018-03-01")
    assert first["title"] == "US announces steel and aluminium tariffs"
    assert first["countries"] == ("US",)
    assert first["assets"] == ("steel", "XLI")
    assert first["source"] == "https://example.com/steel"
    assert first["notes"] == "Section 232"
    assert first["origin"] == "good.csv:2"
    # Lower-case country codes are normalised; empty optional cells are "" or ().
    huawei = events[events["title"].str.startswith("Huawei")].iloc[0]
    assert huawei["countries"] == ("US", "CN")
    assert events.iloc[1]["source"] == "" and events.iloc[1]["notes"] == ""
    assert events.iloc[2]["assets"] == ()


def test_events_are_sorted_by_date_then_file_order(tmp_path: Path) -> None:
    late = tmp_path / "late.csv"
    late.write_text(
        "date,title,category,direction,severity\n2020-01-02,B,policy,escalation,1\n2020-01-01,A,policy,escalation,1\n"
    )
    other = tmp_path / "other.csv"
    other.write_text("date,title,category,direction,severity\n2020-01-01,C,policy,escalation,1\n")
    events = load_events([late, other], include_curated=False)
    assert list(events["title"]) == ["A", "C", "B"]
    assert list(events["origin"]) == ["late.csv:3", "other.csv:2", "late.csv:2"]


def test_curated_and_user_files_are_combined(fixture_curated: Path) -> None:
    events = load_events([FIXTURES / "user.csv"])
    assert list(events["origin"]) == ["calendar.csv:2", "user.csv:2", "calendar.csv:3", "user.csv:3"]
    assert load_events([FIXTURES / "user.csv"], include_curated=False)["origin"].tolist() == [
        "user.csv:2",
        "user.csv:3",
    ]


def test_an_event_repeated_across_files_is_refused(fixture_curated: Path, tmp_path: Path) -> None:
    copy = tmp_path / "mine.csv"
    copy.write_text(
        "date,title,category,direction,severity\n2019-05-10,Fixture curated: TARIFF increase,tariff,escalation,2\n"
    )
    with pytest.raises(UserInputError) as info:
        load_events([copy])
    assert str(info.value) == (
        f"{copy}:2:title: duplicate of calendar.csv:2 (same date, title and category); remove one of the two lines"
    )


def test_missing_curated_folder_means_no_curated_events(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(calendar, "curated_events_dir", lambda: tmp_path / "absent")
    assert load_events().empty
    assert list(load_events().columns) == list(FRAME_COLUMNS)


def test_shipped_curated_calendar_is_valid() -> None:
    files = calendar.curated_files()
    if not files:
        pytest.skip("no curated calendar shipped yet")
    for path in files:
        assert validate_file(path) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "bad_date.csv",
            [
                "3:date: '2019-13-45' is not a valid date; use YYYY-MM-DD, e.g. 2019-05-10",
                "4:date: '05/10/2019' is not a valid date; use YYYY-MM-DD, e.g. 2019-05-10",
            ],
        ),
        ("bad_direction.csv", ["2:direction: unknown direction 'sideways'; use one of escalation, de-escalation"]),
        (
            "empty_value.csv",
            [
                "2:title: title is empty; every event needs a title",
                "2:source: source 'ftp://example.com/x' is not a web address; "
                "use a URL starting with https:// or http://",
            ],
        ),
        ("header_only.csv", ["1: no events below the header; add one event per line"]),
        (
            "unknown_column.csv",
            [
                "1:sevrity: unknown column 'sevrity' (did you mean severity?); allowed columns: "
                "date, title, category, direction, severity, countries, assets, source, notes, chain, stage, public_at"
            ],
        ),
    ],
)
def test_validate_file_lists_every_problem(name: str, expected: list[str]) -> None:
    path = FIXTURES / name
    assert validate_file(path) == [f"{path}:{message}" for message in expected]


def test_load_events_raises_the_first_problem() -> None:
    path = FIXTURES / "bad_date.csv"
    with pytest.raises(UserInputError) as info:
        load_events([path], include_curated=False)
    assert str(info.value) == f"{path}:3:date: '2019-13-45' is not a valid date; use YYYY-MM-DD, e.g. 2019-05-10"


def test_missing_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    assert validate_file(path) == [f"{path}: no such file; check the path (create one with `backtest events add`)"]


def test_too_many_fields_and_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "crlf.csv"
    path.write_bytes(
        b"date,title,category,direction,severity\r\n2019-05-10,A,tariff,escalation,3\r\n"
        b"2019-05-11,B, with comma,tariff,escalation,3\r\n"
    )
    assert validate_file(path) == [f"{path}:3: 6 fields but the header has 5; quote values that contain commas"]


def test_multiline_quoted_title_keeps_editor_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_text(
        'date,title,category,direction,severity\n2019-05-10,"two\nlines",tariff,escalation,3\n'
        "2019-05-11,C,tariff,escalation,7\n"
    )
    assert validate_file(path) == [
        f"{path}:2:title: title contains a line break; write the title on one line",
        f"{path}:4:severity: severity 7 is out of range; use an integer from 1 to 5",
    ]


# --- filters -------------------------------------------------------------------------------


def test_filters_select_by_hand_picked_rows() -> None:
    events = load_events([GOOD], include_curated=False)
    pick = lambda **kw: filter_events(events, **kw)["date"].dt.strftime("%Y-%m-%d").tolist()  # noqa: E731
    assert pick(categories=["tariff"]) == ["2018-03-01", "2018-07-06", "2019-05-10"]
    assert pick(directions=["de-escalation"]) == ["2019-12-13"]
    assert pick(min_severity=5) == ["2019-05-10", "2022-02-26"]
    assert pick(countries=["ru", "XX"]) == ["2022-02-26"]
    assert pick(keywords=["TARIFF", "huawei"]) == ["2018-03-01", "2018-07-06", "2019-05-10", "2019-05-15"]
    assert pick(since="2019-05-10", until="2019-12-13") == ["2019-05-10", "2019-05-15", "2019-12-13"]
    assert pick(categories=["tariff", "sanctions"], min_severity=5, since="2019-01-01") == ["2019-05-10", "2022-02-26"]
    assert pick() == pick(categories=[], countries=None)


def test_filter_rejects_unknown_category() -> None:
    events = load_events([GOOD], include_curated=False)
    with pytest.raises(UserInputError, match=r"^unknown category 'tarif'; use one of tariff, export_control"):
        filter_events(events, categories=["tarif"])


# --- append --------------------------------------------------------------------------------


def test_append_creates_file_with_header_then_appends(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "mine.csv"
    first = append_event(
        path,
        date="2019-05-10",
        title="Tariffs, raised",
        category="tariff",
        direction="escalation",
        severity=5,
        countries="US;CN",
    )
    second = append_event(
        path,
        date=pd.Timestamp("2019-06-29"),
        title="Truce",
        category="trade_talks",
        direction="de-escalation",
        severity="2",
        assets=["SPY", "FXI"],
    )
    assert path.read_text() == (
        "date,title,category,direction,severity,countries,assets,source,notes,chain,stage,public_at\n"
        '2019-05-10,"Tariffs, raised",tariff,escalation,5,US;CN,,,,,,\n'
        "2019-06-29,Truce,trade_talks,de-escalation,2,,SPY;FXI,,,,,\n"
    )
    assert (first["origin"], second["origin"]) == ("mine.csv:2", "mine.csv:3")
    assert load_events([path], include_curated=False)["assets"].tolist() == [(), ("SPY", "FXI")]


def test_append_keeps_existing_text_and_adds_missing_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_bytes(b"date,title,category,direction,severity\r\n2019-05-10,A,tariff,escalation,3")
    event = append_event(path, date="2019-05-11", title="B", category="policy", direction="escalation", severity=1)
    assert path.read_bytes() == (
        b"date,title,category,direction,severity\r\n2019-05-10,A,tariff,escalation,3\r\n"
        b"2019-05-11,B,policy,escalation,1\r\n"
    )
    assert event["origin"] == "mine.csv:3"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"severity": 9}, "cannot add the event, severity: severity 9 is out of range; use an integer from 1 to 5"),
        (
            {"date": "2019-13-45"},
            "cannot add the event, date: '2019-13-45' is not a valid date; use YYYY-MM-DD, e.g. 2019-05-10",
        ),
        ({"title": "a  TITLE"}, "cannot add the event, it duplicates line 2 (same date, title and category)"),
        ({"source": "https://x.org", "title": "New"}, None),
    ],
)
def test_append_refusals_leave_the_file_untouched(tmp_path: Path, fields: dict, message: str | None) -> None:
    path = tmp_path / "mine.csv"
    original = b"date,title,category,direction,severity\n2019-05-10,A title,tariff,escalation,3\n"
    path.write_bytes(original)
    event = dict(date="2019-05-10", title="A title", category="tariff", direction="escalation", severity=3)
    if message is None:  # the header has no source column: refused too
        message = "the header has no 'source' column; add it to the header or leave that field out"
        expected = f"{path}:1: {message}"
    else:
        expected = f"{path}: {message}"
    with pytest.raises(UserInputError) as info:
        append_event(path, **{**event, **fields})
    assert str(info.value) == expected
    assert path.read_bytes() == original


def test_append_refuses_to_extend_an_invalid_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    original = (FIXTURES / "bad_category.csv").read_bytes()
    path.write_bytes(original)
    with pytest.raises(
        UserInputError, match=r":2:category: unknown category 'tarif'.*\(fix the file before adding to it\)$"
    ):
        append_event(path, date="2020-01-01", title="X", category="policy", direction="escalation", severity=1)
    assert path.read_bytes() == original


# --- invariants ----------------------------------------------------------------------------

_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="|"), min_size=1, max_size=20
).filter(lambda s: s.strip())
_event = st.fixed_dictionaries(
    {
        "date": st.dates(min_value=pd.Timestamp("1990-01-01").date(), max_value=pd.Timestamp("2030-12-31").date()),
        "title": _text,
        "category": st.sampled_from(CATEGORIES),
        "direction": st.sampled_from(DIRECTIONS),
        "severity": st.integers(1, 5),
        "countries": st.lists(st.sampled_from(["US", "CN", "EU", "RU"]), max_size=3, unique=True),
    }
)


def _write(path: Path, events: list[dict]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "title", "category", "direction", "severity", "countries"])
    for e in events:
        writer.writerow(
            [e["date"].isoformat(), e["title"], e["category"], e["direction"], e["severity"], ";".join(e["countries"])]
        )
    path.write_text(out.getvalue(), encoding="utf-8")


def _unique(events: list[dict]) -> list[dict]:
    seen, out = set(), []
    for e in events:
        key = (e["date"], " ".join(e["title"].casefold().split()), e["category"])
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_event, min_size=1, max_size=8).map(_unique), st.integers(1, 5), st.sampled_from(CATEGORIES))
def test_written_events_round_trip_and_filters_partition(
    tmp_path: Path, events: list[dict], level: int, category: str
) -> None:
    path = tmp_path / "prop.csv"
    _write(path, events)
    loaded = load_events([path], include_curated=False)
    # Round trip: same events (stripped titles), ordered by date with ties kept in file order.
    expected = sorted(enumerate(events), key=lambda pair: (pair[1]["date"], pair[0]))
    assert loaded["title"].tolist() == [e["title"].strip() for _, e in expected]
    assert loaded["severity"].tolist() == [e["severity"] for _, e in expected]
    assert loaded["countries"].tolist() == [tuple(e["countries"]) for _, e in expected]
    assert loaded["date"].is_monotonic_increasing
    # A filter keeps exactly the rows satisfying it.
    kept = filter_events(loaded, min_severity=level, categories=[category])
    manual = [
        o for o, s, c in zip(loaded["origin"], loaded["severity"], loaded["category"]) if s >= level and c == category
    ]
    assert kept["origin"].tolist() == manual


@given(st.text(max_size=4))
def test_severity_accepts_exactly_integers_one_to_five(text: str) -> None:
    from backtests.events.schema import parse_severity

    signs = len(text) - len(text.lstrip("+-"))
    expected = text.isascii() and text.lstrip("+-").isdigit() and signs <= 1 and 1 <= int(text) <= 5
    try:
        parse_severity(text)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == expected


def test_schema_columns_are_the_documented_ones() -> None:
    assert ALL_COLUMNS == (
        "date",
        "title",
        "category",
        "direction",
        "severity",
        "countries",
        "assets",
        "source",
        "notes",
        "chain",
        "stage",
        "public_at",
    )


def test_a_title_with_the_reserved_separator_is_rejected(tmp_path):
    path = tmp_path / "pipe.csv"
    path.write_text("date,title,category,direction,severity\n2020-01-02,A | B,tariff,escalation,3\n")
    assert validate_file(path) == [
        f"{path}:2:title: title contains '|', which is reserved as a list separator; use '/' or ','"
    ]


# --- chain, stage, public_at -------------------------------------------------------------------

CHAINS = FIXTURES / "chains.csv"


def test_the_new_columns_load_with_stage_always_filled_and_public_at_in_utc() -> None:
    events = load_events([CHAINS], include_curated=False)
    assert events["chain"].tolist() == ["us-cn-list3-hike-2019"] * 3 + [""]
    assert events["stage"].tolist() == ["announced", "official", "effective", "announced"]  # empty -> announced
    assert str(events["public_at"].dtype) == "datetime64[ns, UTC]"
    # 14:08 EDT = 18:08 UTC; 20:00Z stays 20:00 UTC; a missing time is NaT.
    assert events["public_at"].iloc[0] == pd.Timestamp("2019-05-05 18:08", tz="UTC")
    assert events["public_at"].iloc[3] == pd.Timestamp("2019-05-13 20:00", tz="UTC")
    assert pd.isna(events["public_at"].iloc[2])


def test_files_without_the_new_columns_get_their_defaults() -> None:
    events = load_events([GOOD], include_curated=False)
    assert set(events["stage"]) == {"announced"} and set(events["chain"]) == {""}
    assert events["public_at"].isna().all()


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2019-05-05T14:08-04:00", "2019-05-05 18:08"),
        ("2019-05-05T14:08:30-04:00", "2019-05-05 18:08:30"),
        ("2019-05-05 14:08-0400", "2019-05-05 18:08"),
        ("2019-05-06T02:08+08:00", "2019-05-05 18:08"),
        ("2019-05-05T18:08Z", "2019-05-05 18:08"),
    ],
)
def test_public_at_accepts_iso_times_with_an_offset(text: str, utc: str) -> None:
    from backtests.events.schema import parse_public_at

    assert parse_public_at(text) == pd.Timestamp(utc, tz="UTC")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2019-05-05T14:08", "public_at '2019-05-05T14:08' has no UTC offset; add it, e.g. 2019-05-05T14:08-04:00 "
                             "(New York summer time)"),
        ("2019-05-05", "public_at '2019-05-05' has no UTC offset; add it, e.g. 2019-05-05T14:08-04:00 "
                       "(New York summer time)"),
        ("14:08 ET", "public_at '14:08 ET' is not an ISO 8601 time with offset; use e.g. 2019-05-05T14:08-04:00"),
        ("2019-02-30T14:08-05:00", "public_at '2019-02-30T14:08-05:00' is not a valid time; "
                                   "use e.g. 2019-05-05T14:08-04:00"),
    ],
)
def test_public_at_without_an_offset_or_malformed_is_refused(text: str, message: str) -> None:
    from backtests.events.schema import parse_public_at

    with pytest.raises(ValueError) as info:
        parse_public_at(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("date", "public_at", "problem"),
    [
        ("2019-05-05", "2019-05-05T23:59-04:00", None),
        ("2019-05-06", "2019-05-06T00:00-04:00", None),
        ("2019-05-05", "2019-05-06T03:59Z", None),  # 23:59 EDT on the 5th
        ("2019-05-06", "2019-05-06T03:59Z", "use 2019-05-05"),
        ("2019-05-06", "2019-05-06T09:00+08:00", "use 2019-05-05"),  # Beijing morning = the evening before in New York
        ("2019-12-02", "2019-12-02T04:30Z", "use 2019-12-01"),  # winter: UTC-05:00
    ],
)
def test_date_must_be_the_new_york_day_of_public_at(tmp_path: Path, date: str, public_at: str, problem) -> None:
    path = tmp_path / "timed.csv"
    path.write_text(f"date,title,category,direction,severity,public_at\n{date},T,tariff,escalation,3,{public_at}\n")
    problems = validate_file(path)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith(f"{path}:2:date: date {date} is not the US-Eastern day")
        assert problems[0].endswith(f"; {problem} (or correct public_at)")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("stage", "signed", "unknown stage 'signed'; use one of announced, official, effective (empty = announced)"),
        ("chain", "us cn 2019", "chain 'us cn 2019' is not an id; use letters, digits and - _ . : / only, "
                                "e.g. us-cn-301-list3-2018"),
    ],
)
def test_stage_and_chain_are_checked(tmp_path: Path, column: str, value: str, message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(f"date,title,category,direction,severity,{column}\n2019-05-05,T,tariff,escalation,3,{value}\n")
    assert validate_file(path) == [f"{path}:2:{column}: {message}"]


def test_validate_file_checks_duplicates_against_the_files_it_is_combined_with(tmp_path: Path) -> None:
    curated = FIXTURES / "curated" / "calendar.csv"
    mine = tmp_path / "mine.csv"
    mine.write_text(
        "date,title,category,direction,severity\n2019-05-10,Fixture curated: tariff increase,tariff,escalation,2\n"
    )
    assert validate_file(mine) == []
    assert validate_file(mine, combined_with=[curated]) == [
        f"{mine}:2:title: duplicate of {curated}:2 (same date, title and category); remove one of the two lines"
    ]
    assert validate_file(curated, combined_with=[curated]) == []  # a file is not its own duplicate


def test_append_event_writes_the_new_columns_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    append_event(
        path, date="2019-05-05", title="Tweet", category="tariff", direction="escalation", severity=4,
        chain="hike", stage="announced", public_at=pd.Timestamp("2019-05-05 18:08", tz="UTC"),
    )
    assert path.read_text().splitlines()[1] == (
        "2019-05-05,Tweet,tariff,escalation,4,,,,,hike,announced,2019-05-05T14:08-04:00"
    )
    loaded = load_events([path], include_curated=False)
    assert loaded["public_at"].iloc[0] == pd.Timestamp("2019-05-05 18:08", tz="UTC")
