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
  redraw of every chart already saved as SVG (a screen refresh; there is no screen).
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
``tearsheet_job`` (checks, names, title; nothing drawn) gives a small picklable
``TearsheetJob``; ``tearsheet_html`` fills the template (our EOY chart drawn) and runs
quantstats on it, returning the page (``render_tearsheet`` writes it atomically).
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
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd

from backtests.atomic import atomic_write_text
from backtests.errors import UserInputError
from backtests.reports.charts import eoy_chart
from backtests.reports.markup import asset, esc, synthetic_banner
from backtests.reports.quantstats_fast import stand_ins, swapped
from backtests.results import RunResult


class _FindfontFilter(logging.Filter):
    """Drop matplotlib's ``findfont: Font family 'X' not found`` records; keep everything else."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("findfont: Font family")


@cache
def _quantstats() -> tuple[Any, dict[str, Any]]:
    """Import quantstats without leaking its global matplotlib style; return it and that style."""
    with mpl.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import quantstats

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
    """What ``render_tearsheet`` needs, small and picklable (for ``reports.worker``).

    ``returns``/``compared``: daily returns named by their display names (see
    ``series_for_quantstats``); ``title``: the page title (plain text); ``what``: what
    ``compared`` is, for the note under the nav bar; ``top_html``: our nav bar;
    ``synthetic``: demo data (a banner on top).
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
    strategy_name = result.strategy
    benchmark_name, benchmark_returns, what = comparator(result, benchmark)
    if benchmark_name == strategy_name:
        benchmark_name = f"{benchmark_name} (comparison)"
    return TearsheetJob(
        returns=series_for_quantstats(result.returns, strategy_name),
        compared=series_for_quantstats(benchmark_returns, benchmark_name),
        title=tearsheet_title(result, benchmark_name),
        what=what,
        top_html=top_html,
        synthetic=result.synthetic,
    )


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


def tearsheet_html(job: TearsheetJob, workdir: Path) -> str:
    """Run quantstats on ``job`` (quiet, offline) and return the page; its template and output
    files go in ``workdir``, an existing folder of the caller's."""
    template, output = workdir / "template.html", workdir / "tearsheet.html"
    atomic_write_text(template, _template(job))
    with quiet_quantstats() as qs:
        from matplotlib import pyplot

        def save_only(*args: Any, **kwargs: Any) -> None:
            pyplot.gcf().savefig(*args, **kwargs)

        with (
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
    return _undated(output.read_text(encoding="utf-8"))


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
