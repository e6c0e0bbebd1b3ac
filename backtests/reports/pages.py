"""``events.html``: what the hedge did against its counterfactual, its episodes, events, weights.

Every number about the hedge has its counterfactual beside it: the base
(``RunResult.base_*``, named ``result.base_label``, "unhedged" or "untilted",
in every text), then the benchmark. The page holds: the key figures
(``metrics["strategy"|"base"|"benchmark"|"hedge"]``), the chart (growth of
strategy, base and benchmark with hedge episodes shaded; strategy relative to
base; drawdowns; trigger firings on a strip, one marker per day), the episodes
table (``backtests.attribution``), the weights, the event study and the firings.

Everything user-provided (strategy name and description, event titles,
categories, sources, trigger reasons) is escaped; a source becomes a link only
when it is an ``http(s)`` URL (never ``javascript:``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from backtests.attribution import response_setting
from backtests.reports import timecharts
from backtests.reports.event_study import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CONFIDENCE,
    MIN_BOOTSTRAP_N,
    direction_lookup,
    event_windows,
    fired_events,
    firing_events,
    summarize,
)
from backtests.reports.markup import (
    Column,
    esc,
    html_formatter,
    is_missing,
    money,
    num,
    page,
    pct,
    synthetic_banner,
    table,
)
from backtests.reports.navigation import run_nav
from backtests.results import RunResult


def safe_url(source: str) -> str:
    """``source`` if it is an http(s) URL, else empty (no ``javascript:`` or relative links)."""
    return source if source.lower().startswith(("http://", "https://")) else ""


def _scroll(html: str) -> str:
    """A wide table that scrolls sideways inside the page instead of being cut."""
    return f'<div class="scroll">{html}</div>'


def _event_line(e: dict[str, str]) -> str:
    return f"{e['date']} [{e['category']}] {e['title']}" + (
        f" ({e['source']})" if e["source"] else ""
    )


def _markers(
    result: RunResult, directions: dict[tuple[pd.Timestamp, str], str]
) -> list[timecharts.Marker]:
    """One strip marker per firing day: hover lists every firing and event; click -> source/row."""
    firings = result.firings.reset_index(drop=True)
    days = pd.to_datetime(firings["date"])
    markers = []
    for day, rows in firings.groupby(days, sort=True):
        lines = [f"{day:%Y-%m-%d}: {len(rows)} firing" + ("s" if len(rows) > 1 else "")]
        urls, kinds = [], []
        for _, firing in rows.iterrows():
            events = firing_events(firing)
            lines.append(f"{firing['trigger']}: {firing.get('reason', '')}")
            lines += [f"  {_event_line(e)}" for e in events]
            urls += [safe_url(e["source"]) for e in events if safe_url(e["source"])]
            kinds += [directions.get((pd.Timestamp(e["date"]), e["title"]), "") for e in events]
        markers.append(
            timecharts.Marker(
                pd.Timestamp(day),
                len(rows),
                "\n".join(lines),
                urls[0] if urls else f"#firing-{rows.index[0]}",
                kinds[0] if kinds else "",
            )
        )
    return markers


def _spans(result: RunResult) -> list[timecharts.Span]:
    label = result.base_label
    return [
        timecharts.Span(
            ep["start"],
            ep["end"],
            f"Hedge episode {i + 1}: {ep['start']:%Y-%m-%d} to {ep['end']:%Y-%m-%d} "
            f"({ep['trading_days']} days, {ep['end_reason']}); "
            f"excess vs {label} {pct(ep['excess'])}",
            f"#episode-{i}",
        )
        for i, ep in _episodes(result).iterrows()
    ]


def _episodes(result: RunResult) -> pd.DataFrame:
    return (result.episodes if result.episodes is not None else pd.DataFrame()).reset_index(
        drop=True
    )


@html_formatter
def _events_cell(events: list[dict[str, str]]) -> str:
    parts = []
    for e in events:
        title = esc(e["title"])
        url = safe_url(e["source"])
        linked = (
            f'<a href="{esc(url)}" target="_blank" rel="noopener">{title}</a>' if url else title
        )
        parts.append(f"{esc(e['date'])} [{esc(e['category'])}] {linked}")
    return "<br>".join(parts)


def _firings_table(result: RunResult) -> str:
    rows = [
        {
            "date": f"{pd.Timestamp(f['date']):%Y-%m-%d}",
            "trigger": f["trigger"],
            "reason": f.get("reason", ""),
            "events": firing_events(f),
        }
        for _, f in result.firings.iterrows()
    ]
    columns = [
        Column("date", "Effective date", nowrap=True),
        Column("trigger", "Trigger"),
        Column("reason", "Reason"),
        Column("events", "Events (date, category, title/source)", _events_cell),
    ]
    return _scroll(
        table(rows, columns, sortable=True, row_id=lambda i: f"firing-{i}", table_id="firings")
    )


def firing_counts(result: RunResult) -> str:
    """What the page counts, in the words of ``metrics.json`` (the driving trigger's firings)."""
    driver = str(response_setting(result, "trigger"))
    total = len(result.firings)
    triggers = result.firings["trigger"].nunique()
    if not driver:
        return f"{total} trigger firings (every trigger drives the hedge)"
    driving = int((result.firings["trigger"] == driver).sum())
    if triggers <= 1 and driving == total:
        return f"{driving} firings of the driving trigger {driver}"
    return (
        f"{driving} firings of the driving trigger {driver} (the count in metrics.json); "
        f"{total} firings of all {triggers} triggers listed below"
    )


def _figure(value: Any, fmt: Callable[[Any], str]) -> str:
    return "" if value is None or is_missing(value) else fmt(value)


def _comparison_table(result: RunResult) -> str:
    """Strategy, base, their difference and the benchmark, metric by metric (not coloured:
    a lower volatility and a higher return are both better)."""
    m = result.metrics
    strategy, base, bench = m["strategy"], m.get("base", {}), m["benchmark"]
    label = result.base_label
    rows = []
    for name, key, fmt in (
        ("Total return", "total_return", pct),
        ("CAGR", "cagr", pct),
        ("Volatility", "volatility", pct),
        ("Sharpe", "sharpe", num),
        ("Max drawdown", "max_drawdown", pct),
    ):
        s, b = strategy.get(key), base.get(key)
        missing = s is None or b is None or is_missing(s) or is_missing(b)
        rows.append(
            {
                "metric": name,
                "strategy": _figure(s, fmt),
                "base": _figure(b, fmt),
                "diff": "" if missing else fmt(s - b),
                "benchmark": _figure(bench.get(key), fmt),
            }
        )
    columns = [
        Column("metric", "Metric"),
        Column("strategy", result.strategy, numeric=True),
        Column("base", label, numeric=True),
        Column("diff", f"Strategy − {label}", numeric=True),
        Column("benchmark", f"{result.benchmark} (benchmark)", numeric=True),
    ]
    return _scroll(table(rows, columns, table_id="hedge-comparison"))


def _attribution_table(result: RunResult) -> str:
    """The hedge's own figures (``metrics["hedge"]``), each with what it means."""
    h = result.metrics.get("hedge", {})
    label = result.base_label
    rows = [
        (
            f"Relative return vs {label}",
            h.get("relative_return"),
            pct,
            f"(1 + strategy total) / (1 + {label} total) − 1",
        ),
        (
            "… inside hedge episodes",
            h.get("return_in_episodes"),
            pct,
            "the same, compounded over the days hedged or exiting",
        ),
        (
            "… outside hedge episodes",
            h.get("return_outside_episodes"),
            pct,
            "the rest of the days; (1 + inside) × (1 + outside) = 1 + relative return",
        ),
        (
            "Cost of the hedge's trades",
            h.get("hedge_costs"),
            money,
            f"commission + slippage, strategy minus {label}",
        ),
        (
            "Cost drag per year",
            h.get("cost_drag"),
            lambda v: pct(v, 3),
            "those costs / mean equity / years",
        ),
        ("Time hedged", h.get("time_hedged"), lambda v: pct(v, 1), "share of days exposure > 0"),
        ("Hedge episodes", h.get("episodes"), str, "listed below"),
        (
            "Best / worst episode",
            (h.get("best_episode_excess"), h.get("worst_episode_excess")),
            lambda v: " / ".join(pct(x) for x in v) if not any(is_missing(x) for x in v) else "",
            f"excess vs {label} over the episode",
        ),
    ]
    records = [
        {"figure": name, "value": "" if value is None else fmt(value), "meaning": meaning}
        for name, value, fmt, meaning in rows
    ]
    columns = [
        Column("figure", "Hedge figure"),
        Column("value", "Value", numeric=True),
        Column("meaning", "Definition"),
    ]
    return _scroll(table(records, columns, table_id="hedge-figures"))


@html_formatter
def _started_cell(row: dict[str, Any]) -> str:
    trigger, reason = esc(row["start_trigger"]), esc(row["start_reason"])
    events = [esc(e) for e in str(row["start_events"] or "").split(" | ") if e]
    head = f"<b>{trigger}</b>: {reason}" if trigger else "(before the first firing in the run)"
    return "<br>".join([head, *events])


def _episodes_table(result: RunResult) -> str:
    episodes = _episodes(result)
    label = result.base_label
    if episodes.empty:
        return f'<p class="note">The hedge was never on: no episode, the strategy is its {esc(label)} self.</p>'
    rows = [
        {
            **ep.to_dict(),
            "start": f"{ep['start']:%Y-%m-%d}",
            "end": f"{ep['end']:%Y-%m-%d}",
            "started": ep.to_dict(),
        }
        for _, ep in episodes.iterrows()
    ]
    columns = [
        Column("start", "Start", nowrap=True),
        Column("end", "End", nowrap=True),
        Column("trading_days", "Days", numeric=True, pivot=None),
        Column("started", "Started by", _started_cell),
        Column("end_reason", "Ended by", nowrap=True),
        Column("strategy_return", "Strategy", pct, True),
        Column("base_return", label.capitalize(), pct, True),
        Column("benchmark_return", result.benchmark, pct, True),
        Column("excess", f"Excess vs {label}", pct, True),
        Column("strategy_max_drawdown", "Max DD strategy", pct, True),
        Column("base_max_drawdown", f"Max DD {label}", pct, True),
        Column("costs", "Hedge costs", money, True, pivot=None),
    ]
    return _scroll(
        table(rows, columns, sortable=True, row_id=lambda i: f"episode-{i}", table_id="episodes")
    )


def _interval(low_key: str, high_key: str) -> Callable[[Any], str]:
    @html_formatter
    def cell(row: dict[str, Any]) -> str:
        low, high = row[low_key], row[high_key]
        return "" if is_missing(low) or is_missing(high) else f"[{pct(low)}, {pct(high)}]"

    return cell


def _hit_rate(value: Any) -> str:
    return pct(value, 0)


def _summary_table(per_event: pd.DataFrame, result: RunResult) -> str:
    label = result.base_label
    records = [
        {**row, "group": f"{row['category']}, {row['direction']}", "row": row}
        for row in summarize(per_event).to_dict("records")
    ]
    columns = [
        Column("group", "Category, direction"),
        Column("window", "Window", nowrap=True),
        Column("n", "N", numeric=True, pivot=None),
        Column("strategy", "Strategy", pct, True),
        Column("base", label.capitalize(), pct, True),
        Column("benchmark", result.benchmark, pct, True),
    ]
    for key, name in (("base", label), ("benchmark", result.benchmark)):
        columns += [
            Column(f"excess_{key}", f"Excess vs {name}", pct, True),
            Column(
                "row",
                f"{CONFIDENCE:.0%} interval",
                _interval(f"excess_low_{key}", f"excess_high_{key}"),
                nowrap=True,
            ),
            Column(f"hit_rate_{key}", f"Hit rate vs {name}", _hit_rate, True, pivot=0.5),
        ]
    return _scroll(table(records, columns, sortable=True, table_id="event-study-summary"))


def _per_event_table(per_event: pd.DataFrame, result: RunResult) -> str:
    """One row per event; per window, the excess vs the base, then vs the benchmark."""
    keys = ["date", "anchor", "title", "category", "direction"]
    windows = list(dict.fromkeys(per_event["window"]))
    names = {"base": result.base_label, "benchmark": result.benchmark}
    rows = []
    for key, group in per_event.groupby(keys, sort=False, dropna=False):
        row: dict[str, object] = dict(zip(keys, key, strict=True))
        row["date"], row["anchor"] = f"{row['date']:%Y-%m-%d}", f"{row['anchor']:%Y-%m-%d}"
        row["kind"] = f"{row['category']}, {row['direction']}"
        for _, window in group.iterrows():
            row.update({f"{c} {window['window']}": window[f"excess_{c}"] for c in names})
        rows.append(row)
    columns = [
        Column("date", "Event date", nowrap=True),
        Column("anchor", "Day 0", nowrap=True),
        Column("title", "Title"),
        Column("kind", "Category, direction"),
        *[
            Column(f"{c} {w}", f"{w} vs {name}", pct, True)
            for w in windows
            for c, name in names.items()
        ],
    ]
    return _scroll(table(rows, columns, sortable=True, table_id="event-study-events"))


def _event_study(result: RunResult) -> str:
    events = fired_events(result.firings, result.events)
    per_event = event_windows(result.returns, result.base_returns, result.benchmark_returns, events)
    if per_event.empty:
        return '<p class="note">No event-driven firing inside the data: nothing to study.</p>'
    label = esc(result.base_label)
    return (
        '<p class="note">For each event behind a firing: day 0 is the first trading day on or '
        "after the event date; window a→b runs from the close of day a to the close of day b. "
        f"Excess = (1 + strategy) / (1 + comparator) − 1 over the window, against the {label} "
        f"portfolio first and the benchmark ({esc(result.benchmark)}) second. "
        "Windows that run past the data are left blank and excluded (N counts the rest). "
        f"Averages are means over N events; the {CONFIDENCE:.0%} interval is a bootstrap "
        f"percentile interval of the mean ({BOOTSTRAP_RESAMPLES:,} resamples, seed "
        f"{BOOTSTRAP_SEED}), shown when N ≥ {MIN_BOOTSTRAP_N}. Hit rate: share of events where "
        "the strategy beat the comparator, green above 50%, red below.</p>"
        f"<h3>Averages by category and direction</h3>{_summary_table(per_event, result)}"
        f"<h3>Per event: excess by window</h3>{_per_event_table(per_event, result)}"
    )


def _hedge_chart(result: RunResult) -> str:
    label = result.base_label
    strategy = timecharts.growth(result.returns)
    base = timecharts.growth(result.base_returns)
    benchmark = timecharts.growth(result.benchmark_returns)
    curves = {
        result.strategy: strategy,
        label: base,
        f"{result.benchmark} (benchmark)": benchmark,
    }
    drawdowns = {
        result.strategy: strategy / strategy.cummax() - 1.0,
        label: base / base.cummax() - 1.0,
    }
    return timecharts.hedge_chart(
        curves,
        strategy / base - 1.0,
        drawdowns,
        spans=_spans(result),
        markers=_markers(result, direction_lookup(result.events)),
        title=f"Growth of 1: strategy, {label} and benchmark; hedge episodes shaded",
        relative_title=f"Strategy relative to {label}: (1 + strategy) / (1 + {label}) − 1",
    )


def events_page(result: RunResult, *, index_href: str, tearsheet: bool = True) -> str:
    """The full ``events.html`` of a run."""
    label = esc(result.base_label)
    sleeve = "tilt" if result.base_label == "untilted" else "hedge"
    body = (
        f"<h1>{esc(result.strategy)}: hedge, events &amp; weights</h1>"
        f'<p class="sub">{esc(result.description)}</p>'
        f'<p class="sub">{result.start:%Y-%m-%d} to {result.end:%Y-%m-%d} · '
        f"data: {esc(result.data_description)} · benchmark: {esc(result.benchmark)} · "
        f"{esc(firing_counts(result))}</p>"
        f'<h2 id="hedge">What the {sleeve} did, against the {label} portfolio</h2>'
        f'<p class="note">{label.capitalize()}: the same spec with the response switched off '
        "(the same data, calendar, rebalancing and costs). Every figure about the hedge "
        "compares the strategy with it.</p>"
        f"{_comparison_table(result)}{_attribution_table(result)}"
        '<p class="note">Shaded: hedge episodes (hover for a summary, click for its row). '
        "Strip: trigger firings, one marker per day, the number is the firings that day; hover "
        "for the events, click for the source (or the firing's row). ▼ escalation, "
        "▲ de-escalation, ● market or GPR trigger.</p>"
        f'<div class="chart" id="hedge-chart">{_hedge_chart(result)}</div>'
        f'<h2 id="episodes">Hedge episodes</h2>'
        '<p class="note">An episode runs from the first day the exposure is above 0 (its close '
        "trades into the hedge) to the first day it is back at 0 (its close trades out); its "
        "returns are those rows of returns.csv, start and end included: the days hedged or "
        f"exiting. Excess = (1 + strategy) / (1 + {label}) − 1 over them; drawdowns are measured "
        f"inside the episode; hedge costs are commission and slippage of the strategy minus the "
        f"{label} portfolio's, in currency. Ended by: hold expired (the level fell to 0 at once), "
        "step-out finished (it stepped down over several days), de-escalation release, or still "
        "open at the end of the data.</p>"
        f"{_episodes_table(result)}"
        f'<h2 id="weights">Portfolio weights</h2><div class="chart" id="weights-chart">'
        f"{timecharts.weights_chart(result.weights, result.hedge_tickers, sleeve=sleeve)}</div>"
        f'<h2 id="event-study">Event study</h2>{_event_study(result)}'
        f'<h2 id="firings-list">Trigger firings</h2>{_firings_table(result)}'
    )
    top = run_nav(index_href, tearsheet=tearsheet) + (
        synthetic_banner() if result.synthetic else ""
    )
    return page(f"{result.strategy}: hedge, events & weights", body, top=top, script=True)
