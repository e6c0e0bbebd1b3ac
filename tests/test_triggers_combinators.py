"""any / all / not: values, release, default lag 0 and the events behind firings."""

from __future__ import annotations

import pytest

from backtests.triggers import evaluate
from test_triggers_support import context, event, weekdays

CAL = weekdays("2024-01-01", 8)


def day(i: int) -> str:
    return f"{CAL[i]:%Y-%m-%d}"


EVENTS = [
    event(day(1), title="Tariffs A", category="tariff", severity=5),
    event(day(2), title="Chips B", category="export_control"),
    event(day(3), title="Truce", category="tariff", direction="de-escalation"),
]
TABLES = {
    # effective (lag 1) tariffs: severity 1.0 on days 2-4; chips: 1 on days 3-4
    "tariffs": {"type": "event", "categories": ["tariff"], "hold_days": 3, "intensity": "severity"},
    "chips": {
        "type": "event",
        "categories": ["export_control"],
        "hold_days": 2,
        "intensity": "severity",
    },
    "either": {"type": "any", "inputs": ["tariffs", "chips"]},
    "both": {"type": "all", "inputs": ["chips", "tariffs"]},
    "calm": {"type": "not", "inputs": ["either"]},
    "calm_later": {"type": "not", "inputs": ["either"], "lag": 1},
}


@pytest.fixture(scope="module")
def outputs():
    return evaluate(TABLES, context(CAL, events=EVENTS))


def test_any_is_the_max_all_the_min_not_the_complement(outputs):
    assert outputs["tariffs"].signal.tolist() == [0, 0, 1, 1, 1, 0, 0, 0]
    assert outputs["chips"].signal.tolist() == pytest.approx([0, 0, 0, 0.6, 0.6, 0, 0, 0])
    assert outputs["either"].signal.tolist() == [0, 0, 1, 1, 1, 0, 0, 0]
    assert outputs["both"].signal.tolist() == pytest.approx([0, 0, 0, 0.6, 0.6, 0, 0, 0])
    assert outputs["calm"].signal.tolist() == [1, 1, 0, 0, 0, 1, 1, 1]
    assert outputs["calm_later"].signal.tolist() == [0, 1, 1, 0, 0, 0, 1, 1]


def test_release_passes_through_any_and_all_but_not_not(outputs):
    assert outputs["tariffs"].release[outputs["tariffs"].release].index.tolist() == [CAL[4]]
    assert outputs["either"].release.equals(outputs["tariffs"].release)
    assert outputs["both"].release.equals(outputs["tariffs"].release)
    assert not outputs["calm"].release.any()


def test_combinator_firings_carry_the_events_of_the_inputs_that_are_on(outputs):
    both = outputs["both"].firings
    assert both["date"].tolist() == [CAL[3]]
    assert both["reason"].tolist() == ["all(chips, tariffs): on: chips, tariffs"]
    assert both["event_titles"].tolist() == ["Chips B | Tariffs A"]
    assert both["event_categories"].tolist() == ["export_control | tariff"]
    calm = outputs["calm"].firings
    assert calm["date"].tolist() == [CAL[0], CAL[5]]
    assert calm["event_titles"].tolist() == ["", ""]


def test_outputs_keep_the_declared_order(outputs):
    assert list(outputs) == list(TABLES)
