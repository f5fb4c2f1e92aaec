"""Pydantic models of the Digi-Cadence API bodies (SPEC §3 "Response (fields used)").

Unknown fields are ignored (the services add fields freely); missing or mistyped *used* fields
fail validation. `validation_problems` turns a ValidationError into `<field path>: <message>`
strings without echoing input values, so bodies never leak into error text.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _first_of_month(value: Any) -> Any:
    # SPEC: period is "YYYY-MM-01"; a timestamp string is accepted and cut to its date.
    if isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        return value[:10]
    return value


class NormalizedRecord(_Lenient):
    """One element of GET /normalized/normalized_value."""

    metricname: str
    sectionName: str
    platformname: str
    brandName: str
    normalized: float | None  # range checks are DQ rules (V1), not schema
    project_id: int | None = None
    brand_id: int | None = None
    metric_id: int | None = None
    period: date | None = None
    updated_at: datetime | None = None

    _period = field_validator("period", mode="before")(_first_of_month)

    @field_validator("period")
    @classmethod
    def _period_is_first_day(cls, value: date | None) -> date | None:
        if value is not None and value.day != 1:
            raise ValueError(f"period must be the first day of a month (YYYY-MM-01), got {value.isoformat()}")
        return value


class NamedRef(_Lenient):
    name: str


class ProjectMetric(_Lenient):
    metric_id: int | None = None
    section: NamedRef
    platform: NamedRef
    metric_new_name: str
    weights: float = Field(ge=0)
    metric_type: Literal["maximize", "minimize"] | None = None


class ProjectMeta(_Lenient):
    """GET /api/v1/project/get-project/ (with or without the `project` wrapper)."""

    project_id: int
    project_name: str
    description: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    metrics: list[ProjectMetric]
    categories: list[Any] | None = None
    platforms: list[Any] | None = None


class WeightEntry(_Lenient):
    section: str
    platform: str
    metric: str
    weight: float = Field(ge=0)


class WeightSum(_Lenient):
    """GET /weight_sum."""

    project_id: int
    weights: list[WeightEntry]
    weight_sum: dict[str, float]

    @field_validator("weight_sum")
    @classmethod
    def _has_total(cls, value: dict[str, float]) -> dict[str, float]:
        if "total" not in value:
            raise ValueError("weight_sum has no 'total' key")
        return value


class BrandCategory(_Lenient):
    category_id: int
    category_name: str


# One optional float per outcome column, named as in the source table (SPEC §2).
BrandOutcome = create_model(
    "BrandOutcome",
    __base__=_Lenient,
    period=(date, ...),
    **{column: (float | None, None) for column in OUTCOME_COLUMNS},
)


class BrandData(_Lenient):
    """GET /brands/{brand_id}/project_id/{project_id}."""

    brand_id: int
    brand_name: str
    project_id: int
    category: BrandCategory
    role: str
    business_outcomes: list[BrandOutcome] = Field(default_factory=list)  # type: ignore[valid-type]


class TokenResponse(_Lenient):
    """POST /auth/token."""

    access_token: str = Field(repr=False)
    token_type: Literal["bearer"]
    expires_in: float = Field(gt=0)


class HealthBody(_Lenient):
    status: str


def validation_problems(exc: ValidationError, prefix: str = "") -> list[str]:
    """`[3].normalized: Input should be a valid number` style lines, never the input value."""
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        path = ""
        for part in err["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        lines.append(f"{prefix}{path or '<body>'}: {err['msg']}")
    return lines
