"""The event trigger: filters, hold, cooldown, decay, severity intensity, release and firings."""

from __future__ import annotations

import pytest

from backtests.triggers import evaluate
from test_triggers_support import context, event, weekdays

CAL = weekdays("2024-01-01", 10)  # Mon 2024-01-01 .. Fri 2024-01-12


def day(i: int) -> str:
    return f"{CAL[i]:%Y-%m-%d}"


def run(events: list[dict], **params):
    table = {"type": "event", "lag": 0, **params}
    return evaluate({"e": table}, context(CAL, events=events))["e"]


def test_hold_days_keeps_the_signal_on_for_that_many_trading_days():
    out = run([event(day(2))], hold_days=3)
    assert out.signal.tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0]


def test_cooldown_ignores_events_after_the_signal_turns_off():
    # On for days 1-2; days 3-5 cool down (event on 4 ignored); 6 fires; 7 (still on) extends to 8.
    out = run([event(day(d)) for d in (1, 4, 6, 7)], hold_days=2, cooldown_days=3)
    assert out.signal.tolist() == [0, 1, 1, 0, 0, 0, 1, 1, 1, 0]
    assert out.firings["raw_date"].tolist() == [CAL[1], CAL[6], CAL[7]]


def test_decay_halves_every_half_life_while_held():
    out = run([event(day(0))], hold_days=4, decay_half_life=2)
    assert out.signal.tolist() == pytest.approx([1.0, 0.5**0.5, 0.5, 0.5**1.5, 0, 0, 0, 0, 0, 0])


def test_severity_intensity_is_the_day_max_over_five_and_overlaps_take_the_max():
    events = [
        event(day(0), severity=2),
        event(day(0), severity=4),
        event(day(1), severity=5),
        event(day(5), severity=1),
    ]
    out = run(events, intensity="severity", hold_days=3)
    assert out.signal.tolist() == pytest.approx([0.8, 1.0, 1.0, 1.0, 0, 0.2, 0.2, 0.2, 0, 0])
    assert out.firings["reason"].tolist() == [
        "2 events, max severity 4",
        "1 event, max severity 5",
        "1 event, max severity 1",
    ]


def test_release_on_matching_deescalation_is_lagged_like_the_signal():
    events = [
        event(day(1)),
        event(day(4), direction="de-escalation", title="Truce"),
        event(day(5), direction="de-escalation", category="sanctions"),
        event(day(6), direction="de-escalation", countries=("MX",)),
    ]
    out = evaluate(
        {"e": {"type": "event", "categories": ["tariff"], "countries": ["cn"]}},
        context(CAL, events=events),
    )["e"]
    assert out.release[out.release].index.tolist() == [CAL[5]]
    assert out.signal[out.signal > 0].index.tolist() == [CAL[2]]
    assert not run(events, release_on_deescalation=False).release.any()


def test_filters_select_by_category_direction_severity_country_and_keyword():
    events = [
        event(day(0), category="sanctions"),
        event(day(1), direction="de-escalation"),
        event(day(2), severity=2),
        event(day(3), countries=("DE",)),
        event(day(4), title="Chip EXPORT ban"),
        event(day(5), title="Steel tariffs", countries=("US",)),
    ]
    out = run(
        events,
        categories=["tariff"],
        min_severity=3,
        countries=["US"],
        keywords=["export", "steel"],
    )
    assert out.signal[out.signal > 0].index.tolist() == [CAL[4], CAL[5]]
    assert run(events, direction="any").signal.sum() == 6


def test_events_outside_the_calendar_are_ignored():
    out = run([event("2023-12-29"), event("2024-01-13")], hold_days=5)
    assert out.signal.sum() == 0 and out.firings.empty


def test_firings_carry_the_events_behind_them():
    events = [
        event(day(3), title="A", source="https://a.example/1"),
        event(day(3), title="B", category="export_control"),
    ]
    row = evaluate({"e": {"type": "event"}}, context(CAL, events=events))["e"].firings.iloc[0]
    assert row["date"] == CAL[4] and row["raw_date"] == CAL[3] and row["trigger"] == "e"
    assert row["event_dates"] == f"{day(3)} | {day(3)}"
    assert row["event_titles"] == "A | B"
    assert row["event_categories"] == "tariff | export_control"
    assert row["event_sources"] == "https://a.example/1 | "


def test_no_events_gives_an_all_off_signal_with_the_firing_columns():
    out = run([])
    assert out.signal.sum() == 0 and not out.release.any()
    assert list(out.firings.columns) == [
        "date",
        "trigger",
        "raw_date",
        "reason",
        "event_dates",
        "event_titles",
        "event_categories",
        "event_sources",
    ]
    assert out.signal.index.equals(CAL)


# --- stages and chains -----------------------------------------------------------------------


def _chain() -> list[dict]:
    """One action in three steps: announced on day 1, signed on day 3, effective on day 6."""
    return [
        {**event(day(1), title="Tariff hike announced"), "chain": "hike", "stage": "announced"},
        {**event(day(3), title="Tariff hike signed"), "chain": "hike", "stage": "official"},
        {**event(day(6), title="Tariff hike takes effect"), "chain": "hike", "stage": "effective"},
    ]


def test_an_effective_row_of_a_chain_does_not_fire_under_the_default_stages():
    out = run(_chain())
    assert out.signal[out.signal > 0].index.tolist() == [CAL[1]]
    assert out.firings["event_titles"].tolist() == ["Tariff hike announced"]


def test_the_effective_row_fires_when_stages_include_it():
    out = run(_chain(), stages=["announced", "effective"])
    assert out.signal[out.signal > 0].index.tolist() == [CAL[1], CAL[6]]
    assert run(_chain(), stages=[]).signal.sum() == 3  # empty = every stage
    only_effective = run(_chain(), stages=["effective"])
    assert only_effective.firings["event_titles"].tolist() == ["Tariff hike takes effect"]


def test_rows_without_a_stage_column_count_as_announced():
    # The builder leaves out chain/stage/public_at, as files written before these columns do.
    assert "stage" not in event(day(2))
    assert run([event(day(2))]).signal.sum() == 1


def test_stages_apply_to_releases_too():
    events = [
        event(day(1)),
        {**event(day(4), direction="de-escalation", title="Truce signed"), "stage": "official"},
    ]
    table = {"type": "event", "lag": 0}
    assert not evaluate({"e": table}, context(CAL, events=events))["e"].release.any()
    both = evaluate({"e": {**table, "stages": ["announced", "official"]}}, context(CAL, events=events))["e"]
    assert both.release[both.release].index.tolist() == [CAL[4]]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["signed"], "triggers.e.stages: unknown stage 'signed'; use any of announced, official, effective"),
        (["efective"], "triggers.e.stages: unknown stage 'efective' (did you mean effective?); "
                       "use any of announced, official, effective"),
    ],
)
def test_stages_are_validated_like_every_trigger_parameter(value, message):
    from backtests.errors import UserInputError
    from backtests.triggers import validate_trigger_table

    with pytest.raises(UserInputError) as info:
        validate_trigger_table("e", {"type": "event", "stages": value})
    assert str(info.value) == message
    table = validate_trigger_table("e", {"type": "event"})
    assert table["stages"] == ["announced"]
    assert validate_trigger_table("e", {"type": "event", "stages": "announced,effective"})["stages"] == [
        "announced",
        "effective",
    ]


def test_stages_can_be_overridden_like_every_trigger_parameter():
    from backtests.errors import UserInputError
    from backtests.strategy import load_spec

    spec = load_spec("tariff-shock-hedge", ["triggers.tariffs.stages=announced,effective"])
    assert spec.triggers["tariffs"]["stages"] == ["announced", "effective"]
    assert load_spec("tariff-shock-hedge").triggers["tariffs"]["stages"] == ["announced"]
    with pytest.raises(UserInputError, match=r"triggers\.tariffs\.stages: unknown stage 'signed'"):
        load_spec("tariff-shock-hedge", ["triggers.tariffs.stages=signed"])
