"""Reading, validating, filtering and appending event calendars (CSV files in the ``schema`` format).

Every problem is reported as ``FILE:LINE:COLUMN: what is wrong; how to fix``,
with line numbers as a text editor shows them (the header is line 1).
``validate_file`` lists all problems of a file; ``load_events`` raises the first.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from backtests.atomic import atomic_write_text
from backtests.errors import UserInputError
from backtests.events.schema import (
    ALL_COLUMNS,
    FRAME_COLUMNS,
    DEFAULT_STAGE,
    LIST_SEPARATOR,
    PARSERS,
    REQUIRED_COLUMNS,
    check_public_day,
    format_public_at,
)
from backtests.params import suggest
from backtests.paths import curated_events_dir

PathLike = str | os.PathLike[str]
_HEADER_HINT = ",".join(REQUIRED_COLUMNS)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an events file; ``line``/``column`` are None when they do not apply."""

    line: int | None
    column: str | None
    message: str

    def at(self, file: str) -> str:
        """The problem as ``file:line:column: message`` (parts that do not apply left out)."""
        where = [file] + [str(part) for part in (self.line, self.column) if part is not None]
        return ":".join(where) + ": " + self.message


@dataclass(frozen=True)
class _FileContent:
    """What the reader got from one file: header (None if the file is empty), events, problems."""

    header: tuple[str, ...] | None
    events: list[dict[str, Any]]
    problems: list[Problem]
    text: str


def parse_event(values: Mapping[str, str], line: int) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Check and convert one row (column -> raw text); returns (event or None, problems)."""
    event: dict[str, Any] = {}
    problems: list[Problem] = []
    for column in ALL_COLUMNS:
        text = (values.get(column) or "").strip()
        if column in REQUIRED_COLUMNS and not text:
            problems.append(Problem(line, column, f"{column} is empty; every event needs a {column}"))
            continue
        try:
            event[column] = PARSERS[column](text)
        except ValueError as exc:
            problems.append(Problem(line, column, str(exc)))
    if "date" in event and "public_at" in event:
        try:
            check_public_day(event["date"], event["public_at"])
        except ValueError as exc:
            problems.append(Problem(line, "date", str(exc)))
    return (None if problems else event), problems


def _duplicate_key(event: Mapping[str, Any]) -> tuple[pd.Timestamp, str, str]:
    # Titles differing only in case or spacing are the same news.
    return event["date"], " ".join(event["title"].casefold().split()), event["category"]


def _duplicate_message(first: str) -> str:
    return f"duplicate of {first} (same date, title and category); remove one of the two lines"


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank CSV records with the editor line on which each starts."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for row in reader:
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


def _decode(data: bytes) -> tuple[str, Problem | None]:
    """UTF-8 text (a BOM is dropped), or the problem at the line where decoding fails."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        column = _column_holding_replacement(data.decode("utf-8-sig", errors="replace"), line)
        return "", Problem(line, column, f"byte 0x{bad} is not UTF-8 text; save the file as UTF-8")


def _column_holding_replacement(text: str, line: int) -> str | None:
    """Header name of the first field on ``line`` holding an undecodable byte, if it can be told."""
    records = _records(text)
    header = next(records, (0, []))[1]
    if line == 1:
        return None
    for start, row in records:
        if start == line:
            for index, cell in enumerate(row):
                if "\ufffd" in cell and index < len(header):
                    return header[index].strip()
    return None


def _read_bytes(path: Path) -> tuple[bytes | None, Problem | None]:
    try:
        return path.read_bytes(), None
    except FileNotFoundError:
        return None, Problem(None, None, "no such file; check the path (create one with `backtest events add`)")
    except OSError as exc:
        reason = exc.strerror or exc
        return None, Problem(None, None, f"cannot read the file ({reason}); check the path and permissions")


def _header_problems(header: Sequence[str]) -> list[Problem]:
    problems = []
    allowed = ", ".join(ALL_COLUMNS)
    for index, name in enumerate(header):
        if name not in ALL_COLUMNS:
            message = f"unknown column {name!r}{suggest(name, ALL_COLUMNS)}; allowed columns: {allowed}"
            problems.append(Problem(1, name or f"column {index + 1}", message))
        elif name in header[:index]:
            problems.append(Problem(1, name, f"column {name!r} appears twice; keep one"))
    for name in REQUIRED_COLUMNS:
        if name not in header:
            problems.append(Problem(1, name, f"missing required column {name!r}; the header needs {_HEADER_HINT}"))
    return problems


def _read_events(path: Path) -> _FileContent:
    """Parse one events file; stops at the header when it is unusable."""
    data, problem = _read_bytes(path)
    if data is None:
        return _FileContent(None, [], [problem], "")
    text, problem = _decode(data)
    if problem is not None:
        return _FileContent(None, [], [problem], "")
    records = _records(text)
    try:
        first = next(records, None)
        if first is None:
            return _FileContent(None, [], [], text)
        header = tuple(name.strip() for name in first[1])
        problems = _header_problems(header)
        if problems:
            return _FileContent(header, [], problems, text)
        events, problems = _parse_rows(records, header, path.name)
    except csv.Error as exc:
        problem = Problem(None, None, f"malformed CSV ({exc}); check quotes and line endings")
        return _FileContent(None, [], [problem], text)
    return _FileContent(header, events, problems, text)


def _parse_rows(
    records: Iterable[tuple[int, list[str]]], header: tuple[str, ...], name: str
) -> tuple[list[dict[str, Any]], list[Problem]]:
    events: list[dict[str, Any]] = []
    problems: list[Problem] = []
    first_line: dict[tuple[pd.Timestamp, str, str], int] = {}
    for line, row in records:
        if len(row) > len(header):
            message = f"{len(row)} fields but the header has {len(header)}; quote values that contain commas"
            problems.append(Problem(line, None, message))
            continue
        event, row_problems = parse_event(dict(zip(header, row)), line)
        problems.extend(row_problems)
        if event is None:
            continue
        key = _duplicate_key(event)
        if key in first_line:
            problems.append(Problem(line, "title", _duplicate_message(f"line {first_line[key]}")))
            continue
        first_line[key] = line
        events.append({**event, "origin": f"{name}:{line}", "_line": line})
    return events, problems


def _file_problems(content: _FileContent) -> list[Problem]:
    """The reader's problems, plus "no events" for an empty or header-only file."""
    if content.problems or content.events:
        return content.problems
    if content.header is None:
        return [Problem(1, None, f"empty file, no events; start with the header line {_HEADER_HINT}")]
    return [Problem(1, None, "no events below the header; add one event per line")]


def validate_file(path: PathLike, *, combined_with: Sequence[PathLike] = ()) -> list[str]:
    """Every problem in an events file, each as ``file:line:column: message``; empty when valid.

    ``combined_with``: the files it will be used with (e.g. ``curated_files()``); an
    event that duplicates one of theirs is a problem, as ``load_events`` would say.
    The file itself, if listed there, is skipped. Problems of those files are not
    reported (validate them on their own).
    """
    target = Path(path)
    content = _read_events(target)
    problems = _file_problems(content)
    if not problems:
        others: dict[tuple[pd.Timestamp, str, str], str] = {}
        for other in combined_with:
            other = Path(other)
            if _same_file(other, target):
                continue
            for event in _read_events(other).events:
                others.setdefault(_duplicate_key(event), f"{other}:{event['_line']}")
        problems = [
            Problem(event["_line"], "title", _duplicate_message(others[_duplicate_key(event)]))
            for event in content.events
            if _duplicate_key(event) in others
        ]
    return [p.at(str(path)) for p in problems]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def curated_files() -> list[Path]:
    """The curated calendars shipped with the project (every ``*.csv`` in ``data/events``), sorted."""
    try:
        folder = curated_events_dir()
    except FileNotFoundError:
        return []
    return sorted(folder.glob("*.csv")) if folder.is_dir() else []


def load_events(paths: Sequence[PathLike] = (), *, include_curated: bool = True) -> pd.DataFrame:
    """Load curated (optional) and user event files into one frame sorted by date then origin.

    Columns: ``schema.FRAME_COLUMNS``. Raises UserInputError with the first problem
    found, including an event repeated across two files.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = (curated_files() if include_curated else []) + [Path(p) for p in paths]
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[pd.Timestamp, str, str], str] = {}
    for order, path in enumerate(files):
        content = _read_events(path)
        problems = _file_problems(content)
        if problems:
            raise UserInputError(problems[0].at(str(path)))
        for event in content.events:
            key = _duplicate_key(event)
            if key in seen:
                raise UserInputError(Problem(event["_line"], "title", _duplicate_message(seen[key])).at(str(path)))
            seen[key] = event["origin"]
            rows.append({**event, "_order": order})
    rows.sort(key=lambda e: (e["date"], e["_order"], e["_line"]))
    return events_frame(rows)


#: Values of the optional chain columns for rows built without them (e.g. by tests or older callers).
_CHAIN_DEFAULTS: Mapping[str, Any] = {"chain": "", "stage": DEFAULT_STAGE, "public_at": None}


def events_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A frame with exactly ``FRAME_COLUMNS`` and their dtypes from parsed event rows (kept in order).

    ``chain``, ``stage`` and ``public_at`` may be missing from a row (then ``""``,
    ``announced``, NaT); ``public_at`` becomes ``datetime64[ns, UTC]``.
    """
    frame = pd.DataFrame(
        {
            column: [row[column] if column in row else _CHAIN_DEFAULTS[column] for row in rows]
            for column in FRAME_COLUMNS
        }
    )
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["severity"] = frame["severity"].astype("int64")
    for column in ("countries", "assets"):
        frame[column] = frame[column].astype(object)
    frame["stage"] = frame["stage"].fillna(DEFAULT_STAGE).replace("", DEFAULT_STAGE)
    frame["chain"] = frame["chain"].fillna("")
    frame["public_at"] = pd.to_datetime(frame["public_at"], utc=True).astype("datetime64[ns, UTC]")
    return frame


def _cell(value: Any) -> str:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return format_public_at(pd.Timestamp(value))
    if isinstance(value, (dt.date, pd.Timestamp)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, (list, tuple)):
        return LIST_SEPARATOR.join(str(v).strip() for v in value)
    return "" if value is None else str(value).strip()


def append_event(
    path: PathLike,
    *,
    date: str | dt.date,
    title: str,
    category: str,
    direction: str,
    severity: int | str,
    countries: str | Sequence[str] = "",
    assets: str | Sequence[str] = "",
    source: str = "",
    notes: str = "",
    chain: str = "",
    stage: str = "",
    public_at: str | dt.datetime = "",
    also_unique_in: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Validate one event and append it to ``path`` (created with a full header if missing or empty).

    Refuses (UserInputError, file untouched) an invalid event, a duplicate of an
    event in the file or in ``also_unique_in`` (an events frame, e.g. the curated
    calendar), a field the file's header has no column for, or a file that is
    itself invalid. Returns the parsed event with its ``origin``.
    """
    target = Path(path)
    cells = {
        "date": date,
        "title": title,
        "category": category,
        "direction": direction,
        "severity": severity,
        "countries": countries,
        "assets": assets,
        "source": source,
        "notes": notes,
        "chain": chain,
        "stage": stage,
        "public_at": public_at,
    }
    cells = {column: _cell(value) for column, value in cells.items()}
    content = _read_events(target) if target.exists() else _FileContent(None, [], [], "")
    if content.problems:
        raise UserInputError(content.problems[0].at(str(target)) + " (fix the file before adding to it)")
    header = content.header or ALL_COLUMNS
    line = _next_line(content)
    event, problems = parse_event(cells, line)
    if event is None:
        first = problems[0]
        raise UserInputError(f"{target}: cannot add the event, {first.column}: {first.message}")
    known = [(e, f"line {e['_line']}") for e in content.events]
    if also_unique_in is not None:
        known += [(e, e["origin"]) for e in also_unique_in.to_dict("records")]
    for existing, where in known:
        if _duplicate_key(existing) == _duplicate_key(event):
            raise UserInputError(
                f"{target}: cannot add the event, it duplicates {where} (same date, title and category)"
            )
    missing = [c for c, text in cells.items() if text and c not in header]
    if missing:
        raise UserInputError(
            f"{target}:1: the header has no {missing[0]!r} column; add it to the header or leave that field out"
        )
    atomic_write_text(target, _appended_text(content, header, cells))
    return {**event, "origin": f"{target.name}:{line}"}


def _next_line(content: _FileContent) -> int:
    """The editor line the appended event will be on (after a new header when the file has none)."""
    text = content.text
    lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    return lines + (1 if content.header else 2)


def _appended_text(content: _FileContent, header: Sequence[str], cells: Mapping[str, str]) -> str:
    """The file's text with one more CSV line, keeping its line endings; a header first when new."""
    eol = "\r\n" if "\r\n" in content.text else "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=eol)
    if content.header is None:
        writer.writerow(header)
    writer.writerow([cells.get(column, "") for column in header])
    text = content.text
    if text and not text.endswith(("\n", "\r")):
        text += eol
    return text + out.getvalue()
