"""The reference snapshot as one typed object (SPEC §0 `reference_snapshot`, §2 time lines).

Built once from the snapshot's tables; every asset asks it for projects, members, time lines and brand
names instead of parsing the tables by string key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from dc_pipeline.domain.timeline import seasonal_period, series_projects

# The snapshot's tables as stored by the reference_snapshot asset (its table names).
SNAPSHOT_TABLES = {
    "projects": "ref_projects",
    "categories": "ref_categories",
    "brands": "ref_brands",
    "project_brands": "ref_project_brands",
}
MONTHS_PER_PERIOD = {"month": 1, "quarter": 3}


@dataclass(frozen=True, eq=False)
class Reference:
    projects: pd.DataFrame
    categories: pd.DataFrame
    brands: pd.DataFrame
    project_brands: pd.DataFrame

    @classmethod
    def from_snapshot(cls, tables: dict[str, pd.DataFrame]) -> Reference:
        """From the stored snapshot tables (`ref_projects`, ...) or the source tables (`projects`, ...)."""

        def table(name: str) -> pd.DataFrame:
            frame = tables.get(SNAPSHOT_TABLES[name], tables.get(name))
            return frame if frame is not None else pd.DataFrame()

        return cls(*(table(name) for name in SNAPSHOT_TABLES))

    def as_snapshot(self) -> dict[str, pd.DataFrame]:
        return {stored: getattr(self, name) for name, stored in SNAPSHOT_TABLES.items()}

    # -- projects ---------------------------------------------------------------------------------
    def project_ids(self) -> list[int]:
        return sorted(int(p) for p in self.projects["project_id"]) if len(self.projects) else []

    def has_project(self, project_id: int) -> bool:
        return int(project_id) in set(self.project_ids())

    def project(self, project_id: int) -> dict:
        rows = self.projects[self.projects["project_id"] == project_id]
        if rows.empty:
            raise KeyError(f"project {project_id} is not in the reference snapshot: materialize reference_snapshot")
        return rows.iloc[0].to_dict() | {"project_id": int(project_id)}

    def timeline(self, project_id: int) -> list[int]:
        """Projects whose rows form this project's time line (its series group up to its last period)."""
        return series_projects(self.projects, project_id)

    def grain(self, project_id: int) -> str:
        return str(self.project(project_id).get("period_grain") or "month")

    def seasonal_period(self, project_id: int) -> int:
        return seasonal_period(self.grain(project_id))

    def months_per_period(self, project_id: int) -> int:
        return MONTHS_PER_PERIOD.get(self.grain(project_id), 1)

    # -- brands and memberships -------------------------------------------------------------------
    def members(self, project_id: int) -> list[int]:
        pb = self.project_brands
        return sorted(int(b) for b in pb.loc[pb["project_id"] == project_id, "brand_id"]) if len(pb) else []

    def memberships(self, project_id: int) -> pd.DataFrame:
        """The project's project_brands rows (brand_id, role, weight)."""
        return self.project_brands[self.project_brands["project_id"] == project_id].reset_index(drop=True)

    @cached_property
    def member_pairs(self) -> frozenset[tuple[int, int]]:
        pb = self.project_brands
        return frozenset(zip(pb["project_id"].astype(int), pb["brand_id"].astype(int))) if len(pb) else frozenset()

    def is_member(self, project_id: int, brand_id: int) -> bool:
        return (int(project_id), int(brand_id)) in self.member_pairs

    @cached_property
    def brand_names(self) -> dict[int, str]:
        return {int(r.brand_id): r.brand_name for r in self.brands.itertuples()} if len(self.brands) else {}

    def brand_name(self, brand_id: int) -> str:
        return self.brand_names.get(int(brand_id), f"brand {brand_id}")

    def brand_ids(self) -> list[int]:
        return sorted(self.brand_names)
