"""The canary's verdict (SPEC §11): stored DC scores of the reference fixture against their expectations, and the
key figures of its reports against the recorded ones (a changed number fails the canary)."""

from __future__ import annotations

import math

import pandas as pd

from dc_pipeline.domain.reports.json_values import PointerError, resolve_pointer


def expectation_problems(brands: pd.DataFrame, expected: pd.DataFrame, project_id: int, tol: float = 1e-6) -> list[str]:
    """Each expected brand's stored DC (within `tol`), tier and rank in `project_id`; `expected` has brand_id,
    dc_score, tier, rank."""
    got = brands[brands["project_id"] == project_id].set_index("brand_id")
    problems = []
    for row in expected.itertuples():
        if row.brand_id not in got.index:
            problems.append(f"brand {row.brand_id} has no DC score in project {project_id}")
            continue
        dc = float(got.at[row.brand_id, "dc_score"])
        if not abs(dc - row.dc_score) <= tol:
            problems.append(f"brand {row.brand_id} DC {dc:.6f} != expected {row.dc_score:.6f}")
        if got.at[row.brand_id, "tier"] != row.tier:
            problems.append(f"brand {row.brand_id} tier {got.at[row.brand_id, 'tier']} != expected {row.tier}")
        rank = got.at[row.brand_id, "rank"]
        if pd.isna(rank) or int(rank) != row.rank:
            problems.append(f"brand {row.brand_id} rank {rank} != expected {row.rank}")
    return problems


def key_figures(envelope: dict) -> dict[str, object]:
    """The numbers (and names) a report states: every figure its insights and recommendations cite and every KPI
    tile, by JSON pointer."""
    figures: dict[str, object] = {}
    for kind in ("key_insights", "strategic_recommendations"):
        for item in envelope.get(kind) or []:
            for fig in item.get("figures") or []:
                figures[fig["path"]] = fig["value"]
    for tile in envelope.get("kpis") or []:
        figures[tile["path"]] = tile["value"]
    return dict(sorted(figures.items()))


def figure_problems(report_id: str, envelope: dict, expected: dict[str, object], rel_tol: float = 1e-6) -> list[str]:
    """Each recorded figure must still resolve in the envelope to the same value (numbers within rel_tol)."""
    problems = []
    for path, want in expected.items():
        try:
            got = resolve_pointer(envelope, path)
        except PointerError:
            problems.append(f"{report_id}: {path} is no longer produced (expected {want!r})")
            continue
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (got, want))
        same = math.isclose(got, want, rel_tol=rel_tol, abs_tol=1e-9) if numbers else got == want
        if not same:
            problems.append(f"{report_id}: {path} = {got!r}, expected {want!r}")
    return problems
