"""``events.html``: equity curves with every trigger firing marked, weights, the event study.

Everything user-provided (strategy name and description, event titles,
categories, sources, trigger reasons) is escaped; a source becomes a link only
when it is an ``http(s)`` URL (never ``javascript:``).
"""

from __future__ import annotations

import pandas as pd

from backtests.reports import charts
from backtests.reports.event_study import (
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
    nav_bar,
    page,
    pct,
    synthetic_banner,
    table,
)
from backtests.results import RunResult

EVENTS_PAGE = "events.html"
SIDES = ("strategy", "benchmark")
TEARSHEET_PAGE = "tearsheet.html"


def run_nav(index_href: str, *, tearsheet: bool) -> str:
    """The link bar atop a run's tearsheet and events page (no tearsheet link if none written)."""
    return nav_bar(
        [
            *([(TEARSHEET_PAGE, "Tearsheet")] if tearsheet else []),
            (EVENTS_PAGE, "Events & weights"),
            (f"{EVENTS_PAGE}#event-study", "Event study"),
            (index_href, "All runs"),
        ]
    )


def safe_url(source: str) -> str:
    """``source`` if it is an http(s) URL, else empty (no ``javascript:`` or relative links)."""
    return source if source.lower().startswith(("http://", "https://")) else ""


def _tooltip(firing: pd.Series, events: list[dict[str, str]]) -> str:
    head = (
        f"{pd.Timestamp(firing['date']):%Y-%m-%d} {firing['trigger']}: {firing.get('reason', '')}"
    )
    lines = [
        f"{e['date']} [{e['category']}] {e['title']}" + (f" ({e['source']})" if e["source"] else "")
        for e in events
    ]
    return "\n".join([head, *lines])


def _markers(
    result: RunResult, curve: pd.Series, directions: dict[tuple[pd.Timestamp, str], str]
) -> list[charts.Marker]:
    """One marker per firing on the strategy curve; click -> first source URL, else its row."""
    markers = []
    for i, (_, firing) in enumerate(result.firings.iterrows()):
        day = pd.Timestamp(firing["date"])
        pos = min(int(curve.index.searchsorted(day)), len(curve) - 1)
        events = firing_events(firing)
        urls = [safe_url(e["source"]) for e in events if safe_url(e["source"])]
        direction = (
            directions.get((pd.Timestamp(events[0]["date"]), events[0]["title"]), "")
            if events
            else ""
        )
        markers.append(
            charts.Marker(
                curve.index[pos],
                float(curve.iloc[pos]),
                _tooltip(firing, events),
                urls[0] if urls else f"#firing-{i}",
                direction,
            )
        )
    return markers


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
    return table(rows, columns, sortable=True, row_id=lambda i: f"firing-{i}", table_id="firings")


def _per_event_table(per_event: pd.DataFrame) -> str:
    """One row per event; per window, the strategy's and the benchmark's return side by side."""
    keys = ["date", "anchor", "title", "category", "direction"]
    windows = list(dict.fromkeys(per_event["window"]))
    rows = []
    for key, group in per_event.groupby(keys, sort=False, dropna=False):
        row: dict[str, object] = dict(zip(keys, key, strict=True))
        row["date"], row["anchor"] = f"{row['date']:%Y-%m-%d}", f"{row['anchor']:%Y-%m-%d}"
        row["kind"] = f"{row['category']}, {row['direction']}"
        for _, window in group.iterrows():
            row.update({f"{side} {window['window']}": window[side] for side in SIDES})
        rows.append(row)
    columns = [
        Column("date", "Event date", nowrap=True),
        Column("anchor", "Day 0", nowrap=True),
        Column("title", "Title"),
        Column("kind", "Category, direction"),
        *[Column(f"{side} {w}", f"{w} {side}", pct, True) for w in windows for side in SIDES],
    ]
    wide = table(rows, columns, sortable=True, table_id="event-study-events")
    return f'<div class="scroll">{wide}</div>'


def _event_study(result: RunResult) -> str:
    events = fired_events(result.firings, result.events)
    per_event = event_windows(result.returns, result.benchmark_returns, events)
    if per_event.empty:
        return '<p class="note">No event-driven firing inside the data: nothing to study.</p>'
    ratio = [Column("strategy", "Strategy", pct, True), Column("benchmark", "Benchmark", pct, True)]
    summary = table(
        summarize(per_event).to_dict("records"),
        [
            Column("category", "Category"),
            Column("direction", "Direction"),
            Column("window", "Window"),
            Column("n", "Events", numeric=True),
            *ratio,
            Column("excess", "Excess", pct, True),
            Column("hit_rate", "Hit rate", lambda v: pct(v, 0), True),
        ],
        sortable=True,
        table_id="event-study-summary",
    )
    events_table = _per_event_table(per_event)
    return (
        '<p class="note">Day 0 is the first trading day on or after the event date. '
        "Window a→b is the compound return from the close of day a to the close of day b. "
        "Windows that run past the start or end of the data are left blank and excluded "
        "from the averages and hit rates (Events counts the "
        "rest). Hit rate: share of events where the strategy beat the benchmark.</p>"
        f"<h3>Averages by category and direction</h3>{summary}<h3>Per event</h3>{events_table}"
    )


def events_page(result: RunResult, *, index_href: str, tearsheet: bool = True) -> str:
    """The full ``events.html`` of a run."""
    curves = {
        result.strategy: charts.growth(result.returns),
        f"{result.benchmark} (benchmark)": charts.growth(result.benchmark_returns),
    }
    directions = direction_lookup(result.events)
    equity = charts.line_chart(
        curves,
        title="Growth of 1: strategy vs benchmark, trigger firings marked",
        ylabel="growth of 1",
        markers=_markers(result, curves[result.strategy], directions),
    )
    source = result.data_description
    body = (
        f"<h1>{esc(result.strategy)}: events &amp; weights</h1>"
        f'<p class="sub">{esc(result.description)}</p>'
        f'<p class="sub">{result.start:%Y-%m-%d} to {result.end:%Y-%m-%d} · data: {esc(source)} · '
        f"benchmark: {esc(result.benchmark)} · {len(result.firings)} trigger firings</p>"
        f'<h2 id="equity">Equity and trigger firings</h2>'
        '<p class="note">Hover a marker for the event; click it for the source (or its row below). '
        "▼ escalation, ▲ de-escalation, ● market trigger.</p>"
        f'<div class="chart" id="equity-chart">{equity}</div>'
        f'<h2 id="weights">Portfolio weights</h2><div class="chart" id="weights-chart">'
        f"{charts.weights_chart(result.weights, result.hedge_tickers)}</div>"
        f'<h2 id="event-study">Event study</h2>{_event_study(result)}'
        f'<h2 id="firings-list">Trigger firings</h2>{_firings_table(result)}'
    )
    top = run_nav(index_href, tearsheet=tearsheet) + (
        synthetic_banner() if result.synthetic else ""
    )
    return page(f"{result.strategy}: events & weights", body, top=top, script=True)
