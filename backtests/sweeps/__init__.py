"""Parameter sweeps: grids (``grid``), the runner on the fast executor (``runner``),
overfitting statistics (``stats``: Deflated Sharpe Ratio, PBO) and outputs (``report``).

This package module stays light: the CLI imports it to build its options.
"""

#: What ``backtest sweep --objective`` can maximise in sample (``max_drawdown``: the least deep).
OBJECTIVES = ("sharpe", "sortino", "calmar", "cagr", "max_drawdown")

#: The metrics a sweep keeps for each range (in sample, out of sample, full, walk-forward folds).
RANGE_METRICS = ("cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar")
