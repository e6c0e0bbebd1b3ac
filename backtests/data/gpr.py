"""The Caldara–Iacoviello Geopolitical Risk (GPR) index: read any known layout, cache, fetch.

Accepted layouts (detected from the header; CSV, .xls or .xlsx, sniffed from the bytes):

- daily, authors' spreadsheet ``data_gpr_daily_recent``: ``DAY`` (YYYYMMDD) or
  ``date``, ``GPRD``, ``GPRD_ACT``, ``GPRD_THREAT`` (other columns ignored);
- daily, CSV form: ``date,gpr_index,gpr_acts,gpr_threats``;
- monthly, authors' ``data_gpr_export``: ``month``, ``GPR``, ``GPRA``, ``GPRT``;
- monthly, CSV form: ``month,gpr_monthly,gpr_threats_monthly,gpr_acts_monthly``.

Normalised frame: float columns ``gpr``, ``gpr_acts``, ``gpr_threats`` on a
sorted, unique ``DatetimeIndex`` named ``date`` (calendar days, or month
starts). Rows with no value at all (the index not yet published) are dropped;
a negative value is an error (the index counts articles: never below 0).
The cache holds ``<data_dir>/gpr/gpr_daily.parquet``, ``gpr_monthly.parquet``
and ``manifest.json`` (source, import time, first/last date per kind).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import http.client
import io
import json
import math
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from backtests.atomic import atomic_write, atomic_write_text
from backtests.data.storage import folder_lock, require_writable
from backtests.errors import BacktestError, DataUnavailableError, UserInputError
from backtests.paths import data_dir as resolve_data_dir

GPR_COLUMNS: tuple[str, ...] = ("gpr", "gpr_acts", "gpr_threats")
GPR_DAILY_URL = "https://www.matteoiacoviello.com/gpr_files/data_gpr_daily_recent.xls"
KINDS = ("daily", "monthly")

_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_XLSX_MAGIC = b"PK\x03\x04"
_YYYYMMDD = re.compile(r"(\d{8})(\.0+)?")
_ISO_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})([ T]00:00(:00)?)?")
_ISO_MONTH = re.compile(r"\d{4}-\d{2}")


@dataclass(frozen=True)
class _Layout:
    """One known column layout: the date column and the source of ``gpr``, ``gpr_acts``, ``gpr_threats``."""

    kind: str
    date_column: str
    value_columns: tuple[str, str, str]


_LAYOUTS = (
    _Layout("daily", "DAY", ("GPRD", "GPRD_ACT", "GPRD_THREAT")),
    _Layout("daily", "date", ("GPRD", "GPRD_ACT", "GPRD_THREAT")),
    _Layout("daily", "date", ("gpr_index", "gpr_acts", "gpr_threats")),
    _Layout("monthly", "month", ("GPR", "GPRA", "GPRT")),
    _Layout("monthly", "month", ("gpr_monthly", "gpr_acts_monthly", "gpr_threats_monthly")),
)
_EXPECTED = (
    "a daily file with DAY,GPRD,GPRD_ACT,GPRD_THREAT (or date,gpr_index,gpr_acts,gpr_threats) "
    "or a monthly file with month,GPR,GPRA,GPRT (or month,gpr_monthly,gpr_acts_monthly,gpr_threats_monthly)"
)

Rows = list[tuple[int, list[str]]]


@dataclass(frozen=True)
class GprImport:
    """What an import or fetch did: which series, how many rows, the span, and whether the cache changed."""

    kind: str
    rows: int
    first: pd.Timestamp
    last: pd.Timestamp
    path: Path
    changed: bool


# --- reading -----------------------------------------------------------------


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV export would hold."""
    if not isinstance(value, str) and pd.isna(value):
        return ""
    if isinstance(value, (dt.datetime, dt.date, pd.Timestamp)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e7:
        return str(int(value))  # a YYYYMMDD day read as a float
    return str(value)


def _spreadsheet_rows(data: bytes, name: str, engine: str) -> tuple[list[str], Rows]:
    """Header and rows of the first sheet; row numbers as the spreadsheet shows them."""
    try:
        sheet = pd.read_excel(io.BytesIO(data), engine=engine, header=None, dtype=object)
    except ImportError:
        package = "xlrd" if engine == "xlrd" else "openpyxl"
        raise BacktestError(
            f"{name}: reading this spreadsheet needs the {package} package; "
            f"run `pip install {package}` or save the sheet as CSV and import that"
        ) from None
    except Exception as exc:  # noqa: BLE001 - the engines raise many types for a corrupt file
        raise UserInputError(f"{name}: not a readable spreadsheet ({exc}); save it again as .xlsx or CSV") from None
    table = [[_cell_text(v) for v in row] for row in sheet.itertuples(index=False)]
    if not table:
        return [], []
    return table[0], [(number, row) for number, row in enumerate(table[1:], start=2)]


def _csv_rows(data: bytes) -> tuple[list[str], Rows]:
    """Header and rows of CSV bytes; only numeric columns matter, so undecodable bytes are replaced."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace"), newline=""))
    header: list[str] = []
    rows: Rows = []
    start = 1
    for row in reader:
        if not header:
            header = row
        elif any(cell.strip() for cell in row):
            rows.append((start, row))
        start = reader.line_num + 1
    return header, rows


def _table(data: bytes, name: str) -> tuple[list[str], Rows]:
    if data.startswith(_XLS_MAGIC):
        return _spreadsheet_rows(data, name, "xlrd")
    if data.startswith(_XLSX_MAGIC):
        return _spreadsheet_rows(data, name, "openpyxl")
    try:
        return _csv_rows(data)
    except csv.Error as exc:
        raise UserInputError(f"{name}: malformed CSV ({exc}); export the sheet again as CSV") from None


def _layout(header: Sequence[str], name: str) -> _Layout:
    present = set(header)
    for layout in _LAYOUTS:
        if layout.date_column in present and present.issuperset(layout.value_columns):
            return layout
    raise UserInputError(f"{name}:1: no GPR columns found; expected {_EXPECTED}")


def _parse_date(text: str, monthly: bool, where: str) -> pd.Timestamp:
    """YYYY-MM-DD (optionally with a midnight time), YYYYMMDD, or for monthly files YYYY-MM(-01)."""
    date = None
    try:
        if match := _YYYYMMDD.fullmatch(text):
            date = pd.Timestamp(dt.datetime.strptime(match.group(1), "%Y%m%d"))
        elif match := _ISO_DAY.fullmatch(text):
            date = pd.Timestamp(dt.date.fromisoformat(match.group(1)))
        elif monthly and _ISO_MONTH.fullmatch(text):
            date = pd.Timestamp(dt.date.fromisoformat(text + "-01"))
    except ValueError:
        pass
    if date is None:
        hint = "YYYY-MM-DD or YYYY-MM" if monthly else "YYYY-MM-DD or YYYYMMDD"
        raise UserInputError(f"{where}: {text!r} is not a date; use {hint}")
    if monthly and date.day != 1:
        raise UserInputError(f"{where}: {date:%Y-%m-%d} is not the first day of a month; date monthly rows YYYY-MM-01")
    return date


def _parse_value(text: str, where: str) -> float:
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UserInputError(f"{where}: {text!r} is not a number; fix the cell or leave it empty")
    return value


def _normalise(header: list[str], rows: Rows, layout: _Layout, name: str) -> pd.DataFrame:
    """Rows -> the normalised frame, with one-line errors naming file, line and column.

    Rows with no value at all are skipped (the index is not published for them).
    """
    columns = (layout.date_column, *layout.value_columns)
    position = [header.index(column) for column in columns]
    first_line: dict[pd.Timestamp, int] = {}
    dates, values = [], []
    for line, row in rows:
        cells = [row[i].strip() if i < len(row) else "" for i in position]
        numbers = [_parse_value(text, f"{name}:{line}:{col}") for text, col in zip(cells[1:], columns[1:])]
        if all(math.isnan(n) for n in numbers):
            continue
        where = f"{name}:{line}:{layout.date_column}"
        date = _parse_date(cells[0], layout.kind == "monthly", where)
        negative = [(column, n) for column, n in zip(columns[1:], numbers) if n < 0]
        if negative:
            column, value = negative[0]
            raise UserInputError(
                f"{name}:{line}:{column}: {value:g} on {date:%Y-%m-%d} is negative; "
                "the GPR index is never below 0, fix the cell or leave it empty"
            )
        if date in first_line:
            raise UserInputError(f"{where}: {date:%Y-%m-%d} appears again (first on line {first_line[date]}); keep one")
        first_line[date] = line
        dates.append(date)
        values.append(numbers)
    if not dates:
        raise UserInputError(f"{name}: no GPR values found; expected rows of {_EXPECTED}")
    index = pd.DatetimeIndex(dates, name="date").astype("datetime64[ns]")
    return pd.DataFrame(values, index=index, columns=list(GPR_COLUMNS), dtype="float64").sort_index()


def parse_gpr_bytes(data: bytes, name: str) -> tuple[str, pd.DataFrame]:
    """Detect the layout of a GPR file's bytes; returns (``"daily"`` or ``"monthly"``, normalised frame)."""
    header, rows = _table(data, name)
    header = [column.strip() for column in header]
    layout = _layout(header, name)
    return layout.kind, _normalise(header, rows, layout, name)


def _read_bytes(path: str | os.PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        reason = exc.strerror or exc
        raise UserInputError(f"{path}: cannot read the file ({reason}); check the path and permissions") from None


def read_gpr(path: str | os.PathLike[str]) -> tuple[str, pd.DataFrame]:
    """Read a GPR file of any known layout; returns (kind, normalised frame)."""
    return parse_gpr_bytes(_read_bytes(path), str(path))


def _load_kind(path: str | os.PathLike[str], kind: str) -> pd.DataFrame:
    found, frame = read_gpr(path)
    if found != kind:
        other = "load_gpr_monthly" if found == "monthly" else "load_gpr"
        raise UserInputError(f"{path}: this is the {found} GPR index, not the {kind} one; read it with {other}")
    return frame


def load_gpr(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The daily GPR index from a file: columns ``gpr``, ``gpr_acts``, ``gpr_threats``, calendar-day index."""
    return _load_kind(path, "daily")


def load_gpr_monthly(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The monthly GPR index from a file: same columns, index of month-start dates."""
    return _load_kind(path, "monthly")


# --- cache -------------------------------------------------------------------


def _cache_folder(data_dir: str | os.PathLike[str] | None) -> Path:
    return resolve_data_dir(data_dir) / "gpr"


def _read_parquet(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise DataUnavailableError(
            f"{path}: the cached GPR index is unreadable ({exc}); re-import it with `backtest data import-gpr FILE`"
        ) from None
    frame.index = frame.index.astype("datetime64[ns]")
    return frame


def cached_gpr(data_dir: str | os.PathLike[str] | None = None, *, kind: str = "daily") -> pd.DataFrame | None:
    """The cached GPR index (``kind`` daily or monthly), or None when nothing was imported."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    return _read_parquet(_cache_folder(data_dir) / f"gpr_{kind}.parquet")


def _read_manifest(path: Path) -> dict[str, dict[str, object]]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError):
        return {}  # an unreadable manifest is rewritten on the next import
    return manifest if isinstance(manifest, dict) else {}


def store_gpr(
    frame: pd.DataFrame, kind: str, source: str, data_dir: str | os.PathLike[str] | None = None
) -> GprImport:
    """Cache a normalised frame; leaves every file untouched when the same data from the same source is there.

    The manifest's read-modify-write holds the folder's inter-process lock.
    """
    folder = _cache_folder(data_dir)
    target = folder / f"gpr_{kind}.parquet"
    manifest_path = folder / "manifest.json"
    with folder_lock(folder):
        return _store_locked(frame, kind, source, target, manifest_path)


def _store_locked(frame: pd.DataFrame, kind: str, source: str, target: Path, manifest_path: Path) -> GprImport:
    manifest = _read_manifest(manifest_path)
    cached = _read_parquet(target)
    unchanged = cached is not None and cached.equals(frame) and manifest.get(kind, {}).get("source") == source
    if not unchanged:
        atomic_write(target, lambda tmp: frame.to_parquet(tmp, engine="pyarrow"))
        manifest[kind] = {
            "source": source,
            "imported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "first": f"{frame.index[0]:%Y-%m-%d}",
            "last": f"{frame.index[-1]:%Y-%m-%d}",
            "rows": len(frame),
        }
        atomic_write_text(manifest_path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return GprImport(kind, len(frame), frame.index[0], frame.index[-1], target, changed=not unchanged)


def import_gpr(path: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None) -> GprImport:
    """Read a GPR file (daily or monthly, detected) and cache it (an unwritable cache fails first)."""
    require_writable(_cache_folder(data_dir))
    data = _read_bytes(path)
    kind, frame = parse_gpr_bytes(data, str(path))
    source = f"file:{Path(path).resolve()} sha256:{hashlib.sha256(data).hexdigest()}"
    return store_gpr(frame, kind, source, data_dir)


Opener = Callable[..., object]


def fetch_gpr(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    url: str = GPR_DAILY_URL,
    opener: Opener | None = None,
    timeout: float = 60.0,
) -> GprImport:
    """Download the authors' daily GPR file and cache it; the cache is untouched on any failure.

    ``opener(url, timeout=...)`` returns a context manager with ``read()``
    (default ``urllib.request.urlopen``; tests pass a fake).
    """
    require_writable(_cache_folder(data_dir))
    open_url = opener or urllib.request.urlopen
    suggestion = "download it in a browser and run `backtest data import-gpr FILE`"
    try:
        with open_url(url, timeout=timeout) as response:
            data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise DataUnavailableError(f"cannot download the GPR index from {url} ({reason}); {suggestion}") from None
    name = url.rsplit("/", 1)[-1]
    try:
        kind, frame = parse_gpr_bytes(data, name)
    except BacktestError as exc:
        raise DataUnavailableError(f"the downloaded GPR file is not usable: {exc}") from None
    return store_gpr(frame, kind, url, data_dir)
