"""matplotlib's SVG canvas with text measurements kept per process: the same SVG bytes, less CPU per chart.

matplotlib caches text metrics per renderer, and the SVG backend makes a new renderer for every file, so each
chart measured its tick labels, titles and legend entries from scratch (font lookup, glyph layout), and read the
font's ascent and descent tables once per text layout. Here both are computed once per process, keyed by
everything they depend on: the text, the font properties, the rcParams that pick and kern the font, the dpi
(mathtext, off for charts, is measured as before).

Relies on two matplotlib internals (matplotlib is pinned in constraints.txt): Text._get_layout asks the renderer
for `_get_font_height_metrics(prop)` when it has one (otherwise it reads the font tables itself, which
_font_height_metrics repeats step by step), and FigureCanvasSVG.print_svg builds its RendererSVG inline (repeated
in ChartCanvasSVG.print_svg). charts/test_svg_bytes.py compares the bytes with the plain backend's and checks
that both hooks are reached, so a matplotlib upgrade that changes either fails there."""

from __future__ import annotations

import codecs

import matplotlib as mpl
from matplotlib import cbook
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from matplotlib.font_manager import fontManager, get_font

MAX_ENTRIES = 20_000  # distinct texts a process keeps (a report page has a few hundred)
FONT_RC = (
    "font.serif",
    "font.sans-serif",
    "font.cursive",
    "font.fantasy",
    "font.monospace",
    "font.enable_last_resort",
    "text.kerning_factor",
)  # the rcParams that resolve a generic family to a font file and set its kerning

_METRICS: dict[tuple, tuple[float, float, float]] = {}
_HEIGHTS: dict[tuple, tuple] = {}
HITS = {"metrics": 0, "heights": 0}  # calls answered from the caches (the bytes test checks the hooks are reached)


def _font_key(prop) -> tuple:
    return (
        tuple(prop.get_family()),
        prop.get_style(),
        prop.get_variant(),
        prop.get_weight(),
        prop.get_stretch(),
        prop.get_size_in_points(),
        prop.get_file(),
        prop.get_math_fontfamily(),
    )


def _remember(cache: dict, key: tuple, value):
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    cache[key] = value
    return value


def _font_height_metrics(prop, dpi) -> tuple:
    """Ascent, descent and line gap of the font, as Text._get_layout computes them when the renderer has none."""
    font = get_font(fontManager._find_fonts_by_props(prop))
    for table_name, linegap_key, ascent_key, descent_key in (
        ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
        ("hhea", "lineGap", "ascent", "descent"),
    ):
        table = font.get_sfnt_table(table_name)
        if table is None:
            continue
        fontsize = prop.get_size_in_points()
        units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
        scale = 1 / units_per_em * fontsize * dpi / 72  # same operations in the same order: the same floats
        return table[ascent_key] * scale, -table[descent_key] * scale, table[linegap_key] * scale
    return None, None, None  # Text._get_layout then measures "lp"


class ChartRendererSVG(RendererSVG):
    """RendererSVG whose text measurements come from the per-process caches."""

    def __init__(self, *args, text_dpi: float, **kwargs):
        super().__init__(*args, **kwargs)
        self._text_dpi = text_dpi  # the figure's dpi while it is drawn (72 for SVG): font heights scale with it
        self._rc_key = tuple(
            tuple(v) if isinstance(v := mpl.rcParams[name], list) else v for name in FONT_RC
        )  # read once per file: rcParams do not change during a draw

    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath:  # mathtext and TeX (off for charts: text.parse_math) also depend on their own rcParams
            return super().get_text_width_height_descent(s, prop, ismath)
        key = (s, _font_key(prop), self._rc_key)
        if (hit := _METRICS.get(key)) is not None:
            HITS["metrics"] += 1
            return hit
        return _remember(_METRICS, key, super().get_text_width_height_descent(s, prop, ismath))

    def _get_font_height_metrics(self, prop):
        key = (_font_key(prop), self._text_dpi, self._rc_key)
        if (hit := _HEIGHTS.get(key)) is not None:
            HITS["heights"] += 1
            return hit
        return _remember(_HEIGHTS, key, _font_height_metrics(prop, self._text_dpi))


class ChartCanvasSVG(FigureCanvasSVG):
    """FigureCanvasSVG drawing with ChartRendererSVG. Attach it (ChartCanvasSVG(fig)) before fig.savefig."""

    def print_svg(self, filename, *, bbox_inches_restore=None, metadata=None, **_print_figure_kwargs):
        # FigureCanvasSVG.print_svg with the renderer swapped; print_figure passes this (non-matplotlib) method
        # its dpi, facecolor, edgecolor and orientation too, which the SVG backend ignores as well.
        with cbook.open_file_cm(filename, "w", encoding="utf-8") as fh:
            if not cbook.file_requires_unicode(fh):
                fh = codecs.getwriter("utf-8")(fh)
            dpi = self.figure.dpi
            self.figure.dpi = 72
            width, height = self.figure.get_size_inches()
            w, h = width * 72, height * 72
            renderer = MixedModeRenderer(
                self.figure,
                width,
                height,
                dpi,
                ChartRendererSVG(w, h, fh, image_dpi=dpi, metadata=metadata, text_dpi=self.figure.dpi),
                bbox_inches_restore=bbox_inches_restore,
            )
            self.figure.draw(renderer)
            renderer.finalize()
