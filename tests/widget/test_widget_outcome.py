"""The widget's counter carries the outcome figure where the unit has a conversion (issue 12):
whole outcomes and the remainder, from the same counter the widget shows."""

from __future__ import annotations

from widget.widget_helpers import World, visitor_of, water_unit


def test_the_counter_carries_the_outcome_figure(world: World) -> None:
    u = water_unit()
    u["outcome"] = {
        "units_per_outcome": 2,
        "labels": {
            "en": {"singular": "family served for a day", "plural": "families served for a day"},
            "fr": {"singular": "famille servie un jour", "plural": "familles servies un jour"},
        },
    }
    cid = world.new_campaign(impact_unit=u)
    for name in ("a", "b", "c"):
        assert world.click(visitor_of(name), campaign_id=cid).status_code == 201
    counter = world.state(visitor_of("d"), campaign_id=cid).json()["counter"]
    assert counter["units"] == 3
    assert counter["outcome"]["count"] == 1
    assert counter["outcome"]["remainder_units"] == 1
    assert (
        counter["outcome"]["text"]["en"]
        == "1 family served for a day (+1 day of clean water towards the next)"
    )
    # without a conversion: no figure
    assert world.state(visitor_of("d")).json()["counter"]["outcome"] is None
