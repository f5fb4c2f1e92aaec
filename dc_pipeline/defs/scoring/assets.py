"""DC scores per project partition (SPEC §4) with their ERROR identity checks."""

import dagster as dg
import pandas as pd

from dc_pipeline.adapters.store import scores_as_tables, stored_metadata
from dc_pipeline.defs.automation import ON_UPSTREAM_CHANGE_IF_VALID
from dc_pipeline.defs.io_manager import INPUT_COLUMNS
from dc_pipeline.defs.partitions import project_backfill_policy, projects_partitions
from dc_pipeline.defs.resources import SettingsResource
from dc_pipeline.domain.quality.confidence import with_dq_confidence
from dc_pipeline.domain.scoring import (
    SCORED_VALUE_COLUMNS,
    DcScores,
    check_contribution_identities,
    compute_dc_scores,
    scores_outside_range,
)


@dg.asset(
    partitions_def=projects_partitions,
    backfill_policy=project_backfill_policy,
    group_name="scoring",
    metadata=stored_metadata("dc_scores"),
    kinds={"pandas", "postgres"},
    check_specs=[
        dg.AssetCheckSpec(
            "contributions_sum_to_score",
            asset="dc_scores",
            blocking=True,
            description="Σ c_m = DC and DC + Σ g_m = 100 for every brand-period (1e-9).",
        ),
        dg.AssetCheckSpec(
            "scores_within_0_100",
            asset="dc_scores",
            blocking=True,
            description="Every DC, section, platform and directed metric score lies in [0, 100].",
        ),
    ],
    automation_condition=ON_UPSTREAM_CHANGE_IF_VALID,
    # Only what scoring reads: ids, raw values, source and update times were half the bytes read back.
    ins={"validated_values": dg.AssetIn(metadata={INPUT_COLUMNS: list(SCORED_VALUE_COLUMNS)})},
)
def dc_scores(
    context: dg.AssetExecutionContext,
    validated_values: pd.DataFrame,
    validated_metrics: pd.DataFrame,
    dq_results: dict[str, pd.DataFrame],
    settings: SettingsResource,
):
    """Per brand-period: DC, section, platform scores, metric contributions and shortfalls, tiers, ranks,
    and the DQ score of the inputs as confidence (the brand's score where it has one, else the project's)."""
    config = settings.load().scoring_config
    scores = compute_dc_scores(validated_values, validated_metrics, config)
    scores = DcScores(
        brands=with_dq_confidence(scores.brands, dq_results.get("dq_scores")),
        sections=scores.sections,
        platforms=scores.platforms,
        metrics=scores.metrics,
    )
    broken = check_contribution_identities(scores)
    outside = scores_outside_range(scores)
    yield dg.Output(scores_as_tables(scores), metadata=score_metadata(scores))
    yield dg.AssetCheckResult(
        check_name="contributions_sum_to_score",
        passed=broken.empty,
        metadata={"violations": len(broken), "examples": dg.MetadataValue.md(_examples(broken))},
    )
    yield dg.AssetCheckResult(
        check_name="scores_within_0_100",
        passed=outside.empty,
        metadata={"violations": len(outside), "examples": dg.MetadataValue.md(_examples(outside))},
    )


def _examples(frame: pd.DataFrame) -> str:
    return "none" if frame.empty else frame.head(5).to_markdown(index=False)


def score_metadata(scores: DcScores) -> dict:
    brands = scores.brands
    scored = brands.dropna(subset=["dc_score"])
    meta: dict = {
        "brand_periods": len(brands),
        "scored_brand_periods": len(scored),
        "null_dc": int(brands["dc_score"].isna().sum()),
    }
    if scored.empty:
        return meta
    latest = scored[scored["period"] == scored["period"].max()].sort_values("dc_score", ascending=False)
    meta["latest_period"] = str(pd.Timestamp(latest["period"].iloc[0]).date())
    meta["top_brand"] = f"b{int(latest['brand_id'].iloc[0])} DC {latest['dc_score'].iloc[0]:.1f}"
    meta["bottom_brand"] = f"b{int(latest['brand_id'].iloc[-1])} DC {latest['dc_score'].iloc[-1]:.1f}"
    meta["mean_dc_latest"] = float(round(latest["dc_score"].mean(), 3))
    if "dq_score" in latest and latest["dq_score"].notna().any():
        meta["dq_confidence_latest_mean"] = float(round(latest["dq_score"].mean(), 4))
    preview = (
        latest[
            [c for c in ("project_id", "brand_id", "dc_score", "tier", "rank", "dq_score", "dq_band") if c in latest]
        ]
        .head(10)
        .copy()
    )
    preview["dc_score"] = preview["dc_score"].round(1)
    meta["preview"] = dg.MetadataValue.md(preview.to_markdown(index=False))
    return meta
