"""Parameter sweeps: grids (``grid``), the runner on the fast executor (``runner``),
overfitting statistics (``stats``: Deflated Sharpe Ratio, PBO) and outputs (``report``).

This package module stays light: the CLI imports it to build its options.
"""

#: What ``backtest sweep --objective`` can maximise in sample (``max_drawdown``: the least deep).
OBJECTIVES = ("sharpe", "sortino", "calmar", "cagr", "max_drawdown")
