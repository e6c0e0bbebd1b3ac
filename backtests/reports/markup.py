"""Small HTML building blocks shared by our pages: escaping, the page shell, tables, nav bar.

Every piece of text that reaches a page goes through ``esc`` (or ``table``,
which escapes each cell): event titles, notes, descriptions and strategy names
are user-provided. Pages are self-contained: the CSS and the little sorting
script are inlined from package data, nothing is fetched from the network.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

SYNTHETIC_NOTE = "synthetic demo data: not market prices, for trying the tool only"


def esc(value: Any) -> str:
    """HTML-escape ``value`` (quotes too, so it is safe inside attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def asset(name: str) -> str:
    """The text of a file shipped in this package (``*.css``, ``sortable.js``)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def is_missing(value: Any) -> bool:
    """True for ``None`` and float NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value: Any, digits: int = 2) -> str:
    """``0.1234`` -> ``"12.34%"``; missing -> empty."""
    return (
        "" if is_missing(value) else f"{round(float(value) * 100, digits) + 0.0:.{digits}f}%"
    )  # no "-0.00%"


def num(value: Any, digits: int = 2) -> str:
    """A plain number with ``digits`` decimals; ints as they are; missing -> empty."""
    if is_missing(value):
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{float(value):.{digits}f}"


def money(value: Any) -> str:
    """Currency with thousands separators and 2 decimals: ``1234.5`` -> ``"1,234.50"``."""
    return "" if is_missing(value) else f"{round(float(value), 2) + 0.0:,.2f}"


def plain(value: Any) -> str:
    """The default cell formatter: the value as text, missing -> empty."""
    return "" if is_missing(value) else str(value)


@dataclass(frozen=True)
class Column:
    """One table column: row key, header, formatter, numeric (right-aligned, sortable), nowrap.

    A numeric cell is coloured green above ``pivot`` and red below it (a hit rate: 0.5);
    ``pivot=None``: never coloured (counts, costs).
    """

    key: str
    header: str
    fmt: Callable[[Any], str] = plain
    numeric: bool = False
    nowrap: bool = False
    pivot: float | None = 0.0


def table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    *,
    sortable: bool = False,
    row_id: Callable[[int], str] | None = None,
    table_id: str = "",
) -> str:
    """An HTML table (wrap it in ``div.scroll`` to let it scroll sideways on a narrow screen).

    Formatter output is escaped unless marked with ``html_formatter``. Numeric
    cells carry ``data-sort`` with the raw value so sorting is numeric, and a
    ``pos``/``neg`` class for colour (against the column's ``pivot``).
    """
    head = "".join(
        f'<th class="num">{esc(c.header)}</th>' if c.numeric else f"<th>{esc(c.header)}</th>"
        for c in columns
    )
    body = []
    for i, row in enumerate(rows):
        cells = []
        for c in columns:
            value = row.get(c.key)
            text = c.fmt(value) if getattr(c.fmt, "is_html", False) else esc(c.fmt(value))
            if c.numeric:
                sign = (
                    ""
                    if c.pivot is None or is_missing(value) or not isinstance(value, (int, float))
                    else (" pos" if value > c.pivot else " neg" if value < c.pivot else "")
                )
                sort = "" if is_missing(value) else f' data-sort="{esc(value)}"'
                cells.append(f'<td class="num{sign}"{sort}>{text}</td>')
            else:
                cells.append(f'<td class="nw">{text}</td>' if c.nowrap else f"<td>{text}</td>")
        rid = f' id="{esc(row_id(i))}"' if row_id else ""
        body.append(f"<tr{rid}>{''.join(cells)}</tr>")
    classes = "gh sortable" if sortable else "gh"
    tid = f' id="{esc(table_id)}"' if table_id else ""
    return (
        f'<table class="{classes}"{tid}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def html_formatter(func: Callable[[Any], str]) -> Callable[[Any], str]:
    """Mark a column formatter as returning HTML it has escaped itself (e.g. a link)."""
    func.is_html = True  # type: ignore[attr-defined]
    return func


def nav_bar(links: Sequence[tuple[str, str]]) -> str:
    """The dark link bar at the top of every page: ``[(href, label), ...]`` joined by ``|``."""
    items = '<span class="sep">|</span>'.join(
        f'<a href="{esc(href)}">{esc(label)}</a>' for href, label in links
    )
    return f'<nav class="gh-nav">{items}</nav>'


def synthetic_banner() -> str:
    """The visible warning shown on every page of a run on synthetic data."""
    return f'<div class="gh-banner" role="alert">&#9888; {esc(SYNTHETIC_NOTE)}</div>'


def page(title: str, body: str, *, top: str = "", script: bool = False) -> str:
    """A full self-contained HTML document: inline CSS, optional inline sorting script."""
    js = f"<script>{asset('sortable.js')}</script>" if script else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{asset('chrome.css')}{asset('report.css')}</style></head>"
        f"<body>{top}<main>{body}</main>{js}</body></html>\n"
    )
