"""Static SVG charts: well-formed, escaped, data-driven, no scripts or external references."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from dc_pipeline.domain.reports.charts import (
    bar_chart_svg,
    figure_svg,
    figure_table,
    line_chart_svg,
    stacked_bar_svg,
    visualization,
)

NS = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_bar_chart_has_bars_bands_and_escaped_labels():
    svg = bar_chart_svg(["A<b>", "B&C", "D"], [87.8, 81.2, None], title="DC <by> brand", standalone=True)
    root = _parse(svg)
    rects = root.findall(f"{NS}rect")
    assert len(rects) == 3 + 2  # three tier bands + two bars (None draws no bar)
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "A<b>" in texts and "B&C" in texts and "n/a" in texts and "87.8" in texts
    assert "<script" not in svg
    dashed = [line for line in root.findall(f"{NS}line") if line.get("stroke-dasharray")]
    assert len(dashed) == 2  # lines at 60 and 80


def test_bar_height_is_proportional_to_value():
    root = _parse(bar_chart_svg(["a", "b"], [50.0, 100.0], title="t", bands=(), standalone=True))
    bars = root.findall(f"{NS}rect")
    assert float(bars[1].get("height")) == pytest.approx(2 * float(bars[0].get("height")), rel=1e-3)


def test_stacked_bar_segments_sum_to_total():
    root = _parse(stacked_bar_svg(["x"], {"s1": [20.0], "s2": [30.0]}, title="t", standalone=True))
    heights = [float(r.get("height")) for r in root.findall(f"{NS}rect") if r.get("width") != "10"]
    assert len(heights) == 2 and heights[1] == pytest.approx(1.5 * heights[0], rel=1e-3)


def test_line_chart_draws_one_polyline_per_continuous_series():
    root = _parse(
        line_chart_svg(
            ["p1", "p2", "p3"], {"A": [70.0, 75.0, 80.0], "B": [60.0, None, 65.0]}, title="t", standalone=True
        )
    )
    assert len(root.findall(f"{NS}polyline")) == 1  # B is broken by a gap into single points
    assert len(root.findall(f"{NS}circle")) == 5


def test_inline_svg_has_no_namespace_url_and_dispatch_by_kind():
    viz = visualization("line", "DC", {"kind": "line", "x": ["p1"], "series": {"A": [70.0]}}, "/analysis/x")
    assert "http" not in figure_svg(viz)
    assert figure_table(viz) == (["x", "A"], [["p1", 70.0]])
    with pytest.raises(ValueError, match="no SVG builder"):
        figure_svg(visualization("pie", "t", {"kind": "pie"}, "/x"))
