"""Checks of an events calendar beyond its file format: chains, tickers, and the severity rubric.

``check_events`` returns a ``CheckReport`` (pure: the caller loads the events and
prices). It holds:

- **errors** (``chain_problems``): inside one ``chain``, no ``official`` or
  ``effective`` row may be dated before the chain's first ``announced`` row (a
  step cannot be signed or take effect before the news of it; same-day steps
  are fine). Later ``announced`` rows in a chain are allowed: a step that adds
  information (a higher rate, a wider scope) is its own announced row. And a
  row marked ``announced`` whose title says the measure takes effect
  (``TAKES_EFFECT``, case-insensitive: "take(s)/took/taking effect",
  "go(es)/went/going into effect", "come(s)/came/coming into force|effect",
  "enter(s)/entered/entering into force", "kick(s)/kicked in"; titles that also
  say "immediately" are exempt, the measure being announced and in force at once).
- **warnings** (``ticker_warnings``): assets that look like tickers
  (``looks_like_ticker``: 1-6 upper-case letters/digits/dots, starting with a
  letter, as written; sector tags such as ``rare_earths`` are lower case) and
  had no price yet on the event date; tickers with no known first date are
  listed once in ``unknown_tickers``.
- **reactions** (``reactions``, only with prices): each event's return on its
  first tradable session (``backtests.triggers.timing.first_tradable_positions``:
  the session ending at the first close at least 30 minutes after ``public_at``,
  else the session after the stamp day), divided by the standard deviation
  (ddof 1) of the 60 daily returns before that session. The return is that of
  the equal-weight basket of the event's ticker assets that have prices over
  the whole window; events with none of them use SPY. The sign is the market's:
  escalations are expected negative, de-escalations positive.
- **correlations** (``severity_correlations``): the Spearman rank correlation
  (average ranks for ties) of severity with ``|reaction|``, per category and
  overall.

This is a check on the severity rubric written in data/events/README.md, never
an input to a trigger: the reaction is known only after the event, so using it
to choose or weight events would look ahead.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from backtests.events.schema import STAGES

TAKES_EFFECT = re.compile(
    r"\b(?:(?:take|takes|took|taking) effect"
    r"|(?:go|goes|went|going) into effect"
    r"|(?:come|comes|came|coming) into (?:force|effect)"
    r"|(?:enter|enters|entered|entering) into force"
    r"|(?:kick|kicks|kicked) in)\b",
    re.IGNORECASE,
)
_IMMEDIATELY = re.compile(r"\bimmediately\b", re.IGNORECASE)
_TICKER = re.compile(r"[A-Z][A-Z0-9.]{0,5}")
#: Trading days of returns behind each reaction's volatility.
VOL_WINDOW = 60
#: The basket of events without ticker assets (or none priced over the window).
FALLBACK_TICKER = "SPY"
_STAGE_RANK = {stage: rank for rank, stage in enumerate(STAGES)}


@dataclass(frozen=True)
class Finding:
    """One error or warning about an event, located as ``origin`` (``file:line``) and column."""

    origin: str
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.origin}:{self.column}: {self.message}"


@dataclass(frozen=True)
class CheckReport:
    """The result of ``check_events``; ``reactions``/``correlations`` are empty frames without prices.

    ``unknown_tickers``: ticker assets whose first date is unknown, so not checked.
    """

    errors: list[Finding]
    warnings: list[Finding]
    unknown_tickers: tuple[str, ...] = ()
    reactions: pd.DataFrame = field(default_factory=pd.DataFrame)
    correlations: pd.DataFrame = field(default_factory=pd.DataFrame)


def says_takes_effect(title: str) -> bool:
    """Whether a title says the measure takes effect (``TAKES_EFFECT``, not "immediately")."""
    return bool(TAKES_EFFECT.search(title)) and not _IMMEDIATELY.search(title)


def looks_like_ticker(asset: str) -> bool:
    """An ``assets`` entry written like a ticker (``FXI``, ``BRK.B``), not a sector tag (``rare_earths``)."""
    return bool(_TICKER.fullmatch(asset))


def ticker_assets(assets: Sequence[str]) -> tuple[str, ...]:
    """The entries of one event's ``assets`` that look like tickers, in order."""
    return tuple(a for a in assets if looks_like_ticker(a))


def chain_problems(events: pd.DataFrame) -> list[Finding]:
    """Stage-order and title/stage errors, one per row at most each, in the frame's row order.

    A stage-order error is reported on the official or effective row dated before
    the first announced row of its chain, naming that row.
    """
    problems: list[Finding] = []
    announced = events[(events["chain"] != "") & (events["stage"] == "announced")]
    first_news = announced.sort_values("date", kind="stable").groupby("chain").head(1).set_index("chain")
    for _, row in events.iterrows():
        if row["chain"] and row["stage"] != "announced" and row["chain"] in first_news.index:
            news = first_news.loc[row["chain"]]
            if row["date"] < news["date"]:
                problems.append(
                    Finding(
                        row["origin"],
                        "stage",
                        f"{row['stage']} row dated {row['date']:%Y-%m-%d} comes before the announced row "
                        f"{news['origin']} dated {news['date']:%Y-%m-%d} of chain {row['chain']}; a step cannot be "
                        "signed or take effect before its news: fix the date or the stage",
                    )
                )
        if row["stage"] == "announced" and says_takes_effect(row["title"]):
            problems.append(
                Finding(
                    row["origin"],
                    "stage",
                    "the title says the measure takes effect but the stage is announced; set stage to effective "
                    "(or reword the title if the row brings new information)",
                )
            )
    return problems


def ticker_warnings(events: pd.DataFrame, first_dates: Mapping[str, pd.Timestamp]) -> list[Finding]:
    """Ticker assets not yet listed on the event date (tickers without a first date are skipped)."""
    warnings: list[Finding] = []
    for _, row in events.iterrows():
        for ticker in ticker_assets(row["assets"]):
            first = first_dates.get(ticker)
            if first is not None and first > row["date"]:
                warnings.append(
                    Finding(
                        row["origin"],
                        "assets",
                        f"{ticker} did not exist yet on {row['date']:%Y-%m-%d} (first price {first:%Y-%m-%d})",
                    )
                )
    return warnings


def unknown_tickers(events: pd.DataFrame, first_dates: Mapping[str, pd.Timestamp]) -> tuple[str, ...]:
    """Ticker assets with no known first date (their dates cannot be checked), sorted."""
    return tuple(sorted({t for assets in events["assets"] for t in ticker_assets(assets)} - set(first_dates)))


def first_price_dates(closes: Mapping[str, pd.Series]) -> dict[str, pd.Timestamp]:
    """Ticker -> first date with a price."""
    return {ticker: series.dropna().index[0] for ticker, series in closes.items() if series.notna().any()}


def reactions(events: pd.DataFrame, closes: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Each event's first-session reaction in volatility units (None when the data do not cover it).

    Columns: ``origin``, ``date``, ``category``, ``direction``, ``stage``, ``severity``,
    ``session`` (the first tradable session, NaT if past the data), ``basis`` (the
    tickers used, ``;``-joined), ``return`` and ``reaction``.
    """
    from backtests.triggers.timing import first_tradable_positions

    frame = pd.DataFrame({ticker: series for ticker, series in closes.items()}).sort_index().ffill()
    calendar = pd.DatetimeIndex(frame.index)
    returns = frame.pct_change(fill_method=None)
    positions = first_tradable_positions(events["date"], events["public_at"], calendar)
    rows = []
    for (_, event), pos in zip(events.iterrows(), positions):
        session, basis, ret, reaction = pd.NaT, (), math.nan, math.nan
        if pos < len(calendar):
            session = calendar[pos]
        if VOL_WINDOW < pos < len(calendar):
            window = returns.iloc[pos - VOL_WINDOW : pos + 1]
            priced = [t for t in ticker_assets(event["assets"]) if t in window and window[t].notna().all()]
            basis = tuple(priced) or ((FALLBACK_TICKER,) if window.get(FALLBACK_TICKER) is not None else ())
            if basis and window[list(basis)].notna().all().all():
                basket = window[list(basis)].mean(axis=1)
                ret = float(basket.iloc[-1])
                vol = float(basket.iloc[:-1].std(ddof=1))
                reaction = ret / vol if vol > 0 else math.nan
        rows.append(
            {
                "origin": event["origin"],
                "date": event["date"],
                "category": event["category"],
                "direction": event["direction"],
                "stage": event["stage"],
                "severity": int(event["severity"]),
                "session": session,
                "basis": ";".join(basis),
                "return": ret,
                "reaction": reaction,
            }
        )
    return pd.DataFrame(rows, columns=_REACTION_COLUMNS)


_REACTION_COLUMNS = (
    "origin", "date", "category", "direction", "stage", "severity", "session", "basis", "return", "reaction"
)


def average_ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n, ties sharing the mean of the ranks they span."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho: the Pearson correlation of average ranks; None with < 3 pairs or a constant side."""
    if len(x) != len(y):
        raise ValueError("x and y differ in length")
    if len(x) < 3:
        return None
    rx, ry = average_ranks(x), average_ranks(y)
    dx, dy = rx - rx.mean(), ry - ry.mean()
    denominator = math.sqrt(float((dx * dx).sum() * (dy * dy).sum()))
    return None if denominator == 0 else float((dx * dy).sum() / denominator)


def severity_correlations(table: pd.DataFrame) -> pd.DataFrame:
    """Spearman of severity with ``|reaction|``: one row per category (sorted), then ``all``.

    Columns ``category``, ``n`` (events with a reaction), ``spearman`` (None when undefined).
    """
    known = table[table["reaction"].notna()] if not table.empty else table
    groups = [(c, known[known["category"] == c]) for c in sorted(known["category"].unique())] if len(known) else []
    rows = [
        {"category": name, "n": len(part), "spearman": spearman(part["severity"], part["reaction"].abs())}
        for name, part in [*groups, ("all", known)]
    ]
    return pd.DataFrame(rows, columns=["category", "n", "spearman"])


def check_events(
    events: pd.DataFrame,
    *,
    closes: Mapping[str, pd.Series] | None = None,
    first_dates: Mapping[str, pd.Timestamp] | None = None,
) -> CheckReport:
    """Chain errors, ticker warnings and, with ``closes`` (ticker -> close series), reactions.

    ``first_dates``: each ticker's first price date; defaults to the first dates
    in ``closes``, else those the demo market knows (the funds' real inception dates).
    """
    if first_dates is None:
        first_dates = first_price_dates(closes) if closes is not None else demo_first_dates()
    report = CheckReport(
        chain_problems(events), ticker_warnings(events, first_dates), unknown_tickers(events, first_dates)
    )
    if closes is None:
        return report
    table = reactions(events, closes)
    return dataclasses.replace(report, reactions=table, correlations=severity_correlations(table))


def demo_first_dates() -> dict[str, pd.Timestamp]:
    """The real first dates of the tickers the demo market knows (``demo_calibration.csv``)."""
    from backtests.data.demo import load_calibration

    return {str(t): pd.Timestamp(d) for t, d in load_calibration().table["first_date"].items()}


def tickers_to_price(events: pd.DataFrame) -> list[str]:
    """The tickers ``reactions`` may need: every ticker asset, plus the fallback, sorted."""
    return sorted({t for assets in events["assets"] for t in ticker_assets(assets)} | {FALLBACK_TICKER})
