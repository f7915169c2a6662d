"""The server-drawn bar charts' geometry: a round axis above the largest value, bars in
proportion on one baseline, and an empty chart that still draws."""

from __future__ import annotations

import itertools

from registry.web.charts import HEIGHT, bar_chart


def test_bars_stand_on_one_baseline_in_proportion_under_a_round_axis() -> None:
    chart = bar_chart("c", "Weeks", "Median and 90th", ["Median", "90th"], [("Q1", [3, 7.5])])

    assert [tick.label for tick in chart.ticks] == ["0", "2.5", "5", "7.5", "10"]
    median, p90 = chart.groups[0].bars
    assert median.y + median.height == p90.y + p90.height == chart.base
    assert abs(p90.height / median.height - 2.5) < 0.01
    assert median.x + median.width <= p90.x  # side by side, not on top of each other
    assert [name for name, _ in chart.series] == ["Median", "90th"]


def test_a_chart_of_nothing_draws_an_axis_and_no_bars() -> None:
    chart = bar_chart("c", "Open cases", "None", ["Open cases"], [("0 to 26 weeks", [0])])

    assert chart.groups[0].bars[0].height == 0
    assert chart.ticks[-1].label == "1"
    assert chart.base < HEIGHT


def test_names_that_would_overlap_are_thinned_to_every_nth_and_a_few_all_show() -> None:
    few = bar_chart("c", "Cases", "By quarter", ["Cases"], [(f"2026 Q{q}", [q]) for q in (1, 2)])
    assert all(group.labelled for group in few.groups)

    quarters = [(f"{year} Q{q}", [1.0]) for year in range(2020, 2027) for q in (1, 2, 3, 4)]
    many = bar_chart("c", "Cases", "By quarter", ["Cases"], quarters)
    shown = [group for group in many.groups if group.labelled]
    assert many.groups[0].labelled
    assert 1 < len(shown) < len(quarters)
    # Each drawn name, about 8 px a character, keeps clear of the next one drawn.
    gaps = [later.centre - earlier.centre for earlier, later in itertools.pairwise(shown)]
    assert min(gaps) >= len("2020 Q1") * 8
