"""The trigger types: each one's parameter schema and evaluation function, keyed by TOML ``type``.

The spec layer validates a ``[triggers.NAME]`` table against
``TRIGGER_TYPES[type].params`` (see ``backtests.triggers.validation``) and the
CLI overrides any parameter as ``triggers.NAME.PARAM``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from backtests.params import ParamSpec
from backtests.triggers import combinators, event, gpr, market

# Leaf: (name, params, ctx) -> TriggerOutput.
# Combinator: (name, params, calendar, inputs) -> TriggerOutput.
Evaluator = Callable[..., Any]
# (params, "triggers.NAME") -> params with measure-dependent defaults filled, cross-checks done.
Resolver = Callable[[dict[str, Any], str], dict[str, Any]]


@dataclass(frozen=True)
class TriggerType:
    """One ``type = "..."`` of trigger: what it does, its parameters and how to evaluate it."""

    name: str
    description: str
    params: dict[str, ParamSpec]
    evaluate: Evaluator
    combinator: bool = False
    resolve: Resolver | None = None


def _combinator(kind: str, description: str) -> TriggerType:
    return TriggerType(
        name=kind,
        description=description,
        params=combinators.COMBINATOR_PARAMS,
        evaluate=partial(combinators.combine, kind),
        combinator=True,
        resolve=partial(combinators.resolve_combinator_params, kind),
    )


TRIGGER_TYPES: dict[str, TriggerType] = {
    t.name: t
    for t in (
        TriggerType(
            "event",
            "geopolitical events from the event calendar",
            event.EVENT_PARAMS,
            event.event_trigger,
            resolve=event.resolve_event_params,
        ),
        TriggerType(
            "gpr",
            "the Geopolitical Risk (GPR) index running high",
            gpr.GPR_PARAMS,
            gpr.gpr_trigger,
            resolve=gpr.resolve_gpr_params,
        ),
        TriggerType(
            "drawdown",
            "a ticker's close far below its rolling high",
            market.DRAWDOWN_PARAMS,
            market.drawdown_trigger,
        ),
        TriggerType(
            "volatility",
            "a ticker's realised volatility running high",
            market.VOLATILITY_PARAMS,
            market.volatility_trigger,
            resolve=market.resolve_volatility_params,
        ),
        TriggerType(
            "ma_cross",
            "a ticker's fast moving average below (or above) its slow one",
            market.MA_CROSS_PARAMS,
            market.ma_cross_trigger,
            resolve=market.resolve_ma_cross_params,
        ),
        _combinator("any", "on when any input is on (maximum of the signals)"),
        _combinator("all", "on when every input is on (minimum of the signals)"),
        _combinator("not", "on while its one input is off"),
    )
}
