"""geohedge: backtest hedges and green-infrastructure tilts triggered by geopolitical events.

Data flows one way: prices + events -> triggers -> target weights -> execution
-> results -> reports. See docs/architecture.md for the module map.
"""

__version__ = "0.1.0"
