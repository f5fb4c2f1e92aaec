"""Report inputs built in memory: the TechCorp fixture (SPEC §4) and synthetic cohorts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.demo.dataset import demo_dataset
from dc_pipeline.demo.model_outputs import model_outputs
from dc_pipeline.demo.report_inputs import demo_report_data
from dc_pipeline.demo.techcorp import techcorp_tables
from dc_pipeline.domain.reports.data import report_data_from_frames
from dc_pipeline.domain.scoring import compute_dc_scores
from dc_pipeline.domain.source_tables import SECTIONS
from dc_pipeline.domain.tuning_settings import TuningSettings

DQ = {"score": 0.97, "band": "excellent", "per_brand": {}, "quarantined_rows": {}}


@pytest.fixture(scope="session")
def techcorp():
    return techcorp_tables()


@pytest.fixture(scope="session")
def techcorp_p2(techcorp):
    return demo_report_data(techcorp, 2, dq=DQ)


def synthetic_data(
    dc: dict[str, list[float]],
    *,
    outcomes: dict[str, dict[str, list[float]]] | None = None,
    grain: str = "month",
    start: str = "2022-01-01",
    dq: dict | None = DQ,
    sections=None,
):
    """One project (id 9) whose brands have the given DC series: one weight-1 metric per section, all four
    equal to the DC unless `sections` gives per-brand section series."""
    names = list(dc)
    n = len(next(iter(dc.values())))
    step = 3 if grain == "quarter" else 1
    periods = pd.date_range(start, periods=n, freq=f"{step}MS")
    metrics = pd.DataFrame(
        [
            dict(
                metric_id=i + 1,
                project_id=9,
                section_name=s,
                platform_name="Composite",
                metric_name=f"m{i + 1}",
                metric_type="maximize",
                weight=1.0,
                effort_cost=1.0,
                is_active=True,
            )
            for i, s in enumerate(SECTIONS)
        ]
    )
    rows = []
    for b, name in enumerate(names, start=1):
        for t, period in enumerate(periods):
            for i, s in enumerate(SECTIONS):
                v = sections[name][s][t] if sections else dc[name][t]
                rows.append(dict(project_id=9, brand_id=b, metric_id=i + 1, period=period, normalized_value=v))
    scores = compute_dc_scores(pd.DataFrame(rows), metrics)
    out_rows = [
        dict(project_id=9, brand_id=b, period=p, **{k: v[name][t] for k, v in (outcomes or {}).items()})
        for b, name in enumerate(names, start=1)
        for t, p in enumerate(periods)
    ]
    projects = pd.DataFrame(
        [
            dict(
                project_id=9,
                project_name="Synthetic <Project>",
                series_group=None,
                period_grain=grain,
                start_date=periods[0],
                end_date=periods[-1],
            )
        ]
    )
    members = pd.DataFrame({"project_id": 9, "brand_id": range(1, len(names) + 1), "role": "competitor", "weight": 1.0})
    brands = pd.DataFrame({"brand_id": range(1, len(names) + 1), "brand_name": names})
    return report_data_from_frames(
        9,
        projects=projects,
        project_brands=members,
        brands=brands,
        scores=scores,
        outcomes=pd.DataFrame(out_rows),
        metrics=metrics,
        dq=dq,
    )


def noisy(rng: np.random.Generator, base: float, slope: float, sd: float, n: int = 36) -> list[float]:
    return list(np.clip(base + slope * np.arange(n) + rng.normal(0, sd, n), 0, 100))


SMALL_TUNING = TuningSettings(n_trials=2, timeout_s=60.0, n_jobs=1, patience=2)


@pytest.fixture(scope="session")
def demo_tables():
    return demo_dataset("small").tables


@pytest.fixture(scope="session")
def demo_p102_outputs(demo_tables):
    """Every model output of demo project 102, in memory (small tuning budget)."""
    return model_outputs(demo_tables, 102, tuning=SMALL_TUNING, n_boot=20, n_draws=100)


@pytest.fixture(scope="session")
def demo_p102(demo_tables, demo_p102_outputs):
    """Demo project 102 (5 brands x 12 months; brand_equity_index null) with every model output, in memory."""
    return demo_report_data(demo_tables, 102, dq=DQ, **demo_p102_outputs)


@pytest.fixture(scope="session")
def techcorp_p2_models(techcorp):
    return demo_report_data(techcorp, 2, dq=DQ, **model_outputs(techcorp, 2, tuning=SMALL_TUNING, n_boot=20))
