"""Charts laid out by measured margins: one draw, nothing cut off, long names readable, output deterministic."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from dc_pipeline.domain.reports.charts import bar, fan, heatmap, line, radar, scatter
from dc_pipeline.domain.reports.charts.draw import RC, chart_figure, figure_svg

LONG = [f"Brand {c} Premium Global Consumer Electronics Holding" for c in "ABCDE"]
METRICS = [f"Organic Performance: Instagram engagement rate, 4-week rolling ({i})" for i in range(15)]
MONTHS = [str(d.date()) for d in pd.date_range("2022-01-01", periods=36, freq="MS")]


def _charts() -> dict[str, dict]:
    trend = [70.0 + 0.3 * i for i in range(36)]
    return {
        "long names in a legend": line("t", "/a", MONTHS, {name: trend for name in LONG}, y_label="DC"),
        "20 brands in a legend": line(
            "t", "/a", MONTHS, {f"Brand {i:02d} Ltd": trend for i in range(20)}, y_label="DC"
        ),
        "long metric names on horizontal bars": bar(
            "t", "/a", METRICS, [0.01 * i for i in range(15)], y_label="ΔDC per effort unit", value_format="money"
        ),
        "long names under vertical bars": bar("t", "/a", LONG, [80.0, 85, 90, 75, 70], y_label="DC score"),
        "rotated period labels, history and forecast": fan(
            "t",
            "/a",
            MONTHS,
            trend,
            MONTHS[:12],
            [80.0] * 12,
            [{"level": 0.8, "low": [75.0] * 12, "high": [85.0] * 12}],
            y_label="DC",
        ),
        "colorbar and long row names": heatmap(
            "t",
            "/a",
            LONG,
            ["Marketplace", "Digital Spends", "Organic Performance"],
            [[80.0, 70, 60]] * 5,
            value_label="score",
            vmin=0,
            vmax=100,
        ),
        "radar grid with long brand names": radar(
            "t",
            "/a",
            ["Marketplace", "Digital Spends", "Organic Performance", "Socialwatch"],
            {name: [80.0, 70, 60, 90] for name in LONG},
        ),
        "secondary axis": line(
            "t",
            "/a",
            MONTHS,
            {"sales units": [40_000.0 + 300 * i for i in range(36)]},
            y_label="sales units",
            secondary={"mean DC": trend},
            secondary_label="DC score",
        ),
        "long axis label and legend": scatter(
            "t",
            "/a",
            [70.0, 80, 90] * 5,
            [1.0, 2, 3] * 5,
            [n for n in LONG for _ in range(3)],
            x_label="DC score",
            y_label="revenue growth in the latest period (%) against the cohort median, bubble size: revenue",
        ),
    }


@pytest.mark.parametrize("case", list(_charts()))
def test_every_text_lies_inside_the_figure_and_the_plot_keeps_its_room(case):
    viz = {**_charts()[case], "title": f"A long chart title: {case} over the last 36 months of the project"}
    with matplotlib.rc_context(RC):
        fig = chart_figure(viz)
        assert fig.get_layout_engine() is None  # margins fixed up front: savefig draws once
        renderer = FigureCanvasAgg(fig).get_renderer()
        drawn = fig.get_tightbbox(renderer)  # inches, every artist as the Agg renderer measures it
    width, height = fig.get_size_inches()
    slack = 0.5 / 72
    assert drawn.x0 >= -slack and drawn.y0 >= -slack, f"{case}: cut off left/bottom {drawn}"
    assert drawn.x1 <= width + slack and drawn.y1 <= height + slack, f"{case}: cut off right/top {drawn}"
    top_row = {
        round(p.x0, 6): p for p in (ax.get_position() for ax in fig.axes) if p.y1 >= fig.axes[0].get_position().y1
    }
    across = sum(p.width for p in top_row.values())  # a chart, its colorbar; the circles of a radar row
    assert across >= 0.3 and fig.axes[0].get_position().height >= 0.2, f"{case}: plot area squeezed ({across:.2f})"


def test_vertical_bars_with_long_names_are_slanted_and_legend_names_wrapped():
    with matplotlib.rc_context(RC):
        fig = chart_figure({**_charts()["long names under vertical bars"], "title": "t"})
        assert {t.get_rotation() for t in fig.axes[0].get_xticklabels()} == {30.0}
        fig = chart_figure({**_charts()["long names in a legend"], "title": "t"})
        texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert all("\n" in t for t in texts) and [t.replace("\n", " ") for t in texts] == LONG


def test_svg_is_deterministic_and_keeps_text_as_text():
    viz = {**_charts()["long names in a legend"], "title": "<b>DC</b> & $x$"}
    svg = figure_svg(viz)
    assert svg == figure_svg(viz)
    assert "&lt;b&gt;DC&lt;/b&gt; &amp; $x$" in svg and "<b>" not in svg
    assert "Brand A Premium Global" in svg  # legend text, wrapped onto two lines, stays text
