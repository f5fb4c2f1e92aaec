"""Each chart's data as a table (header, rows), for Markdown pages and text fallbacks."""

from __future__ import annotations

from typing import Any

MAX_ROWS = 60


def figure_table(viz: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    f = viz["figure"]
    kind = f["kind"]
    if kind == "bar":
        return ["label", f["y_label"]], [list(r) for r in zip(f["labels"], f["values"])]
    if kind == "stacked_bar":
        names = list(f["series"])
        return ["label", *names], [[lab, *(f["series"][s][i] for s in names)] for i, lab in enumerate(f["labels"])]
    if kind == "line":
        names = [*f["series"], *f.get("secondary", {})]
        both = {**f["series"], **f.get("secondary", {})}
        return ["period", *names], [[x, *(both[s][i] for s in names)] for i, x in enumerate(f["x"])]
    if kind == "scatter":
        return [f["x_label"], f["y_label"], "brand"], [list(r) for r in zip(f["x"], f["y"], f["groups"])][:MAX_ROWS]
    if kind == "heatmap":
        return ["", *f["columns"]], [[r, *vals] for r, vals in zip(f["rows"], f["values"])]
    if kind == "radar":
        return ["brand", *f["axes"]], [[name, *vals] for name, vals in f["series"].items()]
    if kind == "fan":
        head = [
            "period",
            "history",
            "median",
            *(f"{round(b['level'] * 100)}% {e}" for b in f["bands"] for e in ("low", "high")),
        ]
        rows = [[x, h, None] + [None] * 2 * len(f["bands"]) for x, h in zip(f["history_x"], f["history"])]
        rows += [
            [x, None, m, *(b[e][i] for b in f["bands"] for e in ("low", "high"))]
            for i, (x, m) in enumerate(zip(f["forecast_x"], f["median"]))
        ]
        return head, rows
    if kind == "pareto":
        return ["effort", "ΔDC"], [list(r) for r in zip(f["effort"], f["gain"])]
    if kind == "waterfall":
        return ["step", "change"], [[f["start_label"], f["start"]], *map(list, zip(f["labels"], f["deltas"]))]
    if kind == "bubble":
        return ["label", f["x_label"], f["y_label"], f["size_label"]], [
            list(r) for r in zip(f["labels"], f["x"], f["y"], f["size"])
        ]
    if kind == "tornado":
        return ["factor", "low", "high"], [list(r) for r in zip(f["labels"], f["low"], f["high"])]
    raise ValueError(f"no table layout for figure kind {kind!r}")
