"""Yahoo Finance via yfinance: batched downloads of adjusted closes, with failure detection and retries.

yfinance 1.x catches per-ticker failures itself: ``download`` returns empty or
all-NaN columns for them and logs a summary line per cause on the ``yfinance``
logger (``['SPY', 'TLT']: DNSError('...')``). We capture those lines to tell a
network outage (-> ``YahooUnavailableError``) and a rate limit (-> retry with
exponential backoff) from an unknown ticker (-> reported in ``FetchResult.failed``).
The download and sleep functions are injectable so tests never touch the network.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import pandas as pd

from backtests.data.align import to_price_data
from backtests.data.calendars import DEFAULT_CALENDAR
from backtests.data.frames import PriceData
from backtests.data.validate import clean_tickers, price_series
from backtests.errors import DataUnavailableError, UserInputError

# yfinance fetches only the last month when start is omitted; ask for everything instead.
EARLIEST_START = pd.Timestamp("1970-01-02")

_RATE_LIMIT = re.compile(r"YFRateLimitError|Too Many Requests|Rate limited", re.IGNORECASE)
_NETWORK = re.compile(
    r"ConnectionError|DNSError|Timeout|timed out|Could not resolve|Failed to perform|Connection refused|"
    r"Network is unreachable|SSLError|ProxyError|No route to host",
    re.IGNORECASE,
)
# The end-of-download summary: "['SPY', 'TLT']: DNSError(...)".
_SUMMARY = re.compile(r"^\[([^\]]*)\]: (.*)$", re.DOTALL)
# Logged when the timezone lookup fails; the summary then only says "no timezone found".
_TZ_FAILURE = re.compile(r"^Failed to get ticker '([^']+)' reason: (.*)$", re.DOTALL)


class YahooUnavailableError(DataUnavailableError):
    """Yahoo Finance could not be reached or kept rate-limiting us. Exit code 1."""


@dataclass(frozen=True)
class FetchResult:
    """Closes per ticker that Yahoo returned, and ``failed``: ticker -> reason for those it did not."""

    closes: dict[str, pd.Series]
    failed: dict[str, str] = field(default_factory=dict)


def _yfinance_download(*args, **kwargs) -> pd.DataFrame:
    import yfinance  # slow import, only when a download is really wanted

    with warnings.catch_warnings():
        # yfinance 1.7 trips pandas 3 deprecation warnings: noise for our users. Set after the
        # import, which installs yfinance's own filters in front of ours.
        warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
        return yfinance.download(*args, **kwargs)


class YahooSource:
    """Adjusted daily closes from Yahoo Finance (``auto_adjust=True``), ``end`` inclusive."""

    label = "yahoo"

    def __init__(
        self,
        download: Callable[..., pd.DataFrame] | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        retries: int = 4,
        backoff_seconds: float = 2.0,
        threads: bool | int = True,
    ) -> None:
        self._download = download or _yfinance_download
        self._sleep = sleep
        self._retries = retries
        self._backoff = backoff_seconds
        self._threads = threads

    def fetch(
        self, tickers: Sequence[str], start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> FetchResult:
        """Download ``tickers`` over ``[start, end]`` in one batch, retrying rate-limited tickers.

        Raises ``YahooUnavailableError`` when the network is down or the rate limit outlasts the retries.
        """
        pending = list(clean_tickers(tickers))
        closes: dict[str, pd.Series] = {}
        failed: dict[str, str] = {}
        for attempt in range(self._retries + 1):
            got, errors = self._download_once(pending, start, end)
            closes.update(got)
            missing = [t for t in pending if t not in got]
            offline = [m for t in missing if (m := _find(errors.get(t), _NETWORK))]
            if offline:
                raise _unreachable(offline[0])
            limited = [t for t in missing if _find(errors.get(t), _RATE_LIMIT)]
            failed.update(
                {
                    t: (errors.get(t) or ["no prices returned"])[-1]
                    for t in missing
                    if t not in limited
                }
            )
            if not limited:
                return FetchResult(closes=closes, failed=failed)
            if attempt < self._retries:
                self._sleep(self._backoff * 2**attempt)
            pending = limited
        raise YahooUnavailableError(
            f"Yahoo Finance is rate-limiting downloads (still limited after {self._retries + 1} tries "
            f"for {', '.join(pending)}); wait a few minutes and run the command again"
        )

    def load(
        self,
        tickers: Sequence[str],
        start: pd.Timestamp | None,
        end: pd.Timestamp | None,
        *,
        calendar: str = DEFAULT_CALENDAR,
        allow_extreme_moves: bool = False,
    ) -> PriceData:
        """Aligned closes straight from Yahoo on ``calendar``'s sessions; tickers without prices are an error."""
        result = self.fetch(tickers, start, end)
        raise_failed(result.failed)
        return to_price_data(
            result.closes,
            start,
            end,
            source=self.label,
            calendar=calendar,
            allow_extreme_moves=allow_extreme_moves,
        )

    def _download_once(
        self, tickers: list[str], start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> tuple[dict[str, pd.Series], dict[str, list[str]]]:
        """One ``download`` call: (closes found, error texts per ticker from the exception or the log)."""
        first = start if start is not None else EARLIEST_START
        after_end = (
            None if end is None else end + pd.Timedelta(days=1)
        )  # yfinance's end is exclusive
        with _captured_yfinance_errors() as errors:
            try:
                frame = self._download(
                    tickers,
                    start=f"{first:%Y-%m-%d}",
                    end=None if after_end is None else f"{after_end:%Y-%m-%d}",
                    auto_adjust=True,
                    group_by="column",
                    progress=False,
                    threads=self._threads,
                    multi_level_index=True,
                )
            except OSError as exc:  # requests and curl_cffi connection errors are OSErrors
                raise _unreachable(f"{type(exc).__name__}: {exc}") from None
            except Exception as exc:
                if not _RATE_LIMIT.search(f"{type(exc).__name__} {exc}"):
                    raise
                return {}, {t: [f"{type(exc).__name__}: {exc}"] for t in tickers}
        return closes_from_frame(frame, tickers), errors


def closes_from_frame(frame: pd.DataFrame | None, tickers: Sequence[str]) -> dict[str, pd.Series]:
    """Per-ticker close series from a ``yf.download`` frame (MultiIndex Price/Ticker or flat single-ticker).

    Tickers whose column is absent, empty or all NaN are left out.
    """
    if frame is None or frame.empty:
        return {}
    if isinstance(frame.columns, pd.MultiIndex):
        level = next(
            i for i in range(frame.columns.nlevels) if "Close" in frame.columns.get_level_values(i)
        )
        table = frame.xs("Close", axis=1, level=level)
    elif "Close" in frame.columns and len(tickers) == 1:
        table = frame[["Close"]].set_axis(list(tickers), axis=1)
    else:
        return {}
    out = {}
    for column in table.columns:
        ticker = str(column).upper()
        values = pd.to_numeric(table[column], errors="coerce").dropna()
        if ticker in tickers and not values.empty:
            out[ticker] = price_series(values.index, values.to_numpy(), ticker)
    return out


def raise_failed(failed: dict[str, str]) -> None:
    """``UserInputError`` listing the tickers Yahoo returned nothing for, with its reasons."""
    if failed:
        reasons = "; ".join(f"{t}: {_shorten(r)}" for t, r in sorted(failed.items()))
        raise UserInputError(
            f"Yahoo Finance has no prices for {', '.join(sorted(failed))} ({reasons}); "
            "check the symbols on finance.yahoo.com"
        )


@contextlib.contextmanager
def _captured_yfinance_errors() -> Iterator[dict[str, list[str]]]:
    """Collect yfinance's per-ticker failure lines, in order (our handler also keeps its log quiet)."""
    errors: dict[str, list[str]] = {}

    class _Collector(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            if summary := _SUMMARY.match(text):
                tickers, message = re.findall(r"'([^']+)'", summary.group(1)), summary.group(2)
            elif tz_failure := _TZ_FAILURE.match(text):
                tickers, message = [tz_failure.group(1)], tz_failure.group(2)
            else:
                return
            for ticker in tickers:
                errors.setdefault(ticker.upper(), []).append(message)

    logger = logging.getLogger("yfinance")
    handler = _Collector(level=logging.ERROR)
    logger.addHandler(handler)
    try:
        yield errors
    finally:
        logger.removeHandler(handler)


def _find(messages: list[str] | None, pattern: re.Pattern[str]) -> str | None:
    return next((m for m in messages or () if pattern.search(m)), None)


def _unreachable(reason: str) -> YahooUnavailableError:
    # curl's wording around the cause ("Failed to perform, curl: (6) ... See https://...") is noise here.
    reason = re.sub(r"Failed to perform, curl: \(\d+\)\s*|\s*See https?://\S+[^'\"]*", "", reason)
    return YahooUnavailableError(
        f"cannot reach Yahoo Finance ({_shorten(reason)}); check the network connection, "
        "or import prices from CSV with `backtest data import PATH`"
    )


def _shorten(text: str, limit: int = 160) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
