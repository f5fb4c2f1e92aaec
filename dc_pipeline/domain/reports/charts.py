"""Static SVG charts (no script, no network) and the envelope's visualization specs.

Each builder takes plain lists/dicts and returns an SVG string with every text escaped. The
envelope stores only the spec (`figure` = the plotted data); renderers draw the SVG from it.
"""

from __future__ import annotations

from html import escape
from typing import Any, Sequence

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
BAND_FILLS = ("#fde2e1", "#fff4d6", "#e3f4e1")  # below the first band, between, above the last
WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 56, 150, 36, 64
SVG_NS = "http://www.w3.org/2000/svg"


def _n(x: float) -> str:
    return f"{x:.1f}"


def _open(title: str, standalone: bool) -> list[str]:
    ns = f' xmlns="{SVG_NS}"' if standalone else ""
    return [f'<svg{ns} width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
            f"<title>{escape(title)}</title>",
            f'<text x="{WIDTH / 2:.0f}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>']


def _plot_w() -> float:
    return WIDTH - LEFT - RIGHT


def _plot_h() -> float:
    return HEIGHT - TOP - BOTTOM


def _y(value: float, y_max: float) -> float:
    return TOP + _plot_h() * (1 - max(0.0, min(value, y_max)) / y_max)


def _axes(y_max: float, y_label: str, bands: Sequence[float]) -> list[str]:
    parts: list[str] = []
    edges = [0.0, *[b for b in sorted(bands) if 0 < b < y_max], y_max]
    if bands:
        for i, (lo, hi) in enumerate(zip(edges, edges[1:])):
            fill = BAND_FILLS[min(i, len(BAND_FILLS) - 1)]
            parts.append(f'<rect x="{LEFT}" y="{_n(_y(hi, y_max))}" width="{_n(_plot_w())}" '
                         f'height="{_n(_y(lo, y_max) - _y(hi, y_max))}" fill="{fill}"/>')
        for b in edges[1:-1]:
            parts.append(f'<line x1="{LEFT}" x2="{_n(LEFT + _plot_w())}" y1="{_n(_y(b, y_max))}" '
                         f'y2="{_n(_y(b, y_max))}" stroke="#999" stroke-dasharray="4 3"/>')
    for i in range(6):
        v = y_max * i / 5
        parts.append(f'<text x="{LEFT - 6}" y="{_n(_y(v, y_max) + 4)}" text-anchor="end">{_n(v)}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{_n(TOP + _plot_h())}" stroke="#333"/>')
    parts.append(f'<line x1="{LEFT}" x2="{_n(LEFT + _plot_w())}" y1="{_n(TOP + _plot_h())}" '
                 f'y2="{_n(TOP + _plot_h())}" stroke="#333"/>')
    parts.append(f'<text x="14" y="{_n(TOP + _plot_h() / 2)}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {_n(TOP + _plot_h() / 2)})">{escape(y_label)}</text>')
    return parts


def _x_label(x: float, label: str) -> str:
    return (f'<text x="{_n(x)}" y="{_n(TOP + _plot_h() + 16)}" text-anchor="middle">'
            f"{escape(label)}</text>")


def _legend(names: Sequence[str]) -> list[str]:
    parts = []
    for i, name in enumerate(names):
        y = TOP + 14 * i
        parts.append(f'<rect x="{WIDTH - RIGHT + 12}" y="{y}" width="10" height="10" '
                     f'fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{WIDTH - RIGHT + 26}" y="{y + 9}">{escape(name)}</text>')
    return parts


def bar_chart_svg(labels: Sequence[str], values: Sequence[float | None], *, title: str,
                  bands: Sequence[float] = (60.0, 80.0), y_max: float = 100.0, y_label: str = "DC score",
                  standalone: bool = False) -> str:
    """Vertical bars with horizontal tier bands; a None value is drawn as 'n/a'."""
    parts = _open(title, standalone) + _axes(y_max, y_label, bands)
    slot = _plot_w() / max(1, len(labels))
    for i, (label, value) in enumerate(zip(labels, values)):
        x = LEFT + slot * i + slot * 0.2
        centre = LEFT + slot * (i + 0.5)
        if value is None:
            parts.append(f'<text x="{_n(centre)}" y="{_n(TOP + _plot_h() - 4)}" text-anchor="middle">n/a</text>')
        else:
            top = _y(value, y_max)
            parts.append(f'<rect x="{_n(x)}" y="{_n(top)}" width="{_n(slot * 0.6)}" '
                         f'height="{_n(TOP + _plot_h() - top)}" fill="{PALETTE[0]}"/>')
            parts.append(f'<text x="{_n(centre)}" y="{_n(top - 4)}" text-anchor="middle">{value:.1f}</text>')
        parts.append(_x_label(centre, label))
    return "\n".join(parts + ["</svg>"])


def stacked_bar_svg(labels: Sequence[str], series: dict[str, Sequence[float | None]], *, title: str,
                    y_max: float = 100.0, y_label: str = "DC points", standalone: bool = False) -> str:
    """One bar per label, stacked by series (e.g. section contributions summing to DC)."""
    parts = _open(title, standalone) + _axes(y_max, y_label, ())
    slot = _plot_w() / max(1, len(labels))
    for i, label in enumerate(labels):
        base = 0.0
        x = LEFT + slot * i + slot * 0.2
        for j, values in enumerate(series.values()):
            value = values[i] or 0.0
            top, bottom = _y(base + value, y_max), _y(base, y_max)
            parts.append(f'<rect x="{_n(x)}" y="{_n(top)}" width="{_n(slot * 0.6)}" height="{_n(bottom - top)}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"/>')
            base += value
        parts.append(_x_label(LEFT + slot * (i + 0.5), label))
    return "\n".join(parts + _legend(list(series)) + ["</svg>"])


def line_chart_svg(x_labels: Sequence[str], series: dict[str, Sequence[float | None]], *, title: str,
                   y_max: float = 100.0, bands: Sequence[float] = (60.0, 80.0), y_label: str = "DC score",
                   standalone: bool = False) -> str:
    """One line per series over x_labels; gaps (None) break the line, single points get a marker."""
    parts = _open(title, standalone) + _axes(y_max, y_label, bands)
    n = len(x_labels)
    xs = [LEFT + (_plot_w() * (i + 0.5) / max(1, n)) for i in range(n)]
    for i, label in enumerate(x_labels):
        parts.append(_x_label(xs[i], label))
    for j, (name, values) in enumerate(series.items()):
        colour = PALETTE[j % len(PALETTE)]
        run: list[str] = []
        for i, value in enumerate(list(values) + [None]):
            if value is not None:
                run.append(f"{_n(xs[i])},{_n(_y(value, y_max))}")
                parts.append(f'<circle cx="{_n(xs[i])}" cy="{_n(_y(value, y_max))}" r="3" fill="{colour}"/>')
            elif run:
                if len(run) > 1:
                    parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                                 f'stroke-width="2"/>')
                run = []
    return "\n".join(parts + _legend(list(series)) + ["</svg>"])


def visualization(type_: str, title: str, figure: dict[str, Any], data_path: str) -> dict[str, Any]:
    """The envelope's chart spec: `figure` holds the plotted data and its `kind` names the builder."""
    return {"type": type_, "title": title, "figure": figure, "data_path": data_path}


def figure_svg(viz: dict[str, Any], standalone: bool = False) -> str:
    fig = viz["figure"]
    kind = fig.get("kind")
    if kind == "bar_bands":
        return bar_chart_svg(fig["labels"], fig["values"], title=viz["title"], bands=fig.get("bands", ()),
                             y_label=fig.get("y_label", ""), standalone=standalone)
    if kind == "stacked_bar":
        return stacked_bar_svg(fig["labels"], fig["series"], title=viz["title"], y_label=fig.get("y_label", ""),
                               standalone=standalone)
    if kind == "line":
        return line_chart_svg(fig["x"], fig["series"], title=viz["title"], bands=fig.get("bands", ()),
                              y_label=fig.get("y_label", ""), standalone=standalone)
    raise ValueError(f"no SVG builder for figure kind {kind!r} of chart {viz.get('title')!r}")


def figure_table(viz: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The chart's data as (header, rows), for Markdown and HTML fallbacks."""
    fig = viz["figure"]
    kind = fig.get("kind")
    if kind == "bar_bands":
        return ["label", "value"], [[l, v] for l, v in zip(fig["labels"], fig["values"])]
    if kind == "stacked_bar":
        names = list(fig["series"])
        return ["label", *names], [[l, *[fig["series"][s][i] for s in names]] for i, l in enumerate(fig["labels"])]
    if kind == "line":
        names = list(fig["series"])
        return ["x", *names], [[x, *[fig["series"][s][i] for s in names]] for i, x in enumerate(fig["x"])]
    raise ValueError(f"no table layout for figure kind {kind!r}")
