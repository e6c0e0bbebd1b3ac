"""A small, hand-made ``SweepOutcome`` for tests of the sweep outputs (no simulation).

The grid is hedge_fraction x hold_days; every metric is a simple formula of the
parameters, so the winner, the ranking and the cells are known by construction.
Two reference rows follow the grid, as the runner appends them: ``spec`` (the
spec's own settings) and ``base`` (hedge off).
"""

from __future__ import annotations

import pandas as pd

from backtests.sweeps.runner import Periods, SweepOutcome, SweepSettings

FRACTIONS = (0.25, 0.5, 1.0)
HOLDS = (5, 20)
KEYS = ["response.hedge_fraction", "response.hold_days"]


def is_sharpe(fraction: float, hold: int) -> float:
    """In sample, in grid order: 1.1, 1.3, 1.2, 1.6 (the winner), 0.4, 1.2000000000000002.

    (0.5, 5) and (1.0, 20) tie but for float noise in the last bit.
    """
    return 1.0 + fraction * (1.2 if hold == 20 else 0.4) - (1.0 if fraction == 1.0 else 0.0)


def oos_sharpe(fraction: float, hold: int) -> float:
    return 0.5 - fraction * 0.2 + hold / 100


def _row(fraction: float, hold: int, reference: str = "") -> dict[str, object]:
    row: dict[str, object] = {KEYS[0]: fraction, KEYS[1]: hold, "reference": reference}
    for prefix, sharpe in (("is", is_sharpe(fraction, hold)), ("oos", oos_sharpe(fraction, hold))):
        row.update(
            {
                f"{prefix}_sharpe": sharpe,
                f"{prefix}_cagr": sharpe / 20,
                f"{prefix}_max_drawdown": -0.1 - fraction / 10,
            }
        )
    row["full_sharpe"] = (row["is_sharpe"] + row["oos_sharpe"]) / 2
    return row


def make_outcome(*, spec: tuple[float, int] = (0.25, 20), train_until: bool = True) -> SweepOutcome:
    """The 3 x 2 grid (grid order: fraction outer, hold inner), then the ``spec`` and ``base`` rows.

    The winner is (0.5, 20), index 3. Without ``train_until`` there are no ``oos_*`` columns.
    """
    rows = [_row(f, h) for f in FRACTIONS for h in HOLDS]
    rows += [_row(*spec, reference="spec"), _row(0.0, spec[1], reference="base")]
    table = pd.DataFrame(rows)
    calendar = pd.bdate_range("2018-01-01", periods=200, name="date")
    train_end = 150 if train_until else len(calendar)
    if not train_until:
        table = table.drop(columns=[c for c in table if c.startswith("oos_")])
    return SweepOutcome(
        table=table,
        keys=list(KEYS),
        settings=SweepSettings("sharpe"),
        periods=Periods(calendar, train_end),
        winner=3,
        dsr=0.97,
        pbo=0.62,
        notes=["a hand-made sweep"],
    )
