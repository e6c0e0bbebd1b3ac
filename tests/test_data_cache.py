"""The Parquet cache: round trip, manifest, no-op re-store, corruption and interrupted writes."""

from __future__ import annotations

import hashlib
import shutil
import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtests.data import cache as cache_module
from backtests.data.cache import CorruptCacheError, PriceCache, series_checksum
from backtests.data.validate import price_series
from backtests.errors import DataUnavailableError, UserInputError

OLD = price_series(pd.bdate_range("2024-01-02", periods=5), [1.0, 2.0, 3.0, 4.0, 5.0], "SPY")
NEW = price_series(pd.bdate_range("2024-01-02", periods=6), [1.0, 2.0, 3.0, 4.0, 5.0, 6.5], "SPY")


def _cache(tmp_path) -> PriceCache:
    return PriceCache(tmp_path, clock=lambda: "2026-01-01T00:00:00Z")


def _snapshot(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_round_trip_and_manifest(tmp_path):
    cache = _cache(tmp_path)
    assert cache.store("spy", OLD, source="csv:/x/SPY.csv") == "new"
    pd.testing.assert_series_equal(cache.read("SPY"), OLD)
    manifest = json.loads((tmp_path / "prices" / "manifest.json").read_text())
    assert manifest == {
        "version": 1,
        "tickers": {
            "SPY": {
                "source": "csv:/x/SPY.csv",
                "updated": "2026-01-01T00:00:00Z",
                "first": "2024-01-02",
                "last": "2024-01-08",
                "rows": 5,
                "sha256": series_checksum(OLD),
                "covered_from": "2024-01-02",
            }
        },
    }


def test_checksum_is_sha256_of_ticker_int64_dates_and_float64_closes():
    expected = hashlib.sha256(
        f"{OLD.name}\n".encode()
        + OLD.index.as_unit("ns").asi8.astype("<i8").tobytes()
        + OLD.to_numpy().astype("<f8").tobytes()
    ).hexdigest()
    assert series_checksum(OLD) == expected


def test_storing_the_same_data_again_writes_nothing(tmp_path):
    cache = _cache(tmp_path)
    cache.store("SPY", OLD, source="csv:a")
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "prices").iterdir()}
    later = PriceCache(tmp_path, clock=lambda: "2030-01-01T00:00:00Z")
    assert later.store("SPY", OLD.copy(), source="csv:b") == "unchanged"
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "prices").iterdir()} == before
    assert later.store("SPY", NEW, source="csv:b") == "updated"
    assert later.entry("SPY").rows == 6 and later.entry("SPY").source == "csv:b"


def test_truncated_file_gives_the_one_line_corrupt_error(tmp_path):
    cache = _cache(tmp_path)
    cache.store("SPY", OLD, source="csv:a")
    path = cache.path("SPY")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CorruptCacheError) as err:
        cache.read("SPY")
    message = str(err.value)
    assert message.startswith(f"cache file {path} is corrupt (")
    assert message.endswith("); run `backtest data clear SPY` then re-import or re-fetch SPY")
    assert "\n" not in message


def test_foreign_or_tampered_parquet_never_reads_as_valid(tmp_path):
    cache = _cache(tmp_path)
    cache.store("SPY", OLD, source="csv:a")
    path = cache.path("SPY")
    good = pq.read_table(path)
    tampered = good.set_column(1, "close", pa.array([1.0, 2.0, 3.0, 4.0, 9.0]))
    pq.write_table(tampered.replace_schema_metadata(good.schema.metadata), path)
    with pytest.raises(CorruptCacheError, match=r"\(content does not match its checksum\)"):
        cache.read("SPY")
    pq.write_table(tampered.replace_schema_metadata(None), path)
    with pytest.raises(
        CorruptCacheError, match=r"\(no geohedge checksum: not written by this cache\)"
    ):
        cache.read("SPY")


def test_write_killed_before_rename_leaves_the_old_file(tmp_path, monkeypatch):
    cache = _cache(tmp_path)
    cache.store("SPY", OLD, source="csv:a")
    before = _snapshot(tmp_path / "prices")

    def killed(*args):
        raise KeyboardInterrupt  # as if the process were interrupted right before the rename

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        cache.store("SPY", NEW, source="csv:b")
    monkeypatch.undo()
    assert _snapshot(tmp_path / "prices") == before
    pd.testing.assert_series_equal(cache.read("SPY"), OLD)


def test_write_failing_halfway_leaves_the_old_file(tmp_path, monkeypatch):
    cache = _cache(tmp_path)
    cache.store("SPY", OLD, source="csv:a")
    before = _snapshot(tmp_path / "prices")
    real_write = pq.write_table

    def half_then_die(table, where, **kwargs):
        real_write(table, where, **kwargs)
        with open(where, "r+b") as handle:
            handle.truncate(os.path.getsize(where) // 2)
        raise OSError("disk full")

    monkeypatch.setattr(cache_module.pq, "write_table", half_then_die)
    with pytest.raises(OSError, match="disk full"):
        cache.store("SPY", NEW, source="csv:b")
    assert _snapshot(tmp_path / "prices") == before
    pd.testing.assert_series_equal(cache.read("SPY"), OLD)


def test_leftover_temp_file_of_a_killed_process_is_ignored_and_cleared(tmp_path):
    cache = _cache(tmp_path)
    cache.store("SPY", OLD, source="csv:a")
    leftover = tmp_path / "prices" / ".TLT.parquet.abc123.tmp"
    leftover.write_bytes(cache.path("SPY").read_bytes()[:100])
    assert cache.tickers() == ["SPY"]
    assert cache.clear() == ["SPY"]
    assert list((tmp_path / "prices").iterdir()) == []


def test_death_between_file_and_manifest_still_reads_what_was_written(tmp_path, monkeypatch):
    cache = _cache(tmp_path)
    cache.store("SPY", OLD, source="csv:a")

    def killed(self, entries):
        raise OSError("killed")

    monkeypatch.setattr(PriceCache, "_write_manifest", killed)
    with pytest.raises(OSError):
        cache.store("SPY", NEW, source="csv:b")
    with pytest.raises(OSError):
        cache.store("TLT", OLD.rename("TLT"), source="csv:b")
    monkeypatch.undo()
    # The manifest still describes the old SPY and lacks TLT: the files' own checksums and
    # footers win (the footer keeps the source the file was stored with).
    assert [(e.ticker, e.source, e.rows, e.last) for e in cache.entries()] == [
        ("SPY", "csv:b", 6, "2024-01-09"),
        ("TLT", "csv:b", 5, "2024-01-08"),
    ]
    pd.testing.assert_series_equal(cache.read("SPY"), NEW)


def test_load_of_missing_tickers_names_them_and_the_fix(tmp_path):
    cache = _cache(tmp_path)
    cache.store("SPY", OLD, source="csv:a")
    with pytest.raises(DataUnavailableError) as err:
        cache.load(["SPY", "TLT", "GLD"], None, None)
    assert str(err.value) == (
        f"not in the cache {tmp_path / 'prices'}: TLT, GLD; "
        "run `backtest data import PATH` or `backtest data fetch TLT GLD`"
    )


def test_load_notes_a_cache_that_ends_before_the_requested_end(tmp_path):
    cache = _cache(tmp_path)
    cache.store("SPY", OLD, source="csv:a")
    data = cache.load(["SPY"], None, pd.Timestamp("2024-02-01"))
    assert data.source == "cache" and len(data.closes) == 5
    assert data.notes == (
        "the cache ends before 2024-02-01 for SPY (at the latest 2024-01-08); "
        "run `backtest data fetch SPY` to extend it",
    )


def test_remove(tmp_path):
    cache = _cache(tmp_path)
    cache.store("SPY", OLD, source="csv:a")
    cache.store("TLT", OLD.rename("TLT"), source="csv:a")
    with pytest.raises(UserInputError, match=r"not in the cache .*: GLD; see `backtest data list`"):
        cache.remove(["GLD"])
    assert cache.remove(["spy"]) == ["SPY"] and cache.tickers() == ["TLT"]
    assert list(json.loads(cache.manifest_path.read_text())["tickers"]) == ["TLT"]


@settings(max_examples=40, deadline=None)
@given(
    offsets=st.lists(st.integers(-20_000, 20_000), min_size=1, max_size=60, unique=True),
    data=st.data(),
)
def test_any_valid_series_reads_back_bit_for_bit(offsets, data):
    dates = pd.Timestamp("2000-01-01") + pd.to_timedelta(sorted(offsets), unit="D")
    values = data.draw(
        st.lists(
            st.floats(1e-9, 1e12, allow_nan=False, allow_infinity=False),
            min_size=len(dates),
            max_size=len(dates),
        )
    )
    series = price_series(dates, values, "ABC")
    with tempfile.TemporaryDirectory() as root:
        cache = PriceCache(root)
        assert cache.store("ABC", series, source="test") == "new"
        back = cache.read("ABC")
        assert cache.store("ABC", back, source="test") == "unchanged"
    assert back.index.equals(series.index)
    assert back.to_numpy().tobytes() == series.to_numpy().tobytes()


def test_one_tickers_file_copied_over_anothers_is_reported_corrupt(tmp_path: Path) -> None:
    cache = PriceCache(tmp_path)
    cache.store("SPY", OLD.rename("SPY"), source="test")
    cache.store("GLD", (OLD * 2).rename("GLD"), source="test")
    shutil.copyfile(cache.path("GLD"), cache.path("SPY"))
    with pytest.raises(CorruptCacheError, match="content does not match its checksum"):
        cache.read("SPY")


def test_repair_keeps_sources_from_footers_and_marks_older_files_unknown(tmp_path):
    cache = _cache(tmp_path)
    cache.store("SPY", OLD, source="csv:/x/SPY.csv", covered_from="2020-01-01")
    # A file as the cache wrote it before footers kept the source: checksum only.
    tlt = OLD.rename("TLT")
    table = pa.table({"date": pa.array(tlt.index.to_numpy()), "close": pa.array(tlt.to_numpy())})
    footer = {b"geohedge.sha256": series_checksum(tlt).encode()}
    pq.write_table(table.replace_schema_metadata(footer), cache.path("TLT"))
    cache.manifest_path.write_text("[]")
    entries, corrupt = cache.repair()
    assert corrupt == []
    assert [(e.ticker, e.source, e.covered_from, e.rows) for e in entries] == [
        ("SPY", "csv:/x/SPY.csv", "2020-01-01", 5),
        ("TLT", "unknown", "2024-01-02", 5),
    ]
    assert cache_module.rebuild_summary(entries) == (
        "rebuilt from the footers of 2 Parquet file(s) (1 written before footers kept the source: source unknown)"
    )
    assert json.loads(cache.manifest_path.read_text())["tickers"]["SPY"]["source"] == "csv:/x/SPY.csv"
