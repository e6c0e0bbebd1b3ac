"""The quantstats HTML tearsheet, with the fixes it needs to be correct, quiet and offline.

What we change around ``quantstats.reports.html``:

- **What it compares against** (``benchmark=``): the spec's benchmark (default,
  named ``"<TICKER> (benchmark)"``), ``"base"`` (the counterfactual: the same
  portfolio with the response off, named after ``result.base_label``), or
  another ticker's daily returns (a Series named by its ticker). Always a
  returns Series we already have (a string would make quantstats download
  it); both get a tz-naive daily index. The page says which was used, in its
  title and in a line under the nav bar.
- **First day.** quantstats' ``match_dates`` would drop the run's first day
  (its return is the first day's trading costs, the benchmark's is 0), so its
  totals would disagree with ``metrics.json``; we pass ``match_dates=False``
  and every day is counted, as in ``metrics.json``.
- **Template.** We hand quantstats a copy of its own template with: our nav bar
  and (for demo data) a synthetic-data banner at the top, an escaped title (quantstats
  inserts the title unescaped), no favicon fetched from qtpylib.io (offline), no
  ``onload="save()"`` (an undefined function: a console error on every load), and
  our own EOY bar chart in place of quantstats' (misdrawn under pandas 3: bars
  squeezed to one side, year labels piled up).
- **Speed.** During the render quantstats' EOY chart is not drawn at all (it would be
  thrown away) and ``pyplot.savefig`` skips its trailing ``draw_idle``, a full Agg
  redraw of every chart already saved as SVG (a screen refresh; there is no screen),
  and the layout-less draw that ``savefig`` makes first on a figure ``tight_layout``
  has left a placeholder layout engine (it lays nothing out). With ``share_charts``
  (the worker's case) a fork draws about half of the charts (``reports.shared_charts``).
  quantstats' ``drawdown_details``, compounded ``group_returns`` and ``_prepare_benchmark``
  are replaced by exact versions (``reports.quantstats_fast``): about a third of its time.
  None of this changes a byte of the page.
- **Noise.** quantstats sets matplotlib's font to Arial (``findfont`` warnings by the
  hundred where Arial is absent) and a seaborn theme, globally, at import. We
  import it inside ``rc_context`` so the process keeps its own style, render with
  quantstats' style but a font that exists, drop only the matplotlib
  ``findfont: Font family ...`` log records, and ignore deprecation/future
  warnings raised inside quantstats/seaborn and numpy's runtime warnings (a run of
  a few days: the figures show as NaN anyway). Exceptions propagate untouched.
- **Same bytes.** Same inputs give the same file: quantstats' SVG charts get a fixed
  ``svg.hashsalt`` (their clip-path ids were random) and no ``<dc:date>`` (the time of
  drawing) in their metadata.

Two steps, so the slow one can run in another process (``reports.worker``):
``tearsheet_job`` (``reports.tearsheet_job``: checks, names, title; nothing drawn, no
matplotlib) gives a small picklable ``TearsheetJob``; ``tearsheet_html`` fills the template
(our EOY chart drawn) and runs quantstats on it, returning the page (``render_tearsheet``
writes it atomically).
``write_tearsheet`` is the two in a row. ``TearsheetJob.same_as`` tells whether two jobs
draw the same page (a page drawn early, from the fast executor, is kept when backtrader's
job is the same).
"""

from __future__ import annotations

import importlib.util
import logging
import re
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd

from backtests.atomic import atomic_write_text
from backtests.reports.charts import eoy_chart
from backtests.reports.markup import asset, esc, synthetic_banner
from backtests.reports.quantstats_fast import stand_ins, swapped
from backtests.reports.shared_charts import ChartsLost, can_share, shared_charts
from backtests.reports.tearsheet_job import Comparator, TearsheetJob, tearsheet_job
from backtests.results import RunResult


class _FindfontFilter(logging.Filter):
    """Drop matplotlib's ``findfont: Font family 'X' not found`` records; keep everything else."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("findfont: Font family")


#: quantstats' look: the seaborn theme its ``_plotting.core`` sets on import (0.0.86). Set here
#: too, on matplotlib's defaults, so the page does not depend on whether something imported
#: quantstats first (its theme then leaks into the process's rcParams) or on a user's matplotlibrc.
_QUANTSTATS_THEME: dict[str, Any] = {
    "figure.figsize": (10, 6),
    "axes.facecolor": "white",
    "figure.facecolor": "white",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.5,
    "text.color": "#333333",
    "xtick.color": "#666666",
    "ytick.color": "#666666",
}


@cache
def _quantstats() -> tuple[Any, dict[str, Any]]:
    """Import quantstats without leaking its global matplotlib style; return it and the page's style:
    matplotlib's defaults, quantstats' theme and our fonts, whatever the process or the user set."""
    defaults = {k: v for k, v in mpl.rcParamsDefault.items() if k != "backend"}
    with mpl.rc_context(defaults), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import quantstats
        import seaborn

        seaborn.set_theme(font_scale=1.1, rc=_QUANTSTATS_THEME)
        style = {k: v for k, v in mpl.rcParams.items() if k != "backend"}
    style["font.family"] = "sans-serif"
    style["font.sans-serif"] = ["DejaVu Sans", "Liberation Sans", "Arial"]
    style["svg.hashsalt"] = "geohedge"  # stable clip-path ids: same input, same bytes
    return quantstats, style


def warm_up() -> None:
    """Pay the first render's one-off costs now: import quantstats (seaborn, scipy.stats,
    pyplot) and draw one tiny chart (fonts, the SVG backend)."""
    _quantstats()
    days = pd.Series([0.0, 0.01], index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"]))
    eoy_chart(days, days, ("a", "b"))


def _quantstats_template() -> str:
    """quantstats' own ``report.html``, found without importing quantstats (slow; see ``warm_up``)."""
    spec = importlib.util.find_spec("quantstats")
    if spec is None or spec.origin is None:
        raise RuntimeError("quantstats is not installed; pip install quantstats")
    return Path(spec.origin).with_name("report.html").read_text(encoding="utf-8")


@contextmanager
def quiet_quantstats() -> Iterator[Any]:
    """Run quantstats with its style, a font that exists, and its known noise silenced."""
    qs, style = _quantstats()
    font_logger = logging.getLogger("matplotlib.font_manager")
    font_filter = _FindfontFilter()
    font_logger.addFilter(font_filter)
    try:
        with mpl.rc_context(style), warnings.catch_warnings():
            for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
                warnings.filterwarnings(
                    "ignore", category=category, module=r"(quantstats|seaborn)(\.|$)"
                )
            warnings.filterwarnings(
                "ignore", message=r"set_ticklabels\(\) should only be used", category=UserWarning
            )
            # numpy's "Degrees of freedom <= 0", "Mean of empty slice"... on runs of a few days:
            # quantstats shows those figures as NaN; the warnings only repeat it, twice, on stderr.
            warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"numpy(\.|$)")
            yield qs
    finally:
        font_logger.removeFilter(font_filter)


def _template(job: TearsheetJob) -> str:
    """quantstats' own template with our fixes applied (see the module docstring)."""
    tpl = _quantstats_template()
    names = (str(job.returns.name), str(job.compared.name))
    eoy_svg = eoy_chart(job.returns, job.compared, names, size=(8, 4))
    banner = synthetic_banner() if job.synthetic else ""
    note = (
        f'<div class="gh-note">Compared with {esc(job.what)}. Every day of the run is counted, '
        "the first (its trading costs) included, as in metrics.json; quantstats' CAGR counts "
        "years as trading days / 252, metrics.json as calendar days / 365.25.</div>"
    )
    fixes = (
        (r'<link rel="shortcut icon"[^>]*>', f"<style>{asset('chrome.css')}</style>"),
        (r'<body onload="save\(\)">', "<body>"),
        (r"<title>.*?</title>", f"<title>{esc(job.title)}</title>"),
        (r'<div class="container">', f'{job.top_html}{banner}{note}<div class="container">'),
        (r"\{\{eoy_returns\}\}", eoy_svg),
    )
    for pattern, replacement in fixes:
        tpl, count = re.subn(pattern, lambda _m, r=replacement: r, tpl, count=1)
        if count != 1:
            raise RuntimeError(
                f"quantstats template changed: {pattern!r} not found; "
                "update backtests.reports.tearsheet"
            )
    return tpl


def _undated(html: str) -> str:
    """quantstats' page as we keep it: CAGR's U+FE6A (small percent sign, missing from common
    fonts) as ``%``, and no drawing time in the charts' metadata."""
    return re.sub(r"<dc:date>[^<]*</dc:date>", "", html).replace("\ufe6a", "%")


def tearsheet_html(job: TearsheetJob, workdir: Path, *, share_charts: bool = False) -> str:
    """Run quantstats on ``job`` (quiet, offline) and return the page; its template and output
    files go in ``workdir``, an existing folder of the caller's.

    ``share_charts``: draw the charts in this process and a fork of it
    (``reports.shared_charts``; the same bytes), where ``can_share`` allows; if the fork is
    lost, the page is drawn again here alone.
    """
    if share_charts and can_share():
        try:
            return _html(job, workdir, share_charts=True)
        except ChartsLost:
            pass
    return _html(job, workdir, share_charts=False)


def _html(job: TearsheetJob, workdir: Path, *, share_charts: bool) -> str:
    template, output = workdir / "template.html", workdir / "tearsheet.html"
    atomic_write_text(template, _template(job))
    with quiet_quantstats() as qs:
        from matplotlib import pyplot
        from matplotlib.layout_engine import PlaceHolderLayoutEngine

        def save_only(*args: Any, **kwargs: Any) -> None:
            figure = pyplot.gcf()
            if isinstance(figure.get_layout_engine(), PlaceHolderLayoutEngine):
                # what tight_layout() leaves: no layout, so no draw before the one saved (None means
                # no engine only while the rc asks for no automatic layout)
                with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
                    figure.set_layout_engine(None)
            figure.savefig(*args, **kwargs)

        with (
            shared_charts(qs, workdir) if share_charts else nullcontext() as charts,
            swapped(qs.plots, "yearly_returns", lambda *_args, **_kwargs: None),
            swapped(pyplot, "savefig", save_only),
            stand_ins(qs),
        ):
            qs.reports.html(
                job.returns,
                benchmark=job.compared,
                title=esc(job.title),
                output=str(output),
                template_path=str(template),
                strategy_title=job.returns.name,
                benchmark_title=job.compared.name,
                match_dates=False,
            )
            page = output.read_text(encoding="utf-8")
            if charts is not None:
                page = charts.page(page)
    return _undated(page)


def render_tearsheet(job: TearsheetJob, path: Path) -> Path:
    """``tearsheet_html`` of ``job`` written to ``path`` atomically."""
    with tempfile.TemporaryDirectory(prefix="geohedge-tearsheet-") as workdir:
        return atomic_write_text(path, tearsheet_html(job, Path(workdir)))


def write_tearsheet(
    result: RunResult, path: Path, *, top_html: str = "", benchmark: Comparator = None
) -> Path:
    """Write the quantstats tearsheet of ``result`` to ``path`` atomically, ``top_html`` on top.

    ``benchmark``: what quantstats compares against (see ``comparator``).
    """
    return render_tearsheet(tearsheet_job(result, top_html=top_html, benchmark=benchmark), path)
