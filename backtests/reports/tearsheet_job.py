"""What a tearsheet shows, settled before anything is drawn: ``TearsheetJob`` and ``tearsheet_job``.

Light on purpose (pandas only, no matplotlib or quantstats): ``backtest run`` builds the job
in its own process, to check it at once and to hand it to the tearsheet worker before this
process loads matplotlib; ``tearsheet.tearsheet_html`` draws it. ``TearsheetJob.same_as``
tells whether two jobs draw the same page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from backtests.errors import UserInputError
from backtests.results import RunResult


def unbraced(text: str) -> str:
    """``text`` with a space after each ``{`` or ``}`` that its twin follows (``{{`` -> ``{ {``):
    quantstats deletes every ``{{...}}`` left in its page (titles and charts' text included)."""
    return re.sub(r"([{}])(?=\1)", r"\1 ", text)


def series_for_quantstats(returns: pd.Series, name: str) -> pd.Series:
    """Daily returns with a tz-naive, midnight index and the display ``name``."""
    index = pd.DatetimeIndex(returns.index)
    if index.tz is not None:
        index = index.tz_localize(None)
    return pd.Series(returns.to_numpy(dtype=float), index=index.normalize(), name=name)


Comparator = str | pd.Series | None


def comparator(result: RunResult, benchmark: Comparator = None) -> tuple[str, pd.Series, str]:
    """``(name, daily returns, what it is)`` of the series the tearsheet compares against.

    ``None``: the spec's benchmark; ``"base"``: the counterfactual base; a Series: another
    ticker's daily returns, named by the ticker (reindexed to the run calendar, 0 where missing).
    """
    if benchmark is None:
        return (
            f"{result.benchmark} (benchmark)",
            result.benchmark_returns,
            f"the spec's benchmark, {result.benchmark}",
        )
    if isinstance(benchmark, pd.Series):
        ticker = str(benchmark.name or "other")
        returns = benchmark.reindex(result.returns.index).fillna(0.0)
        return ticker, returns, f"{ticker}, chosen with --tearsheet-benchmark"
    if benchmark == "base":
        if result.base_returns is None:
            raise UserInputError("this run has no base to compare with; use the benchmark")
        label = result.base_label
        return (
            label,
            result.base_returns,
            f"the {label} portfolio: the same spec with the response switched off",
        )
    raise UserInputError(
        f"tearsheet benchmark {benchmark!r} is not allowed; use base or a ticker of the data"
    )


def tearsheet_title(result: RunResult, against: str | None = None) -> str:
    """``strategy vs NAME, YYYY-MM-DD to YYYY-MM-DD, data: label`` (synthetic data said so)."""
    return (
        f"{result.strategy} vs {against or result.benchmark}, "
        f"{result.start:%Y-%m-%d} to {result.end:%Y-%m-%d}, "
        f"data: {result.data_description}"
    )


@dataclass(frozen=True)
class TearsheetJob:
    """What ``tearsheet.tearsheet_html`` draws, small and picklable (for ``reports.worker``).

    ``returns``/``compared``: daily returns named by their display names (see
    ``series_for_quantstats``); ``title``: the page title (plain text); ``what``: what
    ``compared`` is, for the note under the nav bar; ``top_html``: our nav bar;
    ``synthetic``: demo data (a banner on top). Names, title and ``what`` are ``unbraced``.
    """

    returns: pd.Series
    compared: pd.Series
    title: str
    what: str
    top_html: str = ""
    synthetic: bool = False

    def same_as(self, other: TearsheetJob) -> bool:
        """Would ``other`` draw the same page: equal texts, and both series equal bit for bit
        (values, dtype, name, index and its unit)?"""
        return (self.title, self.what, self.top_html, self.synthetic) == (
            other.title,
            other.what,
            other.top_html,
            other.synthetic,
        ) and all(
            a.name == b.name and a.index.dtype == b.index.dtype and a.equals(b)
            for a, b in ((self.returns, other.returns), (self.compared, other.compared))
        )


def tearsheet_job(
    result: RunResult, *, top_html: str = "", benchmark: Comparator = None
) -> TearsheetJob:
    """The tearsheet of ``result`` ready to render, ``top_html`` on top; ``benchmark``: see ``comparator``.

    Cheap (nothing is drawn) and raises here (``UserInputError`` for a bad ``benchmark``).
    """
    strategy_name = unbraced(result.strategy)
    benchmark_name, benchmark_returns, what = comparator(result, benchmark)
    benchmark_name = unbraced(benchmark_name)
    if benchmark_name == strategy_name:
        benchmark_name = f"{benchmark_name} (comparison)"
    return TearsheetJob(
        returns=series_for_quantstats(result.returns, strategy_name),
        compared=series_for_quantstats(benchmark_returns, benchmark_name),
        title=unbraced(tearsheet_title(result, benchmark_name)),
        what=unbraced(what),
        top_html=top_html,
        synthetic=result.synthetic,
    )
