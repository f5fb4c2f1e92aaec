"""The chart registry (SPEC §7 "Charts"): one constructor per kind, producing the envelope's spec.

A spec is plain data: `type` (an envelope VISUALIZATION_TYPES entry), `title`, `data_path` (the
analysis block it plots), `figure` (the plotted numbers, `kind` naming the drawer) and `supports`
(pointer prefixes of the insights it illustrates, for placing it beside them). Drawing happens only
when a page is rendered (charts/draw.py), so building a report never imports a plotting library."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

KINDS = ("bar", "stacked_bar", "line", "scatter", "heatmap", "radar", "fan", "pareto", "waterfall", "bubble", "tornado")


def _spec(type_: str, kind: str, title: str, data_path: str, supports: Sequence[str], **figure: Any) -> dict:
    return {
        "type": type_,
        "title": title,
        "data_path": data_path,
        "supports": list(supports) or [data_path],
        "figure": {"kind": kind, **figure},
    }


def bar(
    title: str,
    data_path: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    y_label: str,
    bands: Sequence[float] = (),
    value_format: str = "score",
    supports: Sequence[str] = (),
) -> dict:
    """One bar per label; `bands` draws horizontal tier boundaries (e.g. 60 and 80)."""
    return _spec(
        "bar",
        "bar",
        title,
        data_path,
        supports,
        labels=list(labels),
        values=list(values),
        y_label=y_label,
        bands=list(bands),
        value_format=value_format,
    )


def stacked_bar(
    title: str,
    data_path: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    y_label: str,
    supports: Sequence[str] = (),
) -> dict:
    return _spec(
        "bar",
        "stacked_bar",
        title,
        data_path,
        supports,
        labels=list(labels),
        series={k: list(v) for k, v in series.items()},
        y_label=y_label,
    )


def line(
    title: str,
    data_path: str,
    x: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    y_label: str,
    bands: Sequence[float] = (),
    emphasis: str | None = None,
    invert_y: bool = False,
    secondary: dict[str, Sequence[float | None]] | None = None,
    secondary_label: str | None = None,
    markers: Sequence[str] = (),
    supports: Sequence[str] = (),
) -> dict:
    """Lines over ISO period labels; `emphasis` names a series drawn bold (e.g. the portfolio mean); `markers`
    are x labels marked with a vertical line (e.g. change points)."""
    return _spec(
        "line",
        "line",
        title,
        data_path,
        supports,
        x=list(x),
        series={k: list(v) for k, v in series.items()},
        y_label=y_label,
        bands=list(bands),
        emphasis=emphasis,
        invert_y=invert_y,
        secondary={k: list(v) for k, v in (secondary or {}).items()},
        secondary_label=secondary_label,
        markers=list(markers),
    )


def scatter(
    title: str,
    data_path: str,
    x: Sequence[float],
    y: Sequence[float],
    groups: Sequence[str],
    *,
    x_label: str,
    y_label: str,
    fit: dict | None = None,
    invert_y: bool = False,
    supports: Sequence[str] = (),
) -> dict:
    """Points coloured by group, with an optional fitted line and CI band ({x, fit, low, high, level})."""
    return _spec(
        "scatter",
        "scatter",
        title,
        data_path,
        supports,
        x=list(x),
        y=list(y),
        groups=list(groups),
        x_label=x_label,
        y_label=y_label,
        fit=fit,
        invert_y=invert_y,
    )


def heatmap(
    title: str,
    data_path: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    value_label: str,
    vmin: float,
    vmax: float,
    diverging: bool = False,
    supports: Sequence[str] = (),
) -> dict:
    return _spec(
        "heatmap",
        "heatmap",
        title,
        data_path,
        supports,
        rows=list(rows),
        columns=list(columns),
        values=[list(r) for r in values],
        value_label=value_label,
        vmin=vmin,
        vmax=vmax,
        diverging=diverging,
    )


def radar(
    title: str,
    data_path: str,
    axes: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    r_min: float = 0.0,
    r_max: float = 100.0,
    supports: Sequence[str] = (),
) -> dict:
    """One small radar per series (brand) over the same axes (sections), radius from r_min to r_max."""
    return _spec(
        "radar",
        "radar",
        title,
        data_path,
        supports,
        axes=list(axes),
        series={k: list(v) for k, v in series.items()},
        r_min=r_min,
        r_max=r_max,
    )


def fan(
    title: str,
    data_path: str,
    history_x: Sequence[str],
    history: Sequence[float | None],
    forecast_x: Sequence[str],
    median: Sequence[float],
    bands: list[dict],
    *,
    y_label: str,
    benchmark: Sequence[float] | None = None,
    supports: Sequence[str] = (),
) -> dict:
    """History then forecast median with nested interval bands [{level, low, high}], widest first."""
    return _spec(
        "fan",
        "fan",
        title,
        data_path,
        supports,
        history_x=list(history_x),
        history=list(history),
        forecast_x=list(forecast_x),
        median=list(median),
        bands=bands,
        y_label=y_label,
        benchmark=None if benchmark is None else list(benchmark),
    )


def pareto(
    title: str,
    data_path: str,
    effort: Sequence[float],
    gain: Sequence[float],
    *,
    highlight: dict[str, int] | None = None,
    supports: Sequence[str] = (),
) -> dict:
    """A front of (effort, gain) points; `highlight` names points by index (e.g. {"knee": 7})."""
    return _spec(
        "pareto",
        "pareto",
        title,
        data_path,
        supports,
        effort=list(effort),
        gain=list(gain),
        highlight=dict(highlight or {}),
        x_label="effort",
        y_label="ΔDC",
    )


def waterfall(
    title: str,
    data_path: str,
    labels: Sequence[str],
    deltas: Sequence[float],
    *,
    start: float,
    start_label: str,
    end_label: str,
    y_label: str,
    supports: Sequence[str] = (),
) -> dict:
    return _spec(
        "waterfall",
        "waterfall",
        title,
        data_path,
        supports,
        labels=list(labels),
        deltas=list(deltas),
        start=start,
        start_label=start_label,
        end_label=end_label,
        y_label=y_label,
    )


def bubble(
    title: str,
    data_path: str,
    x: Sequence[float],
    y: Sequence[float],
    size: Sequence[float],
    labels: Sequence[str],
    *,
    x_label: str,
    y_label: str,
    size_label: str,
    supports: Sequence[str] = (),
) -> dict:
    return _spec(
        "bubble",
        "bubble",
        title,
        data_path,
        supports,
        x=list(x),
        y=list(y),
        size=list(size),
        labels=list(labels),
        x_label=x_label,
        y_label=y_label,
        size_label=size_label,
    )


def tornado(
    title: str,
    data_path: str,
    labels: Sequence[str],
    low: Sequence[float],
    high: Sequence[float],
    *,
    x_label: str,
    supports: Sequence[str] = (),
) -> dict:
    """Horizontal bars of the low and high effect per factor, sorted by swing by the drawer."""
    return _spec(
        "tornado",
        "tornado",
        title,
        data_path,
        supports,
        labels=list(labels),
        low=list(low),
        high=list(high),
        x_label=x_label,
    )
