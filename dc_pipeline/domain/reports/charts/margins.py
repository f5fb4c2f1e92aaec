"""Fixed figure margins measured from the text drawn outside the axes, so a chart is drawn once.

A layout engine (constrained or tight) measures every artist's extent with a renderer before the draw, and
matplotlib then draws the figure twice (once for the layout, once for the file): about half of a chart's CPU.
Here only the text outside the axes is measured (tick labels, axis labels, an outside legend, the title) with
the font metrics the SVG backend uses, and the subplot box is set with subplots_adjust before the one draw."""

from __future__ import annotations

import math
import textwrap
from functools import lru_cache

PAD_PT = 5.0  # white border around the figure's outermost text
MAX_PASSES = 4
WIDTH_SLACK = 1.06  # drawn text (Agg hinting, a browser fallback font) runs up to ~6% wider than the outlines
MIN_PLOT = 0.4  # of the figure's width and height kept for the plot area
THETA_LABEL_OFFSET_PT = 7.0  # polar angle labels sit this much beyond the tick pad (matplotlib's ThetaTick)


def legend_columns(n: int) -> int:
    return 1 if n <= 14 else 2


@lru_cache(maxsize=4096)
def _text_size(text: str, family: tuple[str, ...], size: float, weight, rotation: float) -> tuple[float, float]:
    """Width and height in points of the text's box, rotated, as the SVG backend measures it."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(family=list(family), size=size, weight=weight)
    lines = text.split("\n") or [""]
    widths = [text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0] for line in lines]
    w, h = max(widths) * WIDTH_SLACK, size * 1.2 * len(lines)  # matplotlib's line height: 1.2 x the font size
    c, s = abs(math.cos(math.radians(rotation))), abs(math.sin(math.radians(rotation)))
    return w * c + h * s, w * s + h * c


def _size(text) -> tuple[float, float]:
    if not text.get_visible() or not text.get_text():
        return 0.0, 0.0
    prop = text.get_fontproperties()
    return _text_size(
        text.get_text(), tuple(prop.get_family()), prop.get_size_in_points(), prop.get_weight(), text.get_rotation()
    )


def _drawn_ticks(axis) -> list[tuple[object, float]]:
    """(tick, position as a fraction of the axis) of the major ticks in the view, labels set as the draw sets them."""
    axis.get_majorticklabels()  # places the ticks and sets their labels' text
    lo, hi = axis.get_view_interval()
    span = (hi - lo) or 1.0
    inside = []
    for tick in axis.get_major_ticks(len(axis.get_majorticklocs())):
        frac = (tick.get_loc() - lo) / span
        if -1e-9 <= frac <= 1 + 1e-9:
            inside.append((tick, frac))
    return inside


def _tick_room(axis_name: str) -> float:
    from matplotlib import rcParams

    size = rcParams[f"{axis_name}tick.major.size"] if rcParams[f"{axis_name}tick.direction"] != "in" else 0.0
    return size + rcParams[f"{axis_name}tick.major.pad"]


def _axis_extents(axis, axis_name: str, length_pt: float) -> dict[str, float]:
    """Points the axis's tick labels and label reach outside the axes, per side; also along the axis, past its ends."""
    out: dict[str, float] = {}
    across, along = ("bottom", "top"), ("left", "right")
    if axis_name == "y":
        across, along = ("left", "right"), ("bottom", "top")
    ticks = _drawn_ticks(axis)
    for which, side in (("label1", across[0]), ("label2", across[1])):
        labels = [(getattr(tick, which), frac) for tick, frac in ticks if getattr(tick, which).get_visible()]
        if not labels:
            continue
        depth = 0.0
        for text, frac in labels:
            w, h = _size(text)
            depth = max(depth, h if axis_name == "x" else w)
            extent = w if axis_name == "x" else h
            before, after = extent / 2, extent / 2
            if axis_name == "x" and text.get_horizontalalignment() != "center":
                before, after = (extent, 0.0) if text.get_horizontalalignment() == "right" else (0.0, extent)
            out[along[0]] = max(out.get(along[0], 0.0), before - frac * length_pt)
            out[along[1]] = max(out.get(along[1], 0.0), after - (1 - frac) * length_pt)
        out[side] = out.get(side, 0.0) + _tick_room(axis_name) + depth
    label = axis.label
    if label.get_visible() and label.get_text():
        side = axis.get_label_position()
        w, h = _size(label)
        along_pt = w if axis_name == "x" else h
        if along_pt > length_pt and "\n" not in label.get_text():  # longer than its axis: wrapped, not cut off
            label.set_text(textwrap.fill(label.get_text(), max(8, int(len(label.get_text()) * length_pt / along_pt))))
            w, h = _size(label)
        out[side] = out.get(side, _tick_room(axis_name)) + axis.labelpad + (h if axis_name == "x" else w)
        overhang = ((w if axis_name == "x" else h) - length_pt) / 2  # a label longer than the axis, centred on it
        for end in along:
            out[end] = max(out.get(end, 0.0), overhang)
    return out


def _legend_extents(ax, width_pt: float, height_pt: float) -> dict[str, float]:
    """Points an outside legend (anchored right of the axes' top, as draw._legend places it) reaches past the axes:
    its width on the right, and below the axes when it is taller than they are."""
    from matplotlib import rcParams

    legend = ax.get_legend()
    if legend is None or legend.get_bbox_to_anchor().x0 <= ax.bbox.x1 + 1e-6:
        return {}
    texts = legend.get_texts()
    size = texts[0].get_fontsize() if texts else rcParams["legend.fontsize"]
    cols = legend_columns(len(texts))
    rows = -(-len(texts) // cols)
    columns = [texts[c * rows : (c + 1) * rows] for c in range(cols)]  # a legend fills its columns in turn
    em = (
        rcParams["legend.borderaxespad"]
        + 2 * rcParams["legend.borderpad"]
        + cols * (rcParams["legend.handlelength"] + rcParams["legend.handletextpad"])
        + (cols - 1) * rcParams["legend.columnspacing"]
    )
    anchor = (legend.get_bbox_to_anchor().x0 - ax.bbox.x1) / max(ax.bbox.width, 1e-9) * width_pt
    width = anchor + em * size + sum(max((_size(t)[0] for t in column), default=0.0) for column in columns)
    row_heights = [max(_size(column[r])[1] if r < len(column) else 0.0 for column in columns) for r in range(rows)]
    height = sum(row_heights) + size * (
        rcParams["legend.borderaxespad"]
        + 2 * rcParams["legend.borderpad"]
        + (rows - 1) * rcParams["legend.labelspacing"]
    )
    return {"right": width, "bottom": height - height_pt}


def fit_margins(fig, title) -> None:
    """Set the subplot box so that every axes' outside text and the figure's title (a Text) fit in the figure.

    For figures whose axes share one subplot cell (a chart, its twin axes, its colorbar). Measured again after
    each adjustment until the margins settle (usually the second pass): labels near an axis end reach past it by
    an amount that depends on the axes' length, and the tick locator picks its ticks for that length."""
    width_pt, height_pt = (v * 72.0 for v in fig.get_size_inches())
    title_width, title_pt = _size(title)[0], _size(title)[1] + PAD_PT
    previous: dict[str, float] = {}
    for _ in range(MAX_PASSES):
        need = _needed(fig, width_pt, height_pt)
        need["top"] += title_pt
        if previous and all(abs(need[side] - previous[side]) < 1.0 for side in need):
            return
        previous = need
        # Text that needs more than its share of the figure widens (or heightens) the figure instead of being cut
        # off: the page scales the SVG to its column, so a wider chart is drawn slightly smaller.
        across, down = need["left"] + need["right"] + 2 * PAD_PT, need["bottom"] + need["top"] + 2 * PAD_PT
        width_pt = max(width_pt, across / (1 - MIN_PLOT), title_width + 2 * PAD_PT)
        height_pt = max(height_pt, down / (1 - MIN_PLOT))
        fig.set_size_inches(width_pt / 72.0, height_pt / 72.0)
        sub = fig.subplotpars
        fig.subplots_adjust(
            left=(need["left"] + PAD_PT) / width_pt,
            right=1 - (need["right"] + PAD_PT) / width_pt,
            bottom=(need["bottom"] + PAD_PT) / height_pt,
            top=1 - (need["top"] + PAD_PT) / height_pt,
            wspace=sub.wspace,
            hspace=sub.hspace,
        )


def _needed(fig, width_pt: float, height_pt: float) -> dict[str, float]:
    """Points of text each side of the subplot cell needs, from the axes lying on that side."""
    cells = [ax.get_position(original=True) for ax in fig.axes]
    edges = {
        "left": min(b.x0 for b in cells),
        "right": max(b.x1 for b in cells),
        "bottom": min(b.y0 for b in cells),
        "top": max(b.y1 for b in cells),
    }
    need = dict.fromkeys(edges, 0.0)
    for ax, cell in zip(fig.axes, cells):
        ax.apply_aspect()  # an axes with a fixed aspect (a colorbar) is drawn narrower than its cell
        box = ax.get_position()
        gaps = {  # points between the drawn box and its cell's side
            "left": (box.x0 - cell.x0) * width_pt,
            "right": (cell.x1 - box.x1) * width_pt,
            "bottom": (box.y0 - cell.y0) * height_pt,
            "top": (cell.y1 - box.y1) * height_pt,
        }
        cell_edges = {"left": cell.x0, "right": cell.x1, "bottom": cell.y0, "top": cell.y1}
        for side, reach in _reaches(ax, box.width * width_pt, box.height * height_pt).items():
            if abs(cell_edges[side] - edges[side]) < 1e-6:
                need[side] = max(need[side], reach - gaps[side])
    return need


def _reaches(ax, width_pt: float, height_pt: float) -> dict[str, float]:
    """Points the axes' text reaches outside its box, per side: axes, legend, title, labels on the data."""
    reach = dict.fromkeys(("left", "right", "bottom", "top"), 0.0)
    for extents in (
        _axis_extents(ax.xaxis, "x", width_pt),
        _axis_extents(ax.yaxis, "y", height_pt),
        _annotation_extents(ax, width_pt, height_pt),
        _legend_extents(ax, width_pt, height_pt),
        {"top": _size(ax.title)[1] + 6.0 if ax.get_title() else 0.0},
    ):
        for side, value in extents.items():
            reach[side] = max(reach[side], value)
    return reach


def _annotation_extents(ax, width_pt: float, height_pt: float) -> dict[str, float]:
    """Points the text placed at data points (bar value labels, bubble names) reaches outside the axes."""
    out: dict[str, float] = {}
    for text in ax.texts:
        xy = getattr(text, "xy", None) if getattr(text, "xycoords", None) == "data" else None
        if xy is None and text.get_transform() is ax.transData:
            xy = text.get_position()
        if xy is None or not text.get_visible():
            continue
        fx, fy = ax.transLimits.transform(ax.transScale.transform(xy))
        dx, dy = (0.0, 0.0)
        if getattr(text, "anncoords", None) == "offset points":
            dx, dy = text.xyann
        w, h = _size(text)
        left = {"left": 0.0, "center": w / 2, "right": w}[text.get_horizontalalignment()]
        below = {"bottom": 0.0, "baseline": 0.2 * h, "center": h / 2, "center_baseline": h / 2, "top": h}[
            text.get_verticalalignment()
        ]
        x, y = fx * width_pt + dx, fy * height_pt + dy
        for side, value in (
            ("left", left - x),
            ("right", x + w - left - width_pt),
            ("bottom", below - y),
            ("top", y + h - below - height_pt),
        ):
            out[side] = max(out.get(side, 0.0), value)
    return out


def fit_polar_grid(fig, title) -> None:
    """Margins, spacing and height of a grid of polar axes (radar charts): around each circle, room for its angle
    labels where they stand and for its title above; square cells as wide as the columns allow."""
    from matplotlib import rcParams

    width_pt = fig.get_size_inches()[0] * 72.0
    rows, cols = fig.axes[0].get_subplotspec().get_gridspec().get_geometry()
    room = dict.fromkeys(("left", "right", "bottom", "top"), 0.0)
    offset = rcParams["xtick.major.pad"] + THETA_LABEL_OFFSET_PT
    for ax in fig.axes:
        for tick, _ in _drawn_ticks(ax.xaxis):  # an angle label is centred `offset` outside the circle
            w, h = _size(tick.label1)
            cos, sin = math.cos(tick.get_loc()), math.sin(tick.get_loc())
            room["right"] = max(room["right"], offset * cos + w / 2)
            room["left"] = max(room["left"], -offset * cos + w / 2)
            room["top"] = max(room["top"], offset * sin + h / 2)
            room["bottom"] = max(room["bottom"], -offset * sin + h / 2)
    head = max(_size(ax.title)[1] for ax in fig.axes) + rcParams["axes.titlepad"] + room["top"]
    gap_w, gap_h = room["left"] + room["right"] + 2 * PAD_PT, room["bottom"] + head + 2 * PAD_PT
    left, right = room["left"] + PAD_PT, room["right"] + PAD_PT
    top, bottom = _size(title)[1] + 2 * PAD_PT + head, room["bottom"] + PAD_PT
    side = (width_pt - left - right - (cols - 1) * gap_w) / cols
    height_pt = top + bottom + rows * side + (rows - 1) * gap_h
    fig.set_size_inches(width_pt / 72.0, height_pt / 72.0)
    fig.subplots_adjust(
        left=left / width_pt,
        right=1 - right / width_pt,
        bottom=bottom / height_pt,
        top=1 - top / height_pt,
        wspace=gap_w / side,
        hspace=gap_h / side,
    )
