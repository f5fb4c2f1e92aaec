"""The SPEC §3 service table as typed calls: one method per service, on top of `get_raw`.

`ServiceEndpoints` is the half of `DigiCadenceClient` that knows paths, params and body shapes;
the other half (client.py) knows how to get a body reliably. Schema violations of single
normalized records are returned as problem lines (DQ failures, SPEC §3), not raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from dc_pipeline.adapters.api_client.errors import ApiNotFound, ApiResponseInvalid
from dc_pipeline.adapters.api_client.settings import ANALYTICS_PATHS
from dc_pipeline.adapters.api_client.transport import RawResponse
from dc_pipeline.adapters.api_models import BrandData, NormalizedRecord, ProjectMeta, WeightSum, validation_problems


@dataclass(frozen=True)
class NormalizedPull:
    """Records that passed validation plus one problem line per rejected field (for DQ)."""

    records: list[NormalizedRecord]
    problems: list[str]
    n_received: int
    sha256: str


@dataclass(frozen=True)
class AnalyticsResult:
    path: str
    raw_json: str
    sha256: str
    not_found: tuple[str, ...] = ()  # paths tried first that answered 404


def parse_model(model: type[BaseModel], data: Any, service: str, endpoint: str) -> Any:
    """`model` validated from `data`, or ApiResponseInvalid naming the endpoint and each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = tuple(validation_problems(exc))
        raise ApiResponseInvalid(
            f"Digi-Cadence service '{service}' {endpoint}: unexpected response shape: "
            + "; ".join(problems[:5])
            + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""),
            service=service,
            endpoint=endpoint,
            problems=problems,
        ) from None


class ServiceEndpoints:
    """Typed calls; subclasses provide `get_raw` (a GET through the cache and the retry path)."""

    def get_raw(
        self, service: str, path: str, params: Mapping[str, Any] | None = None, *, force_refresh: bool = False
    ) -> RawResponse:
        raise NotImplementedError

    def normalized_values_checked(self, project_id: int, *, force_refresh: bool = False) -> NormalizedPull:
        """Valid records plus a problem line per invalid record field, so bad records become DQ
        failures rather than crashes. A body that is not a JSON array raises ApiResponseInvalid."""
        path, params = "/normalized/normalized_value", {"project_ids": int(project_id)}
        endpoint = f"GET {path}?project_ids={int(project_id)}"
        raw = self.get_raw("normalized", path, params, force_refresh=force_refresh)
        if not isinstance(raw.data, list):
            raise ApiResponseInvalid(
                f"Digi-Cadence service 'normalized' {endpoint}: field <body>: expected a JSON array of records, "
                f"got {type(raw.data).__name__}",
                service="normalized",
                endpoint=endpoint,
                problems=("<body>: expected a JSON array",),
            )
        records: list[NormalizedRecord] = []
        problems: list[str] = []
        for i, item in enumerate(raw.data):
            try:
                records.append(NormalizedRecord.model_validate(item))
            except ValidationError as exc:
                problems.extend(validation_problems(exc, prefix=f"[{i}]."))
        return NormalizedPull(records=records, problems=problems, n_received=len(raw.data), sha256=raw.sha256)

    def normalized_values(self, project_id: int, *, force_refresh: bool = False) -> list[NormalizedRecord]:
        pull = self.normalized_values_checked(project_id, force_refresh=force_refresh)
        if pull.problems:
            endpoint = f"GET /normalized/normalized_value?project_ids={int(project_id)}"
            raise ApiResponseInvalid(
                f"Digi-Cadence service 'normalized' {endpoint}: {len(pull.problems)} invalid field(s) in "
                f"{pull.n_received} records: " + "; ".join(pull.problems[:5]),
                service="normalized",
                endpoint=endpoint,
                problems=tuple(pull.problems),
            )
        return pull.records

    def project_meta(self, project_id: int, *, force_refresh: bool = False) -> ProjectMeta:
        path, params = "/api/v1/project/get-project/", {"project_id": int(project_id)}
        data = self.get_raw("frontend", path, params, force_refresh=force_refresh).data
        if isinstance(data, dict) and isinstance(data.get("project"), dict):
            data = data["project"]
        return parse_model(ProjectMeta, data, "frontend", f"GET {path}?project_id={int(project_id)}")

    def weight_sum(self, project_id: int, *, force_refresh: bool = False) -> WeightSum:
        path, params = "/weight_sum", {"project_id": int(project_id)}
        data = self.get_raw("weight_sum", path, params, force_refresh=force_refresh).data
        return parse_model(WeightSum, data, "weight_sum", f"GET {path}?project_id={int(project_id)}")

    def insights(self, project_id: int, *, force_refresh: bool = False) -> tuple[str, str]:
        """(raw JSON text, sha256 of the body); the content is opaque, only JSON-ness is checked."""
        raw = self.get_raw("insights", "/get_multi_data", {"project_id": int(project_id)}, force_refresh=force_refresh)
        return raw.text(), raw.sha256

    def brand_data(self, brand_id: int, project_id: int, *, force_refresh: bool = False) -> BrandData:
        path = f"/brands/{int(brand_id)}/project_id/{int(project_id)}"
        data = self.get_raw("brand_data", path, force_refresh=force_refresh).data
        return parse_model(BrandData, data, "brand_data", f"GET {path}")

    def analytics(self, project_id: int, *, force_refresh: bool = False) -> AnalyticsResult:
        """The first 2xx body of /analytics/metrics, /get_analytics, /analytics (404 moves on)."""
        params = {"project_id": int(project_id)}
        not_found: list[str] = []
        for path in ANALYTICS_PATHS:
            try:
                raw = self.get_raw("analytics_metric", path, params, force_refresh=force_refresh)
            except ApiNotFound:
                not_found.append(path)
                continue
            return AnalyticsResult(path=path, raw_json=raw.text(), sha256=raw.sha256, not_found=tuple(not_found))
        endpoint = " then ".join(f"GET {p}" for p in ANALYTICS_PATHS) + f" ?project_id={int(project_id)}"
        raise ApiNotFound(
            f"Digi-Cadence service 'analytics_metric' {endpoint}: all three paths answered HTTP 404",
            service="analytics_metric",
            endpoint=endpoint,
            status=404,
        )
