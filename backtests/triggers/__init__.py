"""The trigger language: pure functions from market data and events to dated signals.

A strategy names its triggers in ``[triggers.NAME]`` tables with a ``type``
(``event``, ``gpr``, ``drawdown``, ``volatility``, ``ma_cross``, ``any``,
``all``, ``not``) and parameters (schemas in ``registry.TRIGGER_TYPES``).
``evaluate(triggers, ctx)`` returns one ``TriggerOutput`` per name: the
effective signal in [0, 1], the release flags and the firings, all on
``ctx.calendar``. Timing rule (no look-ahead, ``lag``): see ``timing``.

Modules: ``context`` (data in and out), ``timing`` (stamping and lag),
``event``, ``gpr``, ``market``, ``combinators`` (the types), ``registry``
(type -> schema and function), ``validation`` (tables and the trigger graph),
``evaluation`` (``evaluate``).
"""

from backtests.triggers.context import FIRING_COLUMNS, MarketContext, TriggerOutput
from backtests.triggers.evaluation import evaluate
from backtests.triggers.registry import TRIGGER_TYPES, TriggerType
from backtests.triggers.validation import validate_trigger_table, validate_triggers

__all__ = [
    "FIRING_COLUMNS",
    "TRIGGER_TYPES",
    "MarketContext",
    "TriggerOutput",
    "TriggerType",
    "evaluate",
    "validate_trigger_table",
    "validate_triggers",
]
