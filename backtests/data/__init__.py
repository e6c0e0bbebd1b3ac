"""Price data: adjusted daily closes from CSV files, the local cache, Yahoo Finance or the demo market.

``load_prices`` is the one entry point; it returns ``PriceData`` (a ``date x
ticker`` frame of adjusted closes plus source and notes). Adapters live in
``csvfile``, ``cache`` and ``yahoo``; ``validate`` checks series as they enter,
``align`` puts them on one exchange calendar's sessions (``calendars``; policy
in docs/architecture.md); ``storage`` guards the cache folders (writable check,
inter-process lock).
"""

from backtests.data.align import align_closes
from backtests.data.cache import CorruptCacheError, PriceCache
from backtests.data.csvfile import CsvSource, read_price_csv
from backtests.data.frames import PriceData
from backtests.data.loader import fetch_into_cache, load_prices
from backtests.data.validate import validate_closes
from backtests.data.yahoo import YahooSource, YahooUnavailableError

__all__ = [
    "CorruptCacheError",
    "CsvSource",
    "PriceCache",
    "PriceData",
    "YahooSource",
    "YahooUnavailableError",
    "align_closes",
    "fetch_into_cache",
    "load_prices",
    "read_price_csv",
    "validate_closes",
]
