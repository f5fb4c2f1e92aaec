"""SVG drawing of the chart registry's specs with matplotlib (imported here only, when a page is rendered).

Text stays text in the SVG (svg.fonttype none; matplotlib escapes it) and mathtext is off, so a brand
named '$x$' or '<script>' is drawn literally. Output is deterministic (fixed hash salt, no date)."""

from __future__ import annotations

import io
import re
import textwrap
from typing import Any

import numpy as np

from dc_pipeline.domain.reports.charts.axes import MAX_VERTICAL_BARS, is_quarterly, short_period, thinned_ticks
from dc_pipeline.domain.reports.charts.margins import fit_margins, fit_polar_grid, legend_columns

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
LEGEND_LABEL_CHARS = 32
BAND_COLOURS = ("#fde2e1", "#fff4d6", "#e3f4e1")  # below the first band, between, above the last
RC = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "svg.hashsalt": "dc_pipeline",
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _figure(width: float = 7.2, height: float = 3.9):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))  # no layout engine: margins.py sets the margins


def _colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _bands(ax, bands, horizontal: bool = False) -> None:
    if not bands:
        return
    lo, hi = ax.get_xlim() if horizontal else ax.get_ylim()
    edges = [lo, *sorted(b for b in bands if lo < b < hi), hi]
    span = ax.axvspan if horizontal else ax.axhspan
    line = ax.axvline if horizontal else ax.axhline
    for i, (a, b) in enumerate(zip(edges, edges[1:])):
        span(a, b, color=BAND_COLOURS[min(i, len(BAND_COLOURS) - 1)], zorder=0, lw=0)
    for b in edges[1:-1]:
        line(b, color="#999", ls="--", lw=0.8, zorder=1)


def _legend(ax, n: int) -> None:
    if n > 1:
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(
            handles,
            [textwrap.fill(label, LEGEND_LABEL_CHARS) for label in labels],  # long brand names on two lines
            fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            ncols=legend_columns(n),
            frameon=False,
        )


def _period_axis(ax, labels: list[str]) -> None:
    quarterly = is_quarterly(labels)
    ticks = thinned_ticks(len(labels))
    crowded = len(ticks) > 8  # e.g. history plus forecast: 'Jan 22' labels would touch
    _x_ticks(ax, ticks, [short_period(labels[i], quarterly) for i in ticks], crowded)


def _category_ticks(ax, pos, labels: list[str]) -> None:
    # Slanted when side by side they would touch: many bars, or long names (about 60 characters fill the axis).
    _x_ticks(ax, pos, labels, len(labels) > 6 or sum(len(str(label)) for label in labels) > 60)


def _x_ticks(ax, pos, labels: list[str], crowded: bool) -> None:
    """Tick labels level, or slanted and right-aligned to their tick when they would touch."""
    ax.set_xticks(pos, labels, rotation=30 if crowded else 0, ha="right" if crowded else "center")


def compact(v: float) -> str:
    """A large figure read at a glance: 24,500,000 -> '24.5M' (matplotlib would print 2.45e+07 or a 1e7 offset)."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e4, "k")):
        if abs(v) >= size:
            return f"{v / (size if suffix != 'k' else 1e3):.3g}{suffix}"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _compact_axes(ax) -> None:
    # Only numeric axes (ScalarFormatter) whose range reaches 10,000: categorical and period axes keep their labels.
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    for axis, limits in ((ax.yaxis, ax.get_ylim()), (ax.xaxis, ax.get_xlim())):
        if isinstance(axis.get_major_formatter(), ScalarFormatter) and max(abs(x) for x in limits) >= 1e4:
            axis.set_major_formatter(FuncFormatter(lambda v, _pos: compact(v)))


def _values(v) -> np.ndarray:
    return np.array([np.nan if x is None else float(x) for x in v], dtype=float)


def bar(ax, fig: dict) -> None:
    labels, values = fig["labels"], _values(fig["values"])
    horizontal = len(labels) > MAX_VERTICAL_BARS
    pos = np.arange(len(labels))
    if horizontal:
        ax.barh(pos, np.nan_to_num(values), color=_colour(0), zorder=2)
        ax.set_yticks(pos, labels)
        ax.invert_yaxis()
        ax.set_xlabel(fig["y_label"])
    else:
        bars = ax.bar(pos, np.nan_to_num(values), color=_colour(0), zorder=2)
        _category_ticks(ax, pos, labels)
        ax.set_ylabel(fig["y_label"])
        text = (lambda v: f"{v:.1f}") if fig.get("value_format") == "score" else compact
        ax.bar_label(bars, labels=[text(v) if np.isfinite(v) else "n/a" for v in values], fontsize=7, padding=2)
    if fig.get("bands"):
        if fig.get("value_format") == "score":
            (ax.set_xlim if horizontal else ax.set_ylim)(0, 100)
        _bands(ax, fig["bands"], horizontal)
    ax.axhline(0, color="#333", lw=0.6) if not horizontal else ax.axvline(0, color="#333", lw=0.6)


def stacked_bar(ax, fig: dict) -> None:
    labels = fig["labels"]
    horizontal = len(labels) > MAX_VERTICAL_BARS
    pos, base = np.arange(len(labels)), np.zeros(len(labels))
    for i, (name, values) in enumerate(fig["series"].items()):
        v = np.nan_to_num(_values(values))
        (ax.barh if horizontal else ax.bar)(
            pos, v, **{"left" if horizontal else "bottom": base}, label=name, color=_colour(i), zorder=2
        )
        base += v
    if horizontal:
        ax.set_yticks(pos, labels)
        ax.invert_yaxis()
        ax.set_xlabel(fig["y_label"])
    else:
        _category_ticks(ax, pos, labels)
        ax.set_ylabel(fig["y_label"])
    _legend(ax, len(fig["series"]))


def line(ax, fig: dict) -> None:
    x = np.arange(len(fig["x"]))
    for i, (name, values) in enumerate(fig["series"].items()):
        bold = name == fig.get("emphasis")
        ax.plot(
            x,
            _values(values),
            label=name,
            color="#111" if bold else _colour(i),
            lw=2.6 if bold else 1.2,
            marker="o" if len(x) <= 12 else None,
            ms=3,
            zorder=3 if bold else 2,
        )
    _period_axis(ax, fig["x"])
    ax.set_ylabel(fig["y_label"])
    for i, label in enumerate(m for m in fig.get("markers", []) if m in fig["x"]):
        ax.axvline(fig["x"].index(label), color="#d62728", ls=":", lw=1.2, label="change point" if i == 0 else None)
    if fig.get("bands"):
        _bands(ax, fig["bands"])
    if fig.get("invert_y"):
        ax.invert_yaxis()
    if fig.get("secondary"):
        ax2 = ax.twinx()
        for name, values in fig["secondary"].items():
            ax2.plot(x, _values(values), color="#111", lw=2, ls="--", label=name)
        ax2.set_ylabel(fig.get("secondary_label") or "")
        ax2.legend(fontsize=7, loc="lower right", frameon=False)
    _legend(ax, len(fig["series"]) + bool(fig.get("markers")))


def scatter(ax, fig: dict) -> None:
    x, y, groups = _values(fig["x"]), _values(fig["y"]), fig["groups"]
    names = list(dict.fromkeys(groups))
    for i, name in enumerate(names):
        mask = np.array([g == name for g in groups])
        ax.scatter(x[mask], y[mask], s=14, color=_colour(i), label=name, zorder=3)
    fit = fig.get("fit")
    if fit:
        ax.fill_between(
            fit["x"],
            fit["low"],
            fit["high"],
            color="#888",
            alpha=0.25,
            lw=0,
            label=f"{round(fit['level'] * 100)}% CI of the fit",
        )
        ax.plot(fit["x"], fit["fit"], color="#111", lw=1.5, label="pooled OLS fit")
    ax.set_xlabel(fig["x_label"])
    ax.set_ylabel(fig["y_label"])
    if fig.get("invert_y"):
        ax.invert_yaxis()
    _legend(ax, len(names) + (2 if fit else 0))


def heatmap(ax, fig: dict) -> None:
    values = np.array([_values(r) for r in fig["values"]])
    image = ax.imshow(
        values, cmap="RdBu" if fig.get("diverging") else "YlGn", vmin=fig["vmin"], vmax=fig["vmax"], aspect="auto"
    )
    ax.set_xticks(range(len(fig["columns"])), fig["columns"], rotation=20, ha="right")
    ax.set_yticks(range(len(fig["rows"])), fig["rows"])
    if values.size <= 200:
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                dark = (v - fig["vmin"]) / max(1e-9, fig["vmax"] - fig["vmin"]) > 0.6
                ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7, color="white" if dark else "#111")
    ax.figure.colorbar(image, ax=ax, label=fig["value_label"], shrink=0.8)


def tornado(ax, fig: dict) -> None:
    low, high = _values(fig["low"]), _values(fig["high"])
    order = np.argsort(-(np.abs(high - low)))
    pos = np.arange(len(order))
    ax.barh(pos, low[order], color=_colour(3), label="low")
    ax.barh(pos, high[order], color=_colour(2), label="high")
    ax.set_yticks(pos, [fig["labels"][i] for i in order])
    ax.invert_yaxis()
    ax.axvline(0, color="#333", lw=0.8)
    ax.set_xlabel(fig["x_label"])
    _legend(ax, 2)


def waterfall(ax, fig: dict) -> None:
    deltas = _values(fig["deltas"])
    level = np.concatenate([[fig["start"]], fig["start"] + np.cumsum(deltas)])
    labels = [fig["start_label"], *fig["labels"], fig["end_label"]]
    ax.bar(0, fig["start"], color="#777")
    for i, d in enumerate(deltas, start=1):
        ax.bar(i, d, bottom=level[i - 1], color=_colour(2) if d >= 0 else _colour(3))
    ax.bar(len(labels) - 1, level[-1], color="#777")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_ylim(min(level.min(), fig["start"]) - abs(deltas).max() - 1, max(level.max(), fig["start"]) + 1)
    ax.set_ylabel(fig["y_label"])


def pareto(ax, fig: dict) -> None:
    ax.plot(fig["effort"], fig["gain"], "-o", ms=3, color=_colour(0), label="plans")
    for i, (name, idx) in enumerate(fig.get("highlight", {}).items()):
        ax.scatter([fig["effort"][idx]], [fig["gain"][idx]], s=60, color=_colour(i + 1), zorder=4, label=name)
    ax.set_xlabel(fig["x_label"])
    ax.set_ylabel(fig["y_label"])
    _legend(ax, 1 + len(fig.get("highlight", {})))


def bubble(ax, fig: dict) -> None:
    size = _values(fig["size"])
    area = 40 + 600 * size / np.nanmax(size) if np.nanmax(size) > 0 else np.full(size.size, 80.0)
    ax.scatter(fig["x"], fig["y"], s=area, alpha=0.6, color=[_colour(i) for i in range(size.size)])
    for x, y, label in zip(fig["x"], fig["y"], fig["labels"]):
        ax.annotate(label, (x, y), fontsize=7, ha="center", va="bottom")
    ax.set_xlabel(fig["x_label"])
    ax.set_ylabel(f"{fig['y_label']} (bubble: {fig['size_label']})")


def fan(ax, fig: dict) -> None:
    labels = [*fig["history_x"], *fig["forecast_x"]]
    n_hist = len(fig["history_x"])
    future = np.arange(n_hist, len(labels))
    ax.plot(np.arange(n_hist), _values(fig["history"]), color="#111", lw=1.5, label="history")
    for i, band in enumerate(fig["bands"]):
        ax.fill_between(
            future,
            band["low"],
            band["high"],
            color=_colour(0),
            alpha=0.15 + 0.15 * i,
            lw=0,
            label=f"{round(band['level'] * 100)}% interval",
        )
    ax.plot(future, _values(fig["median"]), color=_colour(0), lw=1.8, label="forecast median")
    if fig.get("benchmark") is not None:
        ax.plot(future, _values(fig["benchmark"]), color=_colour(1), ls="--", label="seasonal naive")
    _period_axis(ax, labels)
    ax.set_ylabel(fig["y_label"])
    _legend(ax, 3)


def radar(fig_obj, spec: dict) -> None:
    series = spec["series"]
    n = len(series)
    cols = min(4, n)
    rows = -(-n // cols)
    angles = np.linspace(0, 2 * np.pi, len(spec["axes"]), endpoint=False)
    for i, (name, values) in enumerate(series.items()):
        ax = fig_obj.add_subplot(rows, cols, i + 1, projection="polar")
        v = np.nan_to_num(_values(values))
        ax.plot(np.append(angles, angles[0]), np.append(v, v[0]), color=_colour(i))
        ax.fill(np.append(angles, angles[0]), np.append(v, v[0]), color=_colour(i), alpha=0.25)
        ax.set_ylim(spec.get("r_min", 0.0), spec["r_max"])
        ax.set_xticks(angles, [a.split()[0] for a in spec["axes"]], fontsize=7)
        ax.set_yticks([])
        ax.set_title(textwrap.fill(name, 24), fontsize=8)


DRAWERS = {
    "bar": bar,
    "stacked_bar": stacked_bar,
    "line": line,
    "scatter": scatter,
    "heatmap": heatmap,
    "tornado": tornado,
    "waterfall": waterfall,
    "pareto": pareto,
    "bubble": bubble,
    "fan": fan,
}


def chart_figure(viz: dict[str, Any]):
    """The chart drawn on a matplotlib Figure with its margins set (call inside matplotlib.rc_context(RC))."""
    spec = viz["figure"]
    kind = spec.get("kind")
    if kind == "radar":
        fig = _figure(7.2)
        radar(fig, spec)
    elif kind in DRAWERS:
        rows = len(spec.get("labels") or spec.get("rows") or [])
        fig = _figure(7.2, max(3.9, 0.22 * rows + 1.0) if rows > MAX_VERTICAL_BARS else 3.9)
        ax = fig.add_subplot()
        DRAWERS[kind](ax, spec)
        _compact_axes(ax)
    else:
        raise ValueError(f"no drawer for figure kind {kind!r} of chart {viz.get('title')!r}")
    title = fig.suptitle(viz["title"], fontsize=11)
    # Margins set before the one draw savefig makes (a layout engine would measure, then draw a second time).
    (fit_polar_grid if kind == "radar" else fit_margins)(fig, title)
    return fig


def raw_svg(viz: dict[str, Any], canvas_class=None) -> str:
    """The chart as matplotlib writes an SVG file, drawn by `canvas_class` (default: svg_canvas.ChartCanvasSVG,
    which keeps text measurements per process; the plain FigureCanvasSVG writes the same bytes)."""
    import matplotlib

    from dc_pipeline.domain.reports.charts.svg_canvas import ChartCanvasSVG

    with matplotlib.rc_context(RC):
        fig = chart_figure(viz)
        (canvas_class or ChartCanvasSVG)(fig)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def figure_svg(viz: dict[str, Any]) -> str:
    """The chart as an inline <svg> element (no XML declaration, no external references)."""
    svg = raw_svg(viz)
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg[svg.index("<svg") :], flags=re.S)
    # Inline in HTML5 the SVG and xlink namespaces are implied: drop their declarations, so the page holds no URL.
    return svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "").replace(
        ' xmlns="http://www.w3.org/2000/svg"', ""
    )
