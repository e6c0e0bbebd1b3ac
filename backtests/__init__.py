"""geohedge: backtest hedges and green-infrastructure tilts triggered by geopolitical events.

Data flows one way: prices + events -> triggers -> target weights -> execution
-> results -> reports (module map: docs/architecture.md). The public API::

    from backtests import Strategy, run, sweep
    result = run(Strategy.load("tariff-shock-hedge"), source="demo")
    result.summary()

Names are imported on first use, so ``import backtests`` (and ``backtest --help``)
stays fast.
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "Strategy": "backtests.api",
    "RunResult": "backtests.results",
    "SweepResult": "backtests.api",
    "run": "backtests.api",
    "sweep": "backtests.api",
    "load_prices": "backtests.api",
    "load_events": "backtests.api",
    "BacktestError": "backtests.errors",
    "UserInputError": "backtests.errors",
    "DataUnavailableError": "backtests.errors",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'backtests' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
