"""Evaluating a strategy's named triggers on one ``MarketContext``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backtests.triggers.context import MarketContext, TriggerOutput
from backtests.triggers.registry import TRIGGER_TYPES
from backtests.triggers.validation import evaluation_order, validate_trigger_table


def evaluate(
    triggers: Mapping[str, Mapping[str, Any]], ctx: MarketContext
) -> dict[str, TriggerOutput]:
    """Every trigger's output, keyed by name in the given order.

    ``triggers`` maps names to ``[triggers.NAME]`` tables (validated here, so
    raw or already validated tables both work); combinators read the outputs
    of the triggers named in their ``inputs``.
    """
    tables = {name: validate_trigger_table(name, table) for name, table in triggers.items()}
    outputs: dict[str, TriggerOutput] = {}
    for name in evaluation_order(tables):
        params = tables[name]
        trigger_type = TRIGGER_TYPES[params["type"]]
        if trigger_type.combinator:
            inputs = [outputs[ref] for ref in params["inputs"]]
            outputs[name] = trigger_type.evaluate(name, params, ctx.calendar, inputs)
        else:
            outputs[name] = trigger_type.evaluate(name, params, ctx)
    return {name: outputs[name] for name in triggers}
