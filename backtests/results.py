"""``RunResult``: everything one backtest produced, handed from the pipeline to the reports and to notebooks.

Besides the data it offers what a notebook user wants: ``summary()`` (a
DataFrame), an HTML view (``_repr_html_``), ``plot()`` (a matplotlib Figure),
``tearsheet(path)`` (quantstats, quiet, with our fixes) and ``save(folder)`` (the
same run folder ``backtest run`` writes).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from backtests.data.frames import SYNTHETIC_LABEL

if TYPE_CHECKING:  # the worker module loads only when a renderer is used
    from backtests.reports.worker import TearsheetWorker


@dataclass(frozen=True)
class RunResult:
    """One run's outputs. All series share the run's trading calendar (``date`` index).

    - ``returns``: daily simple returns, the first being E_0 / cash - 1 (the first day's costs);
      ``benchmark_returns``: the benchmark's, first day 0.0.
    - ``equity``: portfolio value in currency, starting at ``spec['cash']``.
    - ``weights``: actual weights after each day's trading; ``targets``: target weights.
    - ``trades``: columns ``date, ticker, size, price, value, commission``.
    - ``hedge_level``: share of ``response.hedge_fraction`` in force, in [0, 1].
    - ``firings``: every trigger firing (see ``TriggerOutput.firings``), all triggers stacked.
    - ``signals``: ``date x trigger`` effective signals.
    - ``events``: the events in use (curated + user files), after loading.
    - ``metrics``: ``{"strategy": {...}, "benchmark": {...}, "base": {...}, "hedge": {...}}`` with
      snake_case keys (``hedge``: the strategy against its own base, see ``backtests.attribution``).
    - ``manifest``: data source, fingerprints, package versions, command line.
    - The counterfactual **base**: the same spec with the response off (hedge level 0 every day) on
      the same data, calendar, rebalancing rule and costs: ``base_returns``, ``base_equity``,
      ``base_trades`` (same columns as ``trades``); ``base_label`` is ``"unhedged"`` or, for
      tilt strategies (``response.kind = "tilt"``), ``"untilted"``.
    - ``driving_signal`` / ``release``: the response's driving signal in [0, 1] and its
      de-escalation release flags, on the run calendar (what the hedge level was computed from).
    - ``exposure``: ``response.hedge_fraction * hedge_level``, the share moved into the basket.
    - ``episodes``: one row per hedge episode (``backtests.attribution.EPISODE_COLUMNS``).
    """

    strategy: str
    description: str
    spec_toml: str
    start: pd.Timestamp
    end: pd.Timestamp
    data_label: str
    synthetic: bool
    benchmark: str
    returns: pd.Series
    benchmark_returns: pd.Series
    equity: pd.Series
    weights: pd.DataFrame
    targets: pd.DataFrame
    trades: pd.DataFrame
    hedge_level: pd.Series
    signals: pd.DataFrame
    firings: pd.DataFrame
    events: pd.DataFrame
    metrics: dict[str, dict[str, Any]]
    manifest: dict[str, Any]
    hedge_tickers: tuple[str, ...] = ()
    base_returns: pd.Series | None = None
    base_equity: pd.Series | None = None
    base_trades: pd.DataFrame | None = None
    base_label: str = "unhedged"
    driving_signal: pd.Series | None = None
    release: pd.Series | None = None
    exposure: pd.Series | None = None
    episodes: pd.DataFrame | None = None

    @property
    def data_description(self) -> str:
        """The data label, saying ``synthetic demo data`` (once) when the prices are synthetic."""
        if self.synthetic and SYNTHETIC_LABEL not in self.data_label:
            return f"{self.data_label} ({SYNTHETIC_LABEL})"
        return self.data_label

    #: (label, metrics key, format) of the summary, in reading order.
    SUMMARY_ROWS = (
        ("CAGR", "cagr", "{:+.2%}"),
        ("Volatility", "volatility", "{:.2%}"),
        ("Sharpe", "sharpe", "{:.2f}"),
        ("Sortino", "sortino", "{:.2f}"),
        ("Max drawdown", "max_drawdown", "{:.2%}"),
        ("Calmar", "calmar", "{:.2f}"),
        ("Turnover (per year)", "turnover", "{:.2f}"),
        ("Trigger firings", "trigger_firings", "{:d}"),
        ("Time hedged", "time_hedged", "{:.1%}"),
    )

    def summary_columns(self) -> dict[str, str]:
        """metrics.json section -> column title: strategy, its base, the benchmark."""
        return {
            "strategy": "Strategy",
            "base": f"Base ({self.base_label})",
            "benchmark": f"Benchmark ({self.benchmark})",
        }

    def summary(self) -> pd.DataFrame:
        """Metrics by row (CAGR, volatility, ...), columns strategy, base and benchmark (floats, NaN where none)."""
        columns = {
            title: [self.metrics.get(section, {}).get(key, float("nan")) for _, key, _ in self.SUMMARY_ROWS]
            for section, title in self.summary_columns().items()
        }
        return pd.DataFrame(columns, index=[label for label, _, _ in self.SUMMARY_ROWS], dtype=float)

    def formatted_summary(self) -> list[tuple[str, list[str]]]:
        """The summary as display strings: [(label, [strategy, base, benchmark])]."""
        rows = []
        for label, key, fmt in self.SUMMARY_ROWS:
            cells = [_fmt(self.metrics.get(section, {}).get(key), fmt) for section in self.summary_columns()]
            rows.append((label, cells))
        return rows

    def hedge_line(self) -> str:
        """One line on what the hedge did against its base (empty when there is no attribution)."""
        hedge = self.metrics.get("hedge")
        if not hedge:
            return ""
        word = "Tilt" if self.base_label == "untilted" else "Hedge"
        line = (
            f"{word} vs {self.base_label}: {hedge['relative_return']:+.2%} net ({hedge['excess_cagr']:+.2%} CAGR); "
            f"{hedge['return_in_episodes']:+.2%} inside {hedge['episodes']} episodes, "
            f"{hedge['return_outside_episodes']:+.2%} outside (carry and trading)"
        )
        if hedge["episodes"]:
            line += f"; best episode {hedge['best_episode_excess']:+.2%}, worst {hedge['worst_episode_excess']:+.2%}"
        return line

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(t)}</th>" for t in ["", *self.summary_columns().values()])
        body = "".join(
            "<tr><th>" + html.escape(label) + "</th>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
            for label, cells in self.formatted_summary()
        )
        title = f"{self.strategy}, {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}, data: {self.data_description}"
        hedge = f"<p>{html.escape(self.hedge_line())}</p>" if self.hedge_line() else ""
        return f"<p><b>{html.escape(title)}</b></p><table><tr>{head}</tr>{body}</table>{hedge}"

    def plot(self):
        """A matplotlib Figure: growth of 1 for the strategy, its base and the benchmark, firings marked."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 4.5))
        ax = fig.add_subplot()
        series = {self.strategy: self.returns, f"base ({self.base_label})": self.base_returns}
        series[f"{self.benchmark} (benchmark)"] = self.benchmark_returns
        for name, returns in series.items():
            if returns is not None:
                ax.plot(returns.index, (1.0 + returns).cumprod(), label=name, linewidth=1.2)
        growth = (1.0 + self.returns).cumprod()
        fired = pd.DatetimeIndex(self.firings["date"]) if len(self.firings) else pd.DatetimeIndex([])
        fired = fired[fired.isin(growth.index)]
        ax.plot(fired, growth.loc[fired], "v", color="crimson", markersize=5, label="trigger firing")
        title = f"{self.strategy}: growth of 1, {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"
        ax.set_title(title + (f" ({SYNTHETIC_LABEL})" if self.synthetic else ""))
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
        return fig

    def tearsheet(self, path: str | os.PathLike, *, benchmark: Any = None) -> Path:
        """Write the quantstats tearsheet to ``path`` (quiet, offline); ``benchmark``: None (the spec's),
        ``"base"`` (the counterfactual) or a returns Series named by its ticker."""
        from backtests.reports.tearsheet import write_tearsheet

        return write_tearsheet(self, Path(path), benchmark=benchmark)

    def save(
        self,
        folder: str | os.PathLike,
        *,
        tearsheet: bool = True,
        tearsheet_benchmark: Any = None,
        force: bool = False,
        renderer: TearsheetWorker | None = None,
    ) -> dict[str, Path]:
        """Write the run folder (the same files ``backtest run --out folder`` writes); returns name -> path.

        ``renderer``: a ``backtests.reports.worker.TearsheetWorker`` to draw the tearsheet in its
        own process while the other files are written (same bytes); ``None``: drawn here."""
        from backtests.reports.artifacts import write_run

        return write_run(
            self,
            Path(folder),
            tearsheet=tearsheet,
            tearsheet_benchmark=tearsheet_benchmark,
            command_line=self.manifest.get("command_line", ()),
            force=force,
            renderer=renderer,
        )


def _fmt(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)
