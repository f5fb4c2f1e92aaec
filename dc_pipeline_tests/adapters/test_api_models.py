"""The API body models: problems name the field and never echo the value."""

from __future__ import annotations

import pytest

from dc_pipeline.adapters.api_models import NormalizedRecord, validation_problems


def test_validation_problems_name_fields_without_values() -> None:
    with pytest.raises(Exception) as info:
        NormalizedRecord.model_validate(
            {
                "metricname": "m",
                "sectionName": "s",
                "platformname": "p",
                "brandName": "b",
                "normalized": "secret-ish-text",
                "period": "2024-02-15",
            }
        )
    problems = validation_problems(info.value, prefix="[3].")  # type: ignore[arg-type]
    assert any(p.startswith("[3].normalized: ") for p in problems)
    assert any(p.startswith("[3].period: ") and "first day of a month" in p for p in problems)
    assert all("secret-ish-text" not in p for p in problems)
    ok = NormalizedRecord.model_validate(
        {
            "metricname": "m",
            "sectionName": "s",
            "platformname": "p",
            "brandName": "b",
            "normalized": 5,
            "period": "2024-02-01T00:00:00Z",
        }
    )
    assert ok.period is not None and ok.period.day == 1
