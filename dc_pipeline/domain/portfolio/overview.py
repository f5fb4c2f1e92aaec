"""Small readable views of the portfolio tables for the asset metadata in the Dagster UI (rounded, with brand
names): who leads, where effort goes, how brands move together."""

from __future__ import annotations

import pandas as pd

from dc_pipeline.domain.portfolio.allocation import NO_CHANGE


def _named(frame: pd.DataFrame, names: dict[int, str], *columns: str) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = out[column].map(lambda b: names.get(int(b), f"brand {int(b)}"))
    return out


def leaders(comparison: pd.DataFrame, names: dict[int, str]) -> pd.DataFrame:
    """Latest period: the leader of DC and of each section with its value and its lead over the second."""
    if comparison.empty:
        return pd.DataFrame(columns=["measure", "leader", "value", "lead_over_second"])
    latest = comparison[comparison["period"] == comparison["period"].max()]
    rows = []
    for measure, g in latest.groupby("measure", sort=False):
        g = g.sort_values("value", ascending=False)
        lead = g["value"].iloc[0] - g["value"].iloc[1] if len(g) > 1 else None
        rows.append({"measure": measure, "leader": g["brand_id"].iloc[0], "value": g["value"].iloc[0],
                     "lead_over_second": lead})  # fmt: skip
    return _named(pd.DataFrame(rows), names, "leader")


def allocation_view(allocation: pd.DataFrame, names: dict[int, str]) -> pd.DataFrame:
    columns = ["brand_id", "status", "value_weight", "effort", "share_pct", "delta_dc", "plan_id", "next_plan_id",
               "fraction_to_next"]  # fmt: skip
    view = _named(allocation.loc[:, columns], names, "brand_id").rename(columns={"brand_id": "brand"})
    view["plan_id"] = view["plan_id"].map(lambda p: "none" if pd.isna(p) or p == NO_CHANGE else f"plan {int(p)}")
    return view


def synergy_counts(synergy: pd.DataFrame) -> pd.DataFrame:
    """Pairs per measure and label (insufficient history counted as such)."""
    if synergy.empty:
        return pd.DataFrame(columns=["measure", "label", "pairs"])
    labels = synergy["label"].fillna(synergy["status"])
    return synergy.assign(label=labels).groupby(["measure", "label"]).size().rename("pairs").reset_index()


def transfer_view(transfers: pd.DataFrame, names: dict[int, str], limit: int = 10) -> pd.DataFrame:
    view = _named(transfers.head(limit), names, "leader_brand_id", "laggard_brand_id")
    return view.rename(columns={"leader_brand_id": "leader", "laggard_brand_id": "laggard"}).loc[
        :, ["section", "leader", "laggard", "leader_score", "laggard_score", "gap"]
    ]


def evolution_view(evolution: pd.DataFrame, names: dict[int, str]) -> pd.DataFrame:
    columns = ["brand_id", "from_project", "to_project", "jaccard", "status", "delta_dc", "value_effect",
               "mix_effect", "reason"]  # fmt: skip
    return _named(evolution.loc[:, columns], names, "brand_id").rename(columns={"brand_id": "brand"})


def steps_by_series_group(evolution: pd.DataFrame) -> pd.DataFrame:
    """Brand steps per series group of the later project and status (ok / not_comparable)."""
    if evolution.empty:
        return pd.DataFrame(columns=["series_group"])
    groups = evolution["to_series_group"].fillna("(no series group)").rename("series_group")
    return evolution.groupby(groups)["status"].value_counts().unstack(fill_value=0).reset_index()
