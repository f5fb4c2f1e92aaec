"""Asset-check results and materialization metadata of `validate_project`, one entry per project.

Failed checks name the rows (row keys with the rule and reason) so the UI says what broke and how often.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from dc_pipeline.domain.partition_keys import brand_key, project_key
from dc_pipeline.domain.quality.tables import counts_by_rule

EXAMPLE_ROWS = 20


def _named_rows(quarantine: pd.DataFrame, project_id: int) -> list[dict]:
    rows = quarantine[(quarantine["project_id"] == project_id) & (quarantine["source"] == "normalisedvalue")]
    return [
        {"rule_id": r.rule_id, "reason": r.reason, "row_key": r.row_key} for r in rows.head(EXAMPLE_ROWS).itertuples()
    ]


def blocking_check(check_name: str, results, quarantine: pd.DataFrame) -> dg.AssetCheckResult:
    """A domain blocking verdict (`QualityAssessment.blocking`) over the run's projects; ERROR, blocking."""
    verdicts = {pid: next(b for b in a.blocking if b["check"] == check_name) for pid, a in results}
    failed = [pid for pid, v in verdicts.items() if not v["passed"]]
    rows = {}
    for pid in failed:
        named = _named_rows(quarantine, pid) if check_name == "quarantine_share_within_limit" else []
        rows[project_key(pid)] = named or verdicts[pid].get("rows", [])[:EXAMPLE_ROWS]
    failed_quarantine = quarantine[quarantine["project_id"].isin(failed)] if len(quarantine) else quarantine
    return dg.AssetCheckResult(
        check_name=check_name,
        asset_key="validated_values",
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "projects_failed": ", ".join(map(project_key, failed)) or "none",
            "messages": dg.MetadataValue.md(
                "\n".join(f"- {project_key(pid)}: {v['message']}" for pid, v in verdicts.items())
            ),
            "quarantined_rows_of_failed_projects": int((failed_quarantine["source"] == "normalisedvalue").sum())
            if len(failed_quarantine)
            else 0,
            "quarantined_by_rule": dg.MetadataValue.json(counts_by_rule(failed_quarantine)),
            "rows": dg.MetadataValue.json(rows),
        },
    )


def accounted_check(check_name: str, accounting: dict[int, dict]) -> dg.AssetCheckResult:
    failed = [pid for pid, a in accounting.items() if not a["passed"]]
    return dg.AssetCheckResult(
        check_name=check_name,
        asset_key="validated_values",
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "projects_failed": ", ".join(map(project_key, failed)) or "none",
            "messages": dg.MetadataValue.md(
                "\n".join(f"- {project_key(pid)}: {a['message']}" for pid, a in accounting.items())
            ),
            "landed_rows": sum(a["landed"] for a in accounting.values()),
            "validated_rows": sum(a["validated"] for a in accounting.values()),
            "quarantined_rows": sum(a["quarantined"] for a in accounting.values()),
            "rows": dg.MetadataValue.json(
                {
                    project_key(pid): {
                        "missing_ids": accounting[pid]["missing_ids"],
                        "extra_ids": accounting[pid]["extra_ids"],
                    }
                    for pid in failed
                }
            ),
        },
    )


def _scope_key(row) -> str:
    key = project_key(row.project_id)
    return key if pd.isna(row.brand_id) else f"{key}/{brand_key(row.brand_id)}"


def band_check(check_name: str, scores: pd.DataFrame) -> dg.AssetCheckResult:
    """WARN (never blocking) when any scope in `scores` (dq_scores rows) is in band poor."""
    poor = scores[scores["band"] == "poor"] if len(scores) else scores
    table = scores[["project_id", "brand_id", "score", "band"]].copy() if len(scores) else scores
    if len(table):
        table["score"] = table["score"].round(3)
    return dg.AssetCheckResult(
        check_name=check_name,
        asset_key="dq_results",
        passed=poor.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "poor": ", ".join(_scope_key(r) for r in poor.itertuples()) or "none",
            "n_poor": len(poor),
            "n_scored": len(scores),
            "lowest_score": float(round(scores["score"].min(), 4))
            if len(scores) and scores["score"].notna().any()
            else dg.MetadataValue.null(),
            "scores": dg.MetadataValue.md(table.to_markdown(index=False) if len(table) else "none"),
        },
    )


def project_metadata(results, accounting: dict[int, dict], quarantine: pd.DataFrame) -> dict:
    """validated_values metadata: rows, DQ score and band per project, quarantined counts by rule."""
    meta: dict = {
        "rows": sum(a["validated"] for a in accounting.values()),
        "landed_rows": sum(a["landed"] for a in accounting.values()),
        "quarantined_rows": sum(a["quarantined"] for a in accounting.values()),
        "quarantined_by_rule": dg.MetadataValue.json(counts_by_rule(quarantine)),
    }
    for pid, assessment in results:
        key = project_key(pid)
        score = assessment.project_score
        band = assessment.dq_scores.loc[assessment.dq_scores["scope"] == "project", "band"].iloc[0]
        meta[f"landed_rows/{key}"] = accounting[pid]["landed"]
        meta[f"dq_score/{key}"] = float(round(score, 4)) if pd.notna(score) else dg.MetadataValue.null()
        meta[f"dq_band/{key}"] = str(band) if band is not None else "none"
        meta[f"blocked/{key}"] = assessment.is_blocked
    return meta
