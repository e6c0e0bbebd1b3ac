"""Build a small, fully deterministic synthetic ``RunResult`` for report tests.

Other test modules may reuse ``make_result``: every field is filled with
plausible values of the documented shapes (see ``backtests.results.RunResult``).
"""

from __future__ import annotations

from datetime import UTC

import numpy as np
import pandas as pd

from backtests.results import RunResult
from backtests.triggers.context import FIRING_COLUMNS

DEFAULT_EVENTS: tuple[tuple[str, str, str, str, str], ...] = (
    # date, title, category, direction, source
    (
        "2018-03-01",
        "US announces steel and aluminium tariffs",
        "tariff",
        "escalation",
        "https://example.com/steel",
    ),
    ("2018-12-03", "Trade truce agreed at G20", "trade_talks", "de-escalation", ""),
    (
        "2019-05-10",
        "Tariffs on $200bn raised to 25%",
        "tariff",
        "escalation",
        "https://example.com/may",
    ),
)


def _events_frame(events: tuple[tuple[str, str, str, str, str], ...]) -> pd.DataFrame:
    rows = [
        {
            "date": pd.Timestamp(d),
            "title": t,
            "category": c,
            "direction": dr,
            "severity": 4,
            "countries": ("US", "CN"),
            "assets": (),
            "source": s,
            "notes": "",
            "origin": f"test.csv:{i + 2}",
        }
        for i, (d, t, c, dr, s) in enumerate(events)
    ]
    return pd.DataFrame(rows)


def _firings(events: pd.DataFrame, calendar: pd.DatetimeIndex) -> pd.DataFrame:
    """One firing per event, effective one trading day after its stamped day."""
    rows = []
    for _, ev in events.iterrows():
        pos = int(calendar.searchsorted(ev["date"]))
        if pos + 1 >= len(calendar):
            continue
        rows.append(
            {
                "date": calendar[pos + 1],
                "trigger": "tariff_news",
                "raw_date": calendar[pos],
                "reason": "1 event, max severity 4",
                "event_dates": f"{ev['date']:%Y-%m-%d}",
                "event_titles": ev["title"],
                "event_categories": ev["category"],
                "event_sources": ev["source"],
            }
        )
    return pd.DataFrame(rows, columns=list(FIRING_COLUMNS))


def make_result(
    *,
    start: str = "2018-01-02",
    periods: int = 500,
    strategy: str = "test-hedge",
    description: str = "A test hedge strategy",
    events: tuple[tuple[str, str, str, str, str], ...] = DEFAULT_EVENTS,
    synthetic: bool = True,
    seed: int = 7,
) -> RunResult:
    """A ``RunResult`` over ``periods`` business days from ``start``: SPY/GLD, the given events."""
    calendar = pd.bdate_range(start, periods=periods, name="date")
    rng = np.random.default_rng(seed)
    bench = pd.Series(rng.normal(0.0004, 0.01, periods), index=calendar, name="benchmark")
    gold = pd.Series(rng.normal(0.0002, 0.008, periods), index=calendar)
    hedge = pd.Series(
        np.where(np.arange(periods) % 100 < 30, 0.3, 0.0), index=calendar, name="hedge_level"
    )
    weights = pd.DataFrame({"SPY": 1.0 - hedge, "GLD": hedge}, index=calendar)
    rets = (
        weights.shift(1).fillna(weights.iloc[0]) * pd.DataFrame({"SPY": bench, "GLD": gold})
    ).sum(axis=1)
    rets.iloc[0] = 0.0
    bench.iloc[0] = 0.0
    rets.name = "strategy"
    equity = 100_000.0 * (1.0 + rets).cumprod()
    ev = _events_frame(events)
    firings = _firings(ev, calendar)
    trades = pd.DataFrame(
        {
            "date": [calendar[0], calendar[30]],
            "ticker": ["SPY", "GLD"],
            "size": [100.0, 20.0],
            "price": [250.0, 120.0],
            "value": [25_000.0, 2_400.0],
            "commission": [2.5, 0.24],
        }
    )
    metrics = {
        "strategy": {
            "cagr": 0.0712345678901234,
            "sharpe": 0.81,
            "max_drawdown": -0.1234,
            "volatility": 0.15,
            "trigger_firings": len(firings),
            "time_hedged": 0.3,
        },
        "benchmark": {"cagr": 0.065, "sharpe": 0.7, "max_drawdown": -0.2, "volatility": 0.16},
    }
    end = calendar[-1]
    return RunResult(
        strategy=strategy,
        description=description,
        spec_toml=f'name = "{strategy}"\nbenchmark = "SPY"\n',
        start=calendar[0],
        end=end,
        data_label="demo",
        synthetic=synthetic,
        benchmark="SPY",
        returns=rets,
        benchmark_returns=bench,
        equity=equity,
        weights=weights,
        targets=weights.copy(),
        trades=trades,
        hedge_level=hedge,
        signals=pd.DataFrame({"tariff_news": (hedge > 0).astype(float)}, index=calendar),
        firings=firings,
        events=ev,
        metrics=metrics,
        manifest={  # the shape of backtests.pipeline.build_manifest, plus a fixed "created"
            "strategy": strategy,
            "period": {"start": f"{calendar[0]:%Y-%m-%d}", "end": f"{end:%Y-%m-%d}"},
            "data": {
                "source": "demo",
                "label": "demo",
                "synthetic": synthetic,
                "notes": [],
                "tickers": {"SPY": {"sha256": "ab" * 32}},
            },
            "packages": {"pandas": pd.__version__},
            "command_line": ["backtest", "run", strategy],
            "created": "2026-11-28T09:00:00Z",
        },
        hedge_tickers=("GLD",),
    )


HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_STRATEGY = "hostile <i>hedge"  # no "/": a "/" in a name nests its folder
HOSTILE_DESCRIPTION = 'Hedges <b>bold</b> & "quoted" risks'
HOSTILE_EVENTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("2018-03-01", HOSTILE_TITLE, "tariff", "escalation", "javascript:alert(2)"),
    *DEFAULT_EVENTS[1:],
)


def write_demo_runs(root, *, tearsheet: bool = True, periods: int = 300) -> list:
    """Two finished runs under ``root`` (the first with a tearsheet), hostile text, and the index.

    Returns the two run folders, oldest first.
    """
    from datetime import datetime
    from pathlib import Path

    from backtests.reports import new_run_dir, rebuild_index, write_run

    folders = []
    for i, name in enumerate((HOSTILE_STRATEGY, "plain-tilt")):
        result = make_result(
            periods=periods,
            strategy=name,
            description=HOSTILE_DESCRIPTION,
            events=HOSTILE_EVENTS,
            seed=i,
        )
        when = datetime(2025, 11, 28, 9, 30 + i, tzinfo=UTC)
        folder = new_run_dir(name, Path(root), spec_toml=result.spec_toml, now=when)
        write_run(
            result, folder, tearsheet=tearsheet and i == 0, command_line=["backtest", "run", name]
        )
        folders.append(folder)
    rebuild_index(Path(root))
    return folders
