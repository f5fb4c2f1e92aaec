"""The chart canvas (svg_canvas.py: text measurements kept per process) writes byte for byte the SVG matplotlib's
own SVG canvas writes, for every figure kind the reports draw, with its caches empty and full. It relies on two
matplotlib internals: if an upgrade changes them, these tests fail (the bytes differ, or a hook is not reached)."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.backends.backend_svg import FigureCanvasSVG

from dc_pipeline.domain.reports.charts import (
    KINDS,
    bar,
    bubble,
    fan,
    heatmap,
    line,
    pareto,
    radar,
    scatter,
    stacked_bar,
    tornado,
    waterfall,
)
from dc_pipeline.domain.reports.charts import svg_canvas as canvas
from dc_pipeline.domain.reports.charts.draw import raw_svg
from dc_pipeline_tests.domain.reports.charts.test_margins import _charts as _layout_cases

BRANDS = ["Acme", "Brand <script>", "Cost $x$ Co", "Δelta & Sons", "Brand E Premium Global Consumer Electronics"]
MONTHS = [str(d.date()) for d in pd.date_range("2022-01-01", periods=36, freq="MS")]
QUARTERS = [str(d.date()) for d in pd.date_range("2022-01-01", periods=8, freq="QS")]
METRICS = [f"Organic Performance: engagement rate ({i})" for i in range(15)]


def _specs() -> dict[str, dict]:
    """Every figure kind and its variants (horizontal bars, twin axes, colorbars, polar grids, long and odd
    names), with the layout cases of test_margins (secondary axis, 20-brand legend, long labels)."""
    trend = [70.0 + 0.3 * i + (i % 5) for i in range(36)]
    return {
        **{f"layout: {case}": spec for case, spec in _layout_cases().items()},
        "bar scores with bands": bar(
            "Scores", "/a", BRANDS, [81.5, None, 64.0, 92.25, 40.0], y_label="DC", bands=[60, 80]
        ),
        "bar money, compact axis": bar(
            "Spend", "/a", BRANDS[:3], [24_500_000.0, 1_250.0, 38_000.0], y_label="spend", value_format="money"
        ),
        "bar horizontal, many rows": bar(
            "Effort", "/a", METRICS, [0.01 * i for i in range(15)], y_label="ΔDC per unit", value_format="money"
        ),
        "stacked bar": stacked_bar(
            "Sections", "/a", BRANDS, {"Marketplace": [30.0] * 5, "Organic": [20.0, 25, None, 10, 5]}, y_label="DC"
        ),
        "stacked bar horizontal": stacked_bar(
            "Sections", "/a", METRICS, {"a": [1.0] * 15, "b": [2.0] * 15, "c": [0.5] * 15}, y_label="points"
        ),
        "line, emphasis, markers, bands": line(
            "Trend",
            "/a",
            MONTHS,
            {**{b: [v - 3 * i for v in trend] for i, b in enumerate(BRANDS)}, "portfolio": trend},
            y_label="DC",
            bands=[60, 80],
            emphasis="portfolio",
            markers=[MONTHS[10], MONTHS[20]],
        ),
        "line quarterly, inverted, few points": line(
            "Rank", "/a", QUARTERS, {"rank": [3.0, 2, 2, 1, 1, 2, 3, 1]}, y_label="rank", invert_y=True
        ),
        "scatter with fit": scatter(
            "Outcome",
            "/a",
            [70.0, 75, 80, 85, 90] * 2,
            [1.0, 1.5, 2.5, 2.0, 3.5] * 2,
            [b for b in BRANDS[:2] for _ in range(5)],
            x_label="DC score",
            y_label="revenue growth (%)",
            fit={"x": [70.0, 90.0], "fit": [1.0, 3.0], "low": [0.5, 2.5], "high": [1.5, 3.5], "level": 0.95},
        ),
        "scatter inverted": scatter(
            "Ranks", "/a", [1.0, 2, 3], [3.0, 1, 2], ["a", "b", "c"], x_label="x", y_label="rank", invert_y=True
        ),
        "heatmap": heatmap(
            "Heat",
            "/a",
            BRANDS,
            ["Marketplace", "Digital", "Organic"],
            [[80.0, None, 60]] * 5,
            value_label="score",
            vmin=0,
            vmax=100,
        ),  # fmt: skip
        "heatmap diverging": heatmap(
            "Change",
            "/a",
            BRANDS[:3],
            MONTHS[:6],
            [[-5.0, 0, 5, 10, -10, 2.5]] * 3,
            value_label="Δ",
            vmin=-10,
            vmax=10,
            diverging=True,
        ),  # fmt: skip
        "radar grid": radar(
            "Profiles",
            "/a",
            ["Marketplace", "Digital Spends", "Organic Performance", "Socialwatch"],
            {b: [80.0, 70, None, 90] for b in BRANDS},
        ),  # fmt: skip
        "fan with benchmark": fan(
            "Forecast",
            "/a",
            MONTHS,
            trend,
            MONTHS[:12],
            [80.0 + 0.1 * i for i in range(12)],
            [
                {"level": 0.95, "low": [70.0] * 12, "high": [90.0] * 12},
                {"level": 0.8, "low": [75.0] * 12, "high": [85.0] * 12},
            ],
            y_label="DC",
            benchmark=[79.0] * 12,
        ),  # fmt: skip
        "pareto": pareto("Plans", "/a", [0.0, 1, 2, 4, 8], [0.0, 2, 3, 3.5, 3.7], highlight={"knee": 2, "max": 4}),
        "waterfall": waterfall(
            "Bridge",
            "/a",
            ["Marketplace", "Digital", "Organic"],
            [3.5, -1.25, 2.0],
            start=70.0,
            start_label="2023",
            end_label="2024",
            y_label="DC",
        ),  # fmt: skip
        "bubble": bubble(
            "Portfolio",
            "/a",
            [70.0, 80, 90],
            [1.0, 2, 3],
            [10.0, 50, 100],
            BRANDS[:3],
            x_label="DC",
            y_label="growth",
            size_label="revenue",
        ),  # fmt: skip
        "tornado": tornado(
            "Sensitivity", "/a", ["weights", "window", "caps"], [-2.0, -0.5, -1], [1.5, 0.5, 3], x_label="ΔDC"
        ),
    }


def test_the_specs_cover_every_figure_kind():
    assert {spec["figure"]["kind"] for spec in _specs().values()} == set(KINDS)


@pytest.mark.parametrize("case", list(_specs()))
def test_the_chart_canvas_writes_the_plain_canvas_bytes(case):
    spec = _specs()[case]
    canvas._METRICS.clear()
    canvas._HEIGHTS.clear()
    cold = raw_svg(spec)  # empty caches: every measurement made by this renderer
    plain = raw_svg(spec, FigureCanvasSVG)
    warm = raw_svg(spec)  # every measurement from the caches
    assert "<svg" in plain and "<text" in plain
    assert cold == plain, "the chart canvas's first draw differs from matplotlib's SVG canvas"
    assert warm == plain, "the chart canvas's cached draw differs from matplotlib's SVG canvas"


def test_both_hooks_are_reached():
    """Text._get_layout asks the renderer for _get_font_height_metrics, and text metrics come through
    get_text_width_height_descent: a matplotlib that stops calling either would make the caches dead code."""
    before = dict(canvas.HITS)
    for _ in range(2):
        raw_svg(_specs()["line, emphasis, markers, bands"])
    assert canvas.HITS["heights"] > before["heights"]
    assert canvas.HITS["metrics"] > before["metrics"]


def test_a_font_property_change_is_a_different_cache_entry():
    """The cache key holds what the measurement depends on: a bigger font measures wider, in one process."""
    from matplotlib.font_manager import FontProperties

    renderer = canvas.ChartRendererSVG(100, 100, __import__("io").StringIO(), text_dpi=72)
    small = renderer.get_text_width_height_descent("Brand", FontProperties(size=9), False)
    big = renderer.get_text_width_height_descent("Brand", FontProperties(size=18), False)
    bold = renderer.get_text_width_height_descent("Brand", FontProperties(size=9, weight="bold"), False)
    assert big[0] > small[0] and bold[0] > small[0]
    assert (
        renderer._get_font_height_metrics(FontProperties(size=18))[0]
        > renderer._get_font_height_metrics(FontProperties(size=9))[0]
    )
