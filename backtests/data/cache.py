"""The local price cache: one Parquet file per ticker plus a manifest, under ``<data_dir>/prices/``.

``TICKER.parquet`` holds columns ``date`` (timestamp) and ``close`` (float64)
and, in its schema metadata (the footer), the SHA-256 of that content plus the
source and coverage it was stored with: a read recomputes the checksum, so a
truncated or foreign file is reported as corrupt, never read as valid but
wrong. ``manifest.json`` records per ticker the source, when it was written and
the date range; it is an index that can be rebuilt from the footers
(``repair``), which happens by itself, with a note, when it is unreadable.
Both are written atomically (temp file + rename); storing data identical to
what is cached writes nothing at all. Every read-modify-write of the manifest
holds an inter-process file lock (``storage.folder_lock``), so concurrent
imports never lose entries. Tickers are matched case-insensitively.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from backtests.atomic import atomic_write, atomic_write_text
from backtests.data.align import to_price_data
from backtests.data.calendars import DEFAULT_CALENDAR
from backtests.data.frames import PriceData
from backtests.data.storage import folder_lock, require_writable
from backtests.data.validate import clean_tickers, price_series, validate_closes
from backtests.errors import BacktestError, DataUnavailableError, UserInputError

MANIFEST_NAME = "manifest.json"
UNKNOWN_SOURCE = "unknown"
_META_KEY = b"geohedge.sha256"
_ORIGIN_KEY = b"geohedge.origin"  # JSON {"source", "covered_from"}: what the manifest entry needs besides the data


class CorruptCacheError(BacktestError):
    """A cache file that cannot be read or does not match its checksum. Exit code 1."""


@dataclass(frozen=True)
class CacheEntry:
    """What the cache holds for one ticker (``covered_from``: earliest date already asked of the source)."""

    ticker: str
    first: str
    last: str
    rows: int
    source: str
    updated: str
    sha256: str
    covered_from: str


def series_checksum(series: pd.Series) -> str:
    """SHA-256 over the ticker (the series' name), then its dates (int64 ns) and closes (float64), little-endian.

    The ticker is part of it so that one ticker's file copied over another's is caught.
    """
    digest = hashlib.sha256(f"{series.name}\n".encode())
    digest.update(series.index.as_unit("ns").asi8.astype("<i8").tobytes())
    digest.update(series.to_numpy(dtype="<f8").tobytes())
    return digest.hexdigest()


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PriceCache:
    """Cache-first storage of adjusted closes. ``clock`` stamps manifest entries (injectable for tests)."""

    def __init__(
        self, root: str | os.PathLike[str], *, clock: Callable[[], str] = _utc_now
    ) -> None:
        self.dir = Path(root) / "prices"
        self._clock = clock
        self.repairs: list[str] = []  # notes about manifests this object found unreadable and rebuilt

    @property
    def manifest_path(self) -> Path:
        """``<data_dir>/prices/manifest.json``."""
        return self.dir / MANIFEST_NAME

    def path(self, ticker: str) -> Path:
        """The Parquet file of ``ticker``."""
        return self.dir / f"{clean_tickers([ticker])[0]}.parquet"

    def tickers(self) -> list[str]:
        """Tickers with a Parquet file, sorted."""
        return sorted(p.stem for p in self.dir.glob("*.parquet")) if self.dir.is_dir() else []

    def manifest(self) -> dict[str, dict]:
        """Manifest entries by ticker (empty when there is no manifest yet).

        An unreadable manifest is rebuilt from the files' footers (``repair``) and
        a note is added to ``repairs``.
        """
        try:
            return self._read_manifest()
        except (ValueError, KeyError, TypeError) as exc:
            reason = type(exc).__name__
        with folder_lock(self.dir):
            try:  # another process may have repaired it while we waited for the lock
                return self._read_manifest()
            except (ValueError, KeyError, TypeError):
                pass
            entries, corrupt = self._rebuild()
        left_out = f"; left out {len(corrupt)} corrupt file(s): {corrupt[0]}" if corrupt else ""
        self.repairs.append(
            f"cache manifest {self.manifest_path} was unreadable ({reason}); {rebuild_summary(entries)}{left_out}"
        )
        return {e.ticker: _fields(e) for e in entries}

    def entry(self, ticker: str, manifest: dict[str, dict] | None = None) -> CacheEntry | None:
        """What the cache holds for ``ticker`` (None when nothing); ``manifest`` saves re-reading it."""
        ticker = clean_tickers([ticker])[0]
        if not self.path(ticker).exists():
            return None
        fields = (self.manifest() if manifest is None else manifest).get(ticker)
        if fields is None or fields.get("sha256") != self._file_checksum(ticker):
            # The file was written but the process died before the manifest update.
            return self._footer_entry(ticker, updated="")
        return CacheEntry(ticker=ticker, **fields)

    def repair(self) -> tuple[list[CacheEntry], list[str]]:
        """Rewrite the manifest from the Parquet footers: (entries now listed, messages for corrupt files).

        Corrupt files are left in place and left out of the manifest.
        """
        require_writable(self.dir)
        with folder_lock(self.dir):
            entries, corrupt = self._rebuild()
        return entries, corrupt

    def entries(self) -> list[CacheEntry]:
        """One entry per cached ticker, sorted by ticker."""
        manifest = self.manifest()
        return [e for e in (self.entry(t, manifest) for t in self.tickers()) if e is not None]

    def read(self, ticker: str) -> pd.Series:
        """The cached closes of ``ticker``; ``CorruptCacheError`` if the file is damaged or foreign."""
        ticker = clean_tickers([ticker])[0]
        path = self.path(ticker)
        try:
            table = pq.ParquetFile(path).read(use_threads=False)
            expected = (table.schema.metadata or {}).get(_META_KEY, b"").decode()
            series = price_series(
                table.column("date").to_numpy(), table.column("close").to_numpy(), ticker
            )
        except FileNotFoundError:
            raise DataUnavailableError(
                f"{ticker} is not in the cache {self.dir}; {_fix_hint([ticker])}"
            ) from None
        except (OSError, pa.ArrowException, KeyError, ValueError, TypeError) as exc:
            raise self._corrupt(ticker, path, _one_line(exc)) from None
        if not expected:
            raise self._corrupt(ticker, path, "no geohedge checksum: not written by this cache")
        if series_checksum(series) != expected:
            raise self._corrupt(ticker, path, "content does not match its checksum")
        return series

    def store(
        self, ticker: str, series: pd.Series, *, source: str, covered_from: str | None = None
    ) -> str:
        """Write ``series`` as the whole history of ``ticker``: returns ``new``, ``updated`` or ``unchanged``.

        Unchanged data (same checksum and coverage) writes nothing, not even the manifest.
        """
        ticker = clean_tickers([ticker])[0]
        validate_closes({ticker: series})
        series = price_series(series.index, series.to_numpy(), ticker)
        checksum = series_checksum(series)
        covered = min(covered_from or f"{series.index[0]:%Y-%m-%d}", f"{series.index[0]:%Y-%m-%d}")
        with folder_lock(self.dir):
            old = self.entry(ticker)
            if old is not None and old.sha256 == checksum and old.covered_from == covered:
                return "unchanged"
            origin = json.dumps({"source": source, "covered_from": covered}, sort_keys=True)
            table = pa.table(
                {"date": pa.array(series.index.to_numpy()), "close": pa.array(series.to_numpy())}
            ).replace_schema_metadata({_META_KEY: checksum.encode(), _ORIGIN_KEY: origin.encode()})
            atomic_write(self.path(ticker), lambda tmp: pq.write_table(table, str(tmp)))
            entry = self._entry(
                ticker, series, source=source, updated=self._clock(), covered_from=covered
            )
            self._write_manifest({**self.manifest(), ticker: _fields(entry)})
        return "new" if old is None else "updated"

    def remove(self, tickers: Sequence[str]) -> list[str]:
        """Delete the given tickers (file and manifest entry); unknown tickers are an error."""
        wanted = clean_tickers(tickers)
        absent = [t for t in wanted if not self.path(t).exists()]
        if absent:
            raise UserInputError(
                f"not in the cache {self.dir}: {', '.join(absent)}; see `backtest data list` for what is cached"
            )
        require_writable(self.dir)
        with folder_lock(self.dir):
            manifest = self.manifest()
            for ticker in wanted:
                self.path(ticker).unlink()
                manifest.pop(ticker, None)
            self._write_manifest(manifest)
        return list(wanted)

    def clear(self) -> list[str]:
        """Delete every cached price file, leftover temp file and the manifest; return the tickers removed."""
        if not self.dir.is_dir():
            return []
        require_writable(self.dir)
        with folder_lock(self.dir):
            removed = self.tickers()
            for path in [*self.dir.glob("*.parquet"), *self.dir.glob(".*.tmp"), self.manifest_path]:
                path.unlink(missing_ok=True)
        return removed

    def load(
        self,
        tickers: Sequence[str],
        start: pd.Timestamp | None,
        end: pd.Timestamp | None,
        *,
        calendar: str = DEFAULT_CALENDAR,
        allow_extreme_moves: bool = False,
    ) -> PriceData:
        """Aligned closes from the cache only; missing tickers raise ``DataUnavailableError`` with the fix.

        Notes include any manifest repair this object made.
        """
        wanted = clean_tickers(tickers)
        missing = [t for t in wanted if not self.path(t).exists()]
        if missing:
            raise DataUnavailableError(
                f"not in the cache {self.dir}: {', '.join(missing)}; {_fix_hint(missing)}"
            )
        series = {ticker: self.read(ticker) for ticker in wanted}
        return to_price_data(
            series,
            start,
            end,
            source="cache",
            notes=(*self.repairs, *_stale_notes(series, end)),
            calendar=calendar,
            allow_extreme_moves=allow_extreme_moves,
        )

    def _entry(
        self, ticker: str, series: pd.Series, *, source: str, updated: str, covered_from: str | None
    ) -> CacheEntry:
        first, last = f"{series.index[0]:%Y-%m-%d}", f"{series.index[-1]:%Y-%m-%d}"
        return CacheEntry(
            ticker=ticker,
            first=first,
            last=last,
            rows=len(series),
            source=source,
            updated=updated,
            sha256=series_checksum(series),
            covered_from=covered_from or first,
        )

    def _footer(self, ticker: str) -> dict[bytes, bytes]:
        """The file's schema metadata (cheap: the data is not read)."""
        path = self.path(ticker)
        try:
            return pq.read_schema(path).metadata or {}
        except (OSError, pa.ArrowException) as exc:
            raise self._corrupt(ticker, path, _one_line(exc)) from None

    def _file_checksum(self, ticker: str) -> str:
        """The checksum stored in the file's footer."""
        return self._footer(ticker).get(_META_KEY, b"").decode()

    def _footer_entry(self, ticker: str, *, updated: str) -> CacheEntry:
        """The entry of a verified file from its footer (source ``unknown`` for files from before footers had it)."""
        series = self.read(ticker)
        try:
            origin = json.loads(self._footer(ticker).get(_ORIGIN_KEY, b"{}"))
            source, covered = str(origin.get("source", UNKNOWN_SOURCE)), origin.get("covered_from")
        except (ValueError, AttributeError):
            source, covered = UNKNOWN_SOURCE, None
        return self._entry(ticker, series, source=source, updated=updated, covered_from=covered)

    def _rebuild(self) -> tuple[list[CacheEntry], list[str]]:
        """Write the manifest from the footers (caller holds the lock): entries, corrupt-file messages.

        ``updated`` becomes the file's modification time.
        """
        entries: list[CacheEntry] = []
        corrupt: list[str] = []
        for ticker in self.tickers():
            try:
                updated = dt.datetime.fromtimestamp(self.path(ticker).stat().st_mtime, dt.UTC)
                entries.append(self._footer_entry(ticker, updated=updated.strftime("%Y-%m-%dT%H:%M:%SZ")))
            except CorruptCacheError as exc:
                corrupt.append(str(exc))
        self._write_manifest({e.ticker: _fields(e) for e in entries})
        return entries, corrupt

    def _read_manifest(self) -> dict[str, dict]:
        """The manifest's entries; ValueError/KeyError/TypeError when it is not a valid manifest."""
        try:
            text = self.manifest_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        entries = dict(json.loads(text)["tickers"])
        expected = set(CacheEntry.__dataclass_fields__) - {"ticker"}
        for ticker, fields in entries.items():
            if not isinstance(fields, dict) or set(fields) != expected:
                raise TypeError(f"entry {ticker!r} is not a cache entry")
        return entries

    def _write_manifest(self, entries: dict[str, dict]) -> None:
        payload = {"version": 1, "tickers": dict(sorted(entries.items()))}
        atomic_write_text(self.manifest_path, json.dumps(payload, indent=2, sort_keys=True) + "\n")

    def _corrupt(self, ticker: str, path: Path, reason: str) -> CorruptCacheError:
        return CorruptCacheError(
            f"cache file {path} is corrupt ({reason}); run `backtest data clear {ticker}` "
            f"then re-import or re-fetch {ticker}"
        )


def rebuild_summary(entries: Sequence[CacheEntry]) -> str:
    """How a manifest rebuild went, for a note: ``rebuilt from the footers of N Parquet file(s)...``."""
    unknown = sum(e.source == UNKNOWN_SOURCE for e in entries)
    text = f"rebuilt from the footers of {len(entries)} Parquet file(s)"
    return text + (f" ({unknown} written before footers kept the source: source unknown)" if unknown else "")


def _fields(entry: CacheEntry) -> dict:
    return {k: v for k, v in entry.__dict__.items() if k != "ticker"}


def _fix_hint(tickers: Sequence[str]) -> str:
    return f"run `backtest data import PATH` or `backtest data fetch {' '.join(tickers)}`"


def _stale_notes(series: dict[str, pd.Series], end: pd.Timestamp | None) -> tuple[str, ...]:
    if end is None:
        return ()
    # A few days of slack so an end date on a weekend or holiday after the last close is not "stale".
    stale = sorted(t for t, s in series.items() if s.index[-1] < end - pd.Timedelta(days=4))
    if not stale:
        return ()
    last = max(series[t].index[-1] for t in stale)
    return (
        f"the cache ends before {end:%Y-%m-%d} for {', '.join(stale)} (at the latest {last:%Y-%m-%d}); "
        f"run `backtest data fetch {' '.join(stale)}` to extend it",
    )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
