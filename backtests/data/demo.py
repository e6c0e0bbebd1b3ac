"""The synthetic demo market: seeded, calibrated closes for the 43 reference ETFs, offline.

This is **synthetic demo data**, never real prices. It lets the quick start and
the tests run on a fresh machine.

Model (figures in ``demo_calibration.csv`` and ``demo_correlations.csv``,
computed by ``tools/calibrate_demo.py`` from 2010-2025 real daily log returns):

- The sessions of an exchange calendar (``calendar``, default ``XNYS``: no
  weekends, no US exchange holidays) from the fixed origin 2010-01-04 to today.
  The RNG draws one row per session, in a fixed ticker order (all 43 tickers,
  whatever is requested), so a date's values depend only on the seed, the
  tables and the calendar, never on ``start``, ``end`` or the tickers requested.
- Daily log return of ticker ``i``: ``drift_i / 252 + vol_i / sqrt(252) * x_i``.
  ``x`` is multivariate Student-t-like: correlated normals ``z = chol(C) e``
  divided by ``sqrt(W_i / (dof_i - 2))`` with ``W_i`` the chi-square
  (``dof_i``) quantile of one uniform shared by all tickers that day. So each
  ticker's shock is exactly Student-t with its ``dof``, scaled to unit variance;
  correlations match ``C`` (exactly when dofs are equal); calm and turbulent
  days hit all tickers together, as in real markets.
- Each ticker's path starts at 100 on its first date (the fund's first real
  date, clipped to 2010-01-04): NaN before, so the demo market is ragged like
  the real one.
- Event shocks (``events``): on the next session after an escalation,
  a deterministic log-return shock ``s`` from ``_SHOCK_GROUPS`` /
  ``_CATEGORY_SHOCKS`` scaled by ``severity / 5``; a de-escalation gives
  ``-0.4 s`` (a relief rally). Each shock then follows ``_SHOCK_PROFILE``: a
  further ``0.25 s`` over the next 9 sessions, then a recovery of
  ``1.25 s`` over 50, back to the path without the event. Shocks of several
  events add up, and are added to the random log returns: ``events=None``
  gives the same path without them.

Statistical tolerances checked by ``tests/test_demo.py`` over the 2010-present
path (events=None, several seeds): annualised vol within 15% (relative) of
``vol``; mean annual log return within 3 x vol / sqrt(years) of ``drift``;
correlations of SPY-QQQ, SPY-TLT, SPY-GLD, FXI-MCHI within 0.1 of ``C``; excess
kurtosis positive for every ticker with ``dof <= 8``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
from scipy import special

from backtests import portable_math
from backtests.conventions import TRADING_DAYS_PER_YEAR
from backtests.data import calendars
from backtests.data.calendars import DEFAULT_CALENDAR
from backtests.data.frames import SYNTHETIC_LABEL, PriceData
from backtests.dates import check_range, parse_date
from backtests.errors import UserInputError

ORIGIN = pd.Timestamp("2010-01-04")
START_LEVEL = 100.0
DEFAULT_SEED = 7

# Log-return shock on the session after an escalation of severity 5 (scaled
# linearly by severity / 5). Why these signs and sizes: a trade or security
# escalation reprices global growth at once, so equities fall (about -4% for
# SPY at severity 5, in line with the worst tariff days of 2018-2025); growth and
# trade-exposed funds (tech, emerging, green, chips, China-listed) fall more;
# low-volatility and staple sectors fall little. Flight to safety lifts
# Treasuries (more at the long end), gold, the dollar, the yen and the franc,
# modestly. T-bills (BIL) do not move.
_SHOCK_GROUPS: dict[str, tuple[tuple[str, ...], float]] = {
    "us_equity": (("SPY", "IWM", "XLI", "ACWI", "VT"), -0.040),
    "tech": (("QQQ", "XLK"), -0.050),
    "developed_ex_us": (("EFA", "HEDJ"), -0.035),
    "emerging": (("EEM",), -0.045),
    "china": (("FXI", "MCHI", "KWEB"), -0.050),
    "semiconductors": (("SOXX", "SMH"), -0.050),
    "green": (("ICLN", "TAN", "QCLN", "PBW", "LIT", "GRID", "PAVE"), -0.045),
    "rare_earths": (("REMX", "MP"), -0.040),
    "defensive_equity": (("USMV", "XLU", "XLP"), -0.015),
    "commodities": (("XLE", "DBC", "DBA", "SLV"), -0.020),
    "defence": (("ITA",), -0.010),
    "gold": (("GLD", "IAU"), 0.015),
    "long_treasuries": (("TLT",), 0.015),
    "treasuries": (("IEF",), 0.008),
    "haven_currencies": (("UUP", "FXY", "FXF"), 0.006),
    "short_bonds": (("SHY", "AGG", "TIP"), 0.002),
    "cash": (("BIL",), 0.0),
}

# Category-specific replacements of the group shock (same scale). Tariffs and
# export controls hit China's exports and tech directly; export controls also
# hit chip makers' China sales, while rare-earth producers outside China gain
# pricing power (China dominates supply, so its controls lift REMX and MP).
# Military escalation lifts defence contractors. Sizes are per event: clustered
# events add up (April 2025 stacks six), so they stay below single-day records.
_CATEGORY_SHOCKS: dict[tuple[str, str], float] = {
    ("tariff", "china"): -0.060,
    ("export_control", "china"): -0.060,
    ("export_control", "semiconductors"): -0.070,
    ("export_control", "rare_earths"): 0.060,
    ("military", "defence"): 0.020,
}

REFERENCE_SEVERITY = 5.0
RELIEF_FRACTION = 0.4  # a de-escalation undoes 40% of the matching escalation shock

# Daily log-return multiples of the headline shock ``s``, by session after the event:
# day 1 the headline move; days 2-10 a further 0.25 s while markets digest the news (2018,
# 2019 and April 2025 kept falling for a week or two); days 11-60 a recovery of 1.25 s.
# It sums to zero on purpose: the calibrated drift already contains the real events, so the
# shocks move returns in time (a dip, then a recovery) without changing the long-run level.
_SHOCK_PROFILE = np.concatenate([[1.0], np.full(9, 0.25 / 9), np.full(50, -1.25 / 50)])

_GROUP_OF = {ticker: group for group, (members, _) in _SHOCK_GROUPS.items() for ticker in members}
_EVENT_COLUMNS = ("date", "category", "direction", "severity")
_HISTORY_DAYS = 150  # calendar days before the calendar in which events still matter (> 60 sessions)


@dataclass(frozen=True)
class DemoCalibration:
    """The shipped figures: per-ticker ``table`` (index ``ticker``; ``first_date``, ``drift``,
    ``vol``, ``dof``) and the ``corr`` ticker x ticker matrix, in the same ticker order."""

    table: pd.DataFrame
    corr: pd.DataFrame


def load_calibration() -> DemoCalibration:
    """Read ``demo_calibration.csv`` and ``demo_correlations.csv`` shipped with the package."""
    package = resources.files("backtests.data")
    with resources.as_file(package / "demo_calibration.csv") as path:
        table = pd.read_csv(path, index_col="ticker", parse_dates=["first_date"])
    with resources.as_file(package / "demo_correlations.csv") as path:
        corr = pd.read_csv(path, index_col="ticker")
    return DemoCalibration(table=table, corr=corr.loc[table.index, table.index])


def demo_tickers() -> tuple[str, ...]:
    """The tickers the demo market covers, sorted."""
    return tuple(load_calibration().table.index)


def demo_prices(
    tickers: Sequence[str],
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    *,
    events: pd.DataFrame | None = None,
    seed: int = DEFAULT_SEED,
    calendar: str = DEFAULT_CALENDAR,
) -> PriceData:
    """Synthetic demo data: seeded daily closes for ``tickers`` on ``calendar``'s sessions in ``[start, end]``.

    ``start`` defaults to (and is clipped to) 2010-01-04, ``end`` to (and is clipped
    to) today. ``events`` (columns ``date``, ``category``, ``direction``,
    ``severity``) adds the documented shocks. Tickers are case-insensitive. Raises
    UserInputError for a ticker the demo market does not cover, an unknown
    calendar or an empty date range.
    """
    calibration = load_calibration()
    wanted = _check_tickers(tickers, calibration.table.index)
    calendar = calendars.check_calendar(calendar)
    start, end, notes = _clip_range(
        parse_date(start, what="--start"), parse_date(end, what="--end")
    )
    sessions = calendars.sessions(calendar, ORIGIN, end)
    returns = _random_log_returns(calibration, wanted, len(sessions), seed)
    if events is not None:
        returns += event_shocks(events, sessions, wanted, exchange=calendar).to_numpy()
        notes.append("event shocks added after escalation and de-escalation dates")
    closes = _closes_from_returns(returns, sessions, calibration.table.loc[wanted, "first_date"])
    closes = closes.loc[start:end]
    if closes.empty:
        raise UserInputError(
            f"no {calendar} session between {start.date()} and {end.date()} in the demo market;"
            " widen --start/--end"
        )
    label = f"{SYNTHETIC_LABEL} (seed {seed}, calibrated to 2010-2025 ETF returns; not real prices)"
    notes.extend(_late_start_notes(closes))
    return PriceData(closes=closes, source="demo", synthetic=True, notes=(label, *notes))


def event_shocks(
    events: pd.DataFrame,
    calendar: pd.DatetimeIndex,
    tickers: Sequence[str],
    *,
    exchange: str = DEFAULT_CALENDAR,
) -> pd.DataFrame:
    """The ``calendar x tickers`` log-return shocks the events add (0.0 where none).

    ``calendar`` is consecutive sessions of ``exchange``. An event dated ``D`` hits
    the first session after ``D`` and then follows ``_SHOCK_PROFILE`` (counted in
    sessions); only ``escalation`` and ``de-escalation`` rows count; shocks of
    several events add up.
    """
    missing = [column for column in _EVENT_COLUMNS if column not in events.columns]
    if missing:
        raise UserInputError(
            f"events table lacks column(s) {', '.join(missing)};"
            f" the demo market needs {', '.join(_EVENT_COLUMNS)}"
        )
    signs = {"escalation": 1.0, "de-escalation": -RELIEF_FRACTION}
    sign = events["direction"].map(signs).astype("float64")
    hits = pd.DataFrame(
        {
            "day": pd.to_datetime(events["date"]).dt.normalize(),
            "scale": sign * pd.to_numeric(events["severity"], errors="coerce") / REFERENCE_SEVERITY,
            "category": events["category"].astype(str),
        }
    ).dropna()
    # Headline shocks on rows -offset .. len(calendar) - 1 of the calendar, stored shifted
    # by ``offset``: an event just before the calendar still adds the tail of its profile.
    offset = len(_SHOCK_PROFILE)
    headline = np.zeros((len(calendar) + offset, len(tickers)))
    if len(calendar):
        hits = _sessions_after(calendar, hits, exchange)
    for row, category, scale in zip(hits.get("row", ()), hits["category"], hits["scale"]):
        if -offset < row < len(calendar):
            headline[row + offset] += scale * _shock_vector(category, tickers)
    shocks = np.zeros((len(calendar), len(tickers)))
    for lag, weight in enumerate(_SHOCK_PROFILE):
        shocks += weight * headline[offset - lag : offset - lag + len(calendar)]
    return pd.DataFrame(shocks, index=calendar, columns=list(tickers))


def _sessions_after(calendar: pd.DatetimeIndex, hits: pd.DataFrame, exchange: str) -> pd.DataFrame:
    """``hits`` with ``row``: the row in ``calendar`` of the first session after ``day`` (negative before it).

    Sessions are counted from ``_HISTORY_DAYS`` calendar days before the calendar
    (more than the shock profile's length in sessions); earlier events are dropped.
    """
    sessions = calendars.sessions(exchange, calendar[0] - pd.Timedelta(days=_HISTORY_DAYS), calendar[-1])
    hits = hits[hits["day"] >= sessions[0]]
    after = sessions.searchsorted(hits["day"].to_numpy(dtype="datetime64[ns]"), side="right")
    return hits.assign(row=after - sessions.searchsorted(calendar[0]))


def _shock_vector(category: str, tickers: Sequence[str]) -> np.ndarray:
    """Severity-5 escalation headline shock of ``category`` for each ticker."""
    groups = [_GROUP_OF[ticker] for ticker in tickers]
    return np.array(
        [_CATEGORY_SHOCKS.get((category, group), _SHOCK_GROUPS[group][1]) for group in groups]
    )


def _check_tickers(tickers: Sequence[str], known: pd.Index) -> list[str]:
    wanted = list(dict.fromkeys(str(ticker).strip().upper() for ticker in tickers))
    if not wanted:
        raise UserInputError(
            "no tickers requested from the demo market; name at least one, e.g. SPY"
        )
    unknown = [ticker for ticker in wanted if ticker not in known]
    if unknown:
        raise UserInputError(
            f"the demo market has no ticker {', '.join(unknown)}; it covers {', '.join(known)}"
            " (or use real prices with --prices DIR)"
        )
    return wanted


def _late_start_notes(closes: pd.DataFrame) -> list[str]:
    """One note per ticker whose demo history starts after the first date shown (or never does)."""
    notes = []
    for ticker in closes.columns:
        first = closes[ticker].first_valid_index()
        if first is None:
            last = closes.index[-1].date()
            notes.append(f"{ticker}: demo history starts after {last} (fund inception)")
        elif first > closes.index[0]:
            notes.append(f"{ticker}: demo history starts {first.date()} (fund inception)")
    return notes


def _clip_range(
    start: pd.Timestamp | None, end: pd.Timestamp | None
) -> tuple[pd.Timestamp, pd.Timestamp, list[str]]:
    """Default and clip the requested range to [2010-01-04, today], with a note for each clip."""
    check_range(start, end)
    today = pd.Timestamp.today().normalize()
    notes: list[str] = []
    if start is None or start < ORIGIN:
        if start is not None:
            notes.append(
                f"demo market starts {ORIGIN.date()}; requested start {start.date()} moved to it"
            )
        start = ORIGIN
    if end is None or end > today:
        if end is not None:
            notes.append(
                f"demo market ends today ({today.date()}); requested end {end.date()} moved to it"
            )
        end = today
    if end < ORIGIN:
        raise UserInputError(
            f"--end {end.date()} is before the demo market starts ({ORIGIN.date()});"
            " give a later end"
        )
    return start, end, notes


def _random_log_returns(
    calibration: DemoCalibration, wanted: list[str], days: int, seed: int
) -> np.ndarray:
    """``days x len(wanted)`` daily log returns; the draws cover all tickers, row by row."""
    table = calibration.table
    draws = np.random.default_rng(seed).standard_normal((days, len(table) + 1))
    columns = table.index.get_indexer(wanted)
    chol = _cholesky(calibration.corr.to_numpy())
    correlated = _fixed_order_product(draws[:, :-1], chol[columns])
    # One uniform per day, shared by all tickers: the chi-square mixing variable of the t.
    uniform = special.ndtr(draws[:, -1:])
    dof = table["dof"].to_numpy()[columns]
    chi2 = 2.0 * special.gammaincinv(dof / 2.0, uniform)
    shocks = correlated * np.sqrt((dof - 2.0) / chi2)
    drift = table["drift"].to_numpy()[columns] / TRADING_DAYS_PER_YEAR
    vol = table["vol"].to_numpy()[columns] / np.sqrt(TRADING_DAYS_PER_YEAR)
    return drift + vol * shocks


def _cholesky(matrix: np.ndarray) -> np.ndarray:
    """The lower-triangular ``L`` with ``L @ L.T == matrix``, by Cholesky–Banachiewicz in Python floats.

    Not ``np.linalg.cholesky``: LAPACK's kernels are picked for the CPU (OpenBLAS's on a CPU
    without AVX gave other last bits, and so another demo market); here every sum runs in one
    fixed order with IEEE operations only, so the demo market is the same on every machine.
    """
    a = matrix.tolist()
    n = len(a)
    lower = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            total = a[i][j]
            for k in range(j):
                total -= lower[i][k] * lower[j][k]
            if i == j:
                if not total > 0.0:
                    raise ValueError("the demo correlation matrix is not positive definite")
                lower[i][i] = math.sqrt(total)
            else:
                lower[i][j] = total / lower[j][j]
    return np.array(lower)


def _fixed_order_product(normals: np.ndarray, loadings: np.ndarray) -> np.ndarray:
    """``normals @ loadings.T`` summed term by term in a fixed order.

    BLAS changes its summation order with the shapes, so a matrix product would
    make a cell's last bits depend on which tickers and dates were requested.
    """
    out = np.zeros((normals.shape[0], loadings.shape[0]))
    for term in range(loadings.shape[1]):
        out += normals[:, term : term + 1] * loadings[:, term]
    return out


def _closes_from_returns(
    returns: np.ndarray, calendar: pd.DatetimeIndex, first_dates: pd.Series
) -> pd.DataFrame:
    """Closes at 100 on each ticker's first session on or after its first date (clipped
    to the origin); NaN before."""
    first_rows = calendar.searchsorted(first_dates.clip(lower=ORIGIN).to_numpy())
    rows = np.arange(len(calendar))[:, None]
    live_returns = np.where(rows > first_rows, returns, 0.0)
    levels = START_LEVEL * portable_math.exp(np.cumsum(live_returns, axis=0))
    levels[rows < first_rows] = np.nan
    return pd.DataFrame(levels, index=calendar, columns=list(first_dates.index))
