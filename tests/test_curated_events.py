"""The curated calendar of real events, ``data/events/curated.csv``.

Read with the ``csv`` module, independently of the project's loader, so a bug in
one cannot hide a bug in the other; the loader's own validation is run as well.
Anchor dates were checked against public sources (see ``data/events/README.md``);
dates are the US-Eastern calendar day the news became public.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

CURATED = Path(__file__).resolve().parents[1] / "data" / "events" / "curated.csv"
COLUMNS = [
    "date", "title", "category", "direction", "severity", "countries", "assets", "source", "notes",
    "chain", "stage", "public_at",
]
STAGES = {"announced", "official", "effective"}
CATEGORIES = {"tariff", "export_control", "sanctions", "trade_talks", "military", "policy"}
DIRECTIONS = {"escalation", "de-escalation"}
FIRST_DAY = dt.date(2010, 1, 1)
LAST_DAY = dt.date(2025, 11, 30)

# Title keyword (case-insensitive, must match exactly one row) -> verified US-Eastern date.
ANCHORS = {
    "Section 301 memorandum": "2018-03-22",
    "Announces List 3": "2018-09-17",
    "Buenos Aires": "2018-12-01",
    "US raises List 3 tariffs": "2019-05-10",
    "Trump tweets that tariffs": "2019-05-05",
    "Huawei and 68 affiliates": "2019-05-15",
    "Osaka truce": "2019-06-29",
    "currency manipulator after yuan": "2019-08-05",
    "sign the Phase One trade agreement": "2020-01-15",
    "full-scale invasion of Ukraine": "2022-02-23",
    "from SWIFT": "2022-02-26",
    "restrict exports of advanced AI chips": "2022-10-07",
    "gallium and germanium (effective 1 Aug)": "2023-07-03",
    "Liberation Day": "2025-04-02",
    "34% on all US goods": "2025-04-04",
    "pauses reciprocal tariffs for 90 days": "2025-04-09",
    "Geneva joint statement": "2025-05-12",
    "MOFCOM No. 55-58, 61, 62": "2025-10-08",
    "Busan": "2025-10-30",
    "MOFCOM/GAC No. 70": "2025-11-07",
}


@pytest.fixture(scope="module")
def raw_text() -> str:
    return CURATED.read_bytes().decode("utf-8")  # fails loudly if the file is not UTF-8


@pytest.fixture(scope="module")
def rows(raw_text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(raw_text.splitlines())
    assert reader.fieldnames == COLUMNS, f"header must be {','.join(COLUMNS)}"
    out = []
    for line, row in enumerate(reader, start=2):
        assert None not in row, f"line {line}: more fields than the header (quote commas)"
        assert all(value is not None for value in row.values()), f"line {line}: fewer fields than the header"
        out.append(row)
    return out


def test_enough_events(rows: list[dict[str, str]]) -> None:
    assert len(rows) >= 250
    assert sum(row["stage"] == "announced" for row in rows) >= 250  # the ones that fire by default


def test_stages_and_public_times(rows: list[dict[str, str]]) -> None:
    """Stages are known; official/effective rows are capped at severity 2 (rubric); a public_at time
    carries its offset and falls on the row's New York date (checked here with zoneinfo, not the loader)."""
    from zoneinfo import ZoneInfo

    for row in rows:
        assert row["stage"] in STAGES, row["title"]
        if row["stage"] != "announced":
            assert int(row["severity"]) <= 2, row["title"]
        if row["public_at"]:
            moment = dt.datetime.fromisoformat(row["public_at"])
            assert moment.tzinfo is not None, row["title"]
            assert moment.astimezone(ZoneInfo("America/New_York")).date().isoformat() == row["date"], row["title"]


def test_dates_valid_in_range_and_sorted(rows: list[dict[str, str]]) -> None:
    dates = []
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date"]), row
        day = dt.date.fromisoformat(row["date"])
        assert FIRST_DAY <= day <= LAST_DAY, row["title"]
        dates.append(day)
    assert dates == sorted(dates), "rows must be sorted by date"


def test_fields_allowed(rows: list[dict[str, str]]) -> None:
    for row in rows:
        title = row["title"]
        assert title.strip() == title and title, row
        assert row["category"] in CATEGORIES, title
        assert row["direction"] in DIRECTIONS, title
        assert re.fullmatch(r"[1-5]", row["severity"]), title
        codes = row["countries"].split(";")
        assert all(re.fullmatch(r"[A-Z]{2}", code) for code in codes), title
        assets = row["assets"].split(";")
        assert all(asset and asset == asset.strip() for asset in assets), title


def test_every_event_has_a_web_source(rows: list[dict[str, str]]) -> None:
    for row in rows:
        url = urlparse(row["source"])
        assert url.scheme in ("http", "https") and url.netloc, row["title"]


def test_no_duplicates(rows: list[dict[str, str]]) -> None:
    full = [tuple(row.values()) for row in rows]
    assert len(full) == len(set(full)), "duplicate rows"
    keys = [(row["date"], " ".join(row["title"].casefold().split()), row["category"]) for row in rows]
    assert len(keys) == len(set(keys)), "same date, title and category twice"
    titles = [row["title"].casefold() for row in rows]
    assert len(titles) == len(set(titles)), "two events share a title; make titles distinct"


def test_both_directions_and_every_category_present(rows: list[dict[str, str]]) -> None:
    assert {row["category"] for row in rows} == CATEGORIES
    assert {row["direction"] for row in rows} == DIRECTIONS
    assert any(row["severity"] == "5" for row in rows)


@pytest.mark.parametrize(("keyword", "date"), sorted(ANCHORS.items(), key=lambda item: item[1]))
def test_anchor_dates(rows: list[dict[str, str]], keyword: str, date: str) -> None:
    matches = [row for row in rows if keyword.casefold() in row["title"].casefold()]
    assert len(matches) == 1, f"{keyword!r} matches {len(matches)} titles; expected exactly one"
    assert matches[0]["date"] == date, f"{keyword!r}: {matches[0]['date']} != verified {date}"


def test_project_validator_accepts_the_file() -> None:
    calendar = pytest.importorskip("backtests.events.calendar")
    assert calendar.validate_file(CURATED) == []


def test_project_loader_reads_every_curated_row(rows: list[dict[str, str]]) -> None:
    calendar = pytest.importorskip("backtests.events.calendar")
    frame = calendar.load_events()
    mine = frame[frame["origin"].str.startswith(CURATED.name + ":")]
    assert len(mine) == len(rows)
    assert [d.date().isoformat() for d in mine["date"]] == [row["date"] for row in rows]


def test_curated_chains_are_in_stage_order() -> None:
    """Inside each chain, dates do not decrease from announced to official to effective."""
    from backtests.events.calendar import load_events
    from backtests.events.check import chain_problems

    frame = load_events([CURATED], include_curated=False)
    assert [str(f) for f in chain_problems(frame) if "comes after" in f.message] == []
