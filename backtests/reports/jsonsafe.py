"""JSON-ready values: ``canonical`` rounds floats to ``SIGNIFICANT_DIGITS`` and turns NaN/inf into ``None``.

Light on purpose (numpy and pandas only): the sweep writes its ``summary.json`` with it without
importing the run-report machinery (and so matplotlib); ``reports.artifacts`` writes ``metrics.json`` with it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

SIGNIFICANT_DIGITS = 12


def canonical(value: Any) -> Any:
    """JSON-ready copy of ``value``: floats to 12 significant digits, NaN/inf -> None."""
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
        return None if not math.isfinite(x) else float(f"{x:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
