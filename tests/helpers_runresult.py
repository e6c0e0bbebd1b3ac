"""Build a small, fully deterministic synthetic ``RunResult`` for report tests.

Other test modules may reuse ``make_result``: every field is filled with
plausible values of the documented shapes (see ``backtests.results.RunResult``).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC

import numpy as np
import pandas as pd

from backtests.attribution import attribute
from backtests.metrics import summary_metrics
from backtests.portfolio.response import hedge_level
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


DRIVER, WATCHER = "tariff_news", "truce_watch"
HEDGE_FRACTION = 0.3
RESPONSE = {"hold_days": 30, "step_in": 1.0, "step_out": 0.5, "on_deescalation": "exit"}
COMMISSION_BPS, SLIPPAGE_BPS = 5.0, 2.0


def _firings(events: pd.DataFrame, calendar: pd.DatetimeIndex) -> pd.DataFrame:
    """One firing per event, effective one trading day after its stamped day.

    Escalations fire the driving trigger ``tariff_news``; de-escalations fire ``truce_watch``
    (an event trigger the response does not follow; the truce also releases the hedge).
    """
    rows = []
    for _, ev in events.iterrows():
        pos = int(calendar.searchsorted(ev["date"]))
        if pos + 1 >= len(calendar):
            continue
        rows.append(
            {
                "date": calendar[pos + 1],
                "trigger": DRIVER if ev["direction"] == "escalation" else WATCHER,
                "raw_date": calendar[pos],
                "reason": "1 event, max severity 4",
                "event_dates": f"{ev['date']:%Y-%m-%d}",
                "event_titles": ev["title"],
                "event_categories": ev["category"],
                "event_sources": ev["source"],
            }
        )
    return pd.DataFrame(rows, columns=list(FIRING_COLUMNS))


def _spec_toml(strategy: str) -> str:
    response = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in RESPONSE.items())
    return (
        f'name = "{strategy}"\nbenchmark = "SPY"\n\n'
        f'[triggers.{DRIVER}]\ntype = "event"\ndirection = "escalation"\n\n'
        f'[triggers.{WATCHER}]\ntype = "event"\ndirection = "de-escalation"\n\n'
        f'[response]\ntrigger = "{DRIVER}"\nhedge_fraction = {HEDGE_FRACTION}\n{response}\n\n'
        f"[costs]\ncommission_bps = {COMMISSION_BPS}\nslippage_bps = {SLIPPAGE_BPS}\n"
    )


def _trades(weights: pd.DataFrame, equity: pd.Series) -> pd.DataFrame:
    """A fill per ticker whose weight changed (the first day: buying from cash), at price 100."""
    change = weights.diff().fillna(weights.iloc[0])
    rows = []
    for day, row in change.iterrows():
        for ticker, dw in row.items():
            if abs(dw) < 1e-12:
                continue
            slip = SLIPPAGE_BPS / 10_000 * (1 if dw > 0 else -1)
            price = 100.0 * (1 + slip)
            value = abs(dw) * float(equity[day])
            rows.append(
                {
                    "date": day,
                    "ticker": ticker,
                    "size": np.sign(dw) * value / price,
                    "price": price,
                    "value": value,
                    "commission": value * COMMISSION_BPS / 10_000,
                }
            )
    return pd.DataFrame(rows, columns=["date", "ticker", "size", "price", "value", "commission"])


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
    """A ``RunResult`` over ``periods`` business days from ``start``: SPY/GLD, the given events.

    The hedge follows ``tariff_news`` through the real response rule (``RESPONSE``):
    30% of SPY moves into GLD; the base (``unhedged``) holds SPY only.
    The counterfactual fields, ``metrics["base"]``, ``metrics["hedge"]`` and the
    episodes are filled as the pipeline fills them (``backtests.attribution.attribute``).
    """
    calendar = pd.bdate_range(start, periods=periods, name="date")
    rng = np.random.default_rng(seed)
    bench = pd.Series(rng.normal(0.0004, 0.01, periods), index=calendar, name="benchmark")
    gold = pd.Series(rng.normal(0.0002, 0.008, periods), index=calendar)
    bench.iloc[0] = 0.0
    ev = _events_frame(events)
    firings = _firings(ev, calendar)
    signals = pd.DataFrame(0.0, index=calendar, columns=[DRIVER, WATCHER])
    for _, f in firings.iterrows():
        signals.loc[f["date"], f["trigger"]] = 1.0
    release = signals[WATCHER] > 0
    level = hedge_level(signals[DRIVER], release, RESPONSE).rename_axis("date")
    exposure = (HEDGE_FRACTION * level).rename("exposure")
    weights = pd.DataFrame({"SPY": 1.0 - exposure, "GLD": exposure}, index=calendar)
    asset_returns = pd.DataFrame({"SPY": bench, "GLD": gold})
    rets = (weights.shift(1).fillna(weights.iloc[0]) * asset_returns).sum(axis=1)
    rets.iloc[0] = 0.0
    rets.name = "strategy"
    base_returns = bench.rename("unhedged")
    equity = 100_000.0 * (1.0 + rets).cumprod()
    base_equity = 100_000.0 * (1.0 + base_returns).cumprod()
    base_weights = pd.DataFrame({"SPY": 1.0, "GLD": 0.0}, index=calendar)
    metrics = {
        "strategy": {
            **summary_metrics(rets),
            "trigger_firings": int((firings["trigger"] == DRIVER).sum()),
        },
        "benchmark": summary_metrics(bench),
        "base": summary_metrics(base_returns),
    }
    end = calendar[-1]
    result = RunResult(
        strategy=strategy,
        description=description,
        spec_toml=_spec_toml(strategy),
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
        trades=_trades(weights, equity),
        hedge_level=level,
        signals=signals,
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
        base_returns=base_returns,
        base_equity=base_equity,
        base_trades=_trades(base_weights, base_equity),
        base_label="unhedged",
        driving_signal=signals[DRIVER].rename("signal"),
        release=release.rename("release"),
        exposure=exposure,
    )
    episodes, hedge = attribute(result)
    metrics["hedge"] = hedge
    return dataclasses.replace(result, episodes=episodes, metrics=metrics)


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
