"""Report confidence and health (SPEC §7.1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

DQ_FAIL_BELOW = 0.6
DQ_REVIEW_BELOW = 0.8
UNVALIDATED_FACTOR = 0.7


def dq_band(score: float | None) -> str | None:
    """§5 bands: >= 0.8 excellent, >= 0.6 acceptable, else poor."""
    if score is None:
        return None
    return "excellent" if score >= DQ_REVIEW_BELOW else "acceptable" if score >= DQ_FAIL_BELOW else "poor"


def reason(code: str, message: str, value: Any = None, threshold: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "value": value, "threshold": threshold}


def confidence(dq: float | None, n_obs: int, n_full: int, validation_ok: bool) -> dict[str, Any]:
    """confidence = dq x adequacy x validation; adequacy = min(1, n_obs / n_full)."""
    adequacy = min(1.0, n_obs / n_full) if n_full > 0 else 1.0
    validation = 1.0 if validation_ok else UNVALIDATED_FACTOR
    out: dict[str, Any] = {
        "value": None if dq is None else float(dq) * adequacy * validation,
        "dq": None if dq is None else float(dq),
        "adequacy": adequacy,
        "validation": validation,
        "n_obs": int(n_obs),
        "n_full": int(n_full),
    }
    if dq is None:
        out["status"] = "missing_input"
        out["reason"] = "no data-quality score given, so confidence cannot be computed"
    return out


def health(
    *,
    analysis: dict[str, dict[str, Any]],
    minimum_problems: Iterable[dict[str, Any]] = (),
    dq_score: float | None,
    quarantined_rows: dict[str, int] | None = None,
    model_problems: Iterable[dict[str, Any]] = (),
    coverage_problems: Iterable[dict[str, Any]] = (),
    tier_uncertain_brands: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """PASS / REVIEW / FAIL with every reason found; the status is the worst one."""
    fail = list(minimum_problems)
    review: list[dict[str, Any]] = []
    if dq_score is None:
        review.append(reason("dq_missing", "no data-quality score for the project", None, DQ_REVIEW_BELOW))
    elif dq_score < DQ_FAIL_BELOW:
        fail.append(reason("dq_poor", f"project DQ {dq_score:.3f} < {DQ_FAIL_BELOW}", dq_score, DQ_FAIL_BELOW))
    elif dq_score < DQ_REVIEW_BELOW:
        review.append(
            reason("dq_below_excellent", f"project DQ {dq_score:.3f} < {DQ_REVIEW_BELOW}", dq_score, DQ_REVIEW_BELOW)
        )
    counts = {rule: int(n) for rule, n in sorted((quarantined_rows or {}).items()) if n}
    if counts:
        listing = ", ".join(f"{rule} {n}" for rule, n in counts.items())
        review.append(reason("rows_quarantined", f"input rows quarantined: {listing}", sum(counts.values()), 0))
    review += list(model_problems) + list(coverage_problems) + list(tier_uncertain_brands)
    for name, block in analysis.items():
        if isinstance(block, dict) and block.get("status") == "insufficient_data":
            review.append(
                reason(
                    "insufficient_data", f"{name}: {block.get('reason')}", block.get("observed"), block.get("required")
                )
            )
    status = "FAIL" if fail else "REVIEW" if review else "PASS"
    return {"status": status, "reasons": fail + review}
