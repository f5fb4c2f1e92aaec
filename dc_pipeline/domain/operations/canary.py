"""The canary's verdict (SPEC §11): stored DC scores of the reference fixture against their expectations."""

from __future__ import annotations

import pandas as pd


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
