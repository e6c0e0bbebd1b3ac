"""Conventions shared across layers, defined once: the year of trading days, rebalancing schedules, cost bounds.

Imported by the spec schema, the trading rules, the metrics and the sweep, so a
change here changes them all. Kept free of heavy imports (no numpy or pandas),
so loading a spec stays light.
"""

#: Trading days per year: annualises volatility, Sharpe, Sortino and turnover.
TRADING_DAYS_PER_YEAR = 252

#: When a strategy rebalances on the calendar (besides target changes and drift).
SCHEDULES: tuple[str, ...] = ("none", "daily", "weekly", "monthly", "quarterly")

#: The largest commission or slippage a spec may set, in basis points (10%).
MAX_COST_BPS = 1000.0
