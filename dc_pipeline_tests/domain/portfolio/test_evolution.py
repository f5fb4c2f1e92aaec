"""Cross-project evolution: TechCorp Q1 -> Q2 against SPEC §4, the exact value/mix split, the Jaccard check."""

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.demo.report_inputs import demo_report_data
from dc_pipeline.demo.techcorp import techcorp_tables
from dc_pipeline.domain.portfolio.evolution import brand_evolution, jaccard, not_comparable_reason
from dc_pipeline.domain.scoring import compute_dc_scores
from dc_pipeline.domain.source_tables import SECTIONS

# SPEC §4 table, Q2 minus Q1 per brand (TechPhone 1, TechLaptop 2, TechWatch 3).
Q1 = {1: (82.3, 75.2, 79.1, 77.8), 2: (88.1, 83.5, 84.7, 84.5), 3: (74.5, 68.9, 73.2, 71.8)}
Q2 = {1: (84.1, 78.5, 81.8, 80.4), 2: (90.2, 86.1, 87.5, 87.4), 3: (78.2, 72.1, 76.9, 76.0)}


def test_techcorp_q1_to_q2_reproduces_the_spec_deltas():
    tables = techcorp_tables()
    data = demo_report_data(tables, 2)
    evolution, ranking = brand_evolution(data.scores, data.metrics, tables["projects"])
    evolution = evolution.set_index("brand_id")
    assert set(evolution.index) == {1, 2, 3}
    for brand, delta in {1: 2.6, 2: 2.6, 3: 3.7}.items():
        row = evolution.loc[brand]
        assert (row["from_project"], row["to_project"], row["jaccard"], row["status"]) == (1, 2, 1.0, "ok")
        assert row["delta_dc"] == pytest.approx(delta, abs=1e-9)
        expected = {s: b - a for s, a, b in zip(SECTIONS, Q1[brand], Q2[brand])}
        assert row["section_deltas"] == pytest.approx(expected, abs=1e-9)
        # Same framework, same weights: the whole change is a value effect.
        assert row["value_effect"] == pytest.approx(delta, abs=1e-9)
        assert row["mix_effect"] == pytest.approx(0.0, abs=1e-12)
    laptop = ranking[ranking["brand_id"] == 2].set_index("project_id")
    assert laptop["rank"].to_dict() == {2: 1, 1: 2}
    assert laptop["consistency_across_projects"].iloc[0] == pytest.approx(
        1 - np.std([85.2, 87.8], ddof=1) / np.mean([85.2, 87.8]), abs=1e-3
    )


def _project(project_id, metrics, values, start):
    """One brand (7) in one project: metrics [(section, platform, name, weight)], values by name."""
    mdefs = pd.DataFrame(
        [
            dict(metric_id=project_id * 100 + i, project_id=project_id, section_name=s, platform_name=p,
                 metric_name=n, metric_type="maximize", weight=w, effort_cost=1.0, is_active=True)
            for i, (s, p, n, w) in enumerate(metrics)
        ]
    )  # fmt: skip
    rows = [
        dict(project_id=project_id, brand_id=7, metric_id=project_id * 100 + i, period=pd.Timestamp(start),
             normalized_value=values[n])
        for i, (_, _, n, _) in enumerate(metrics)
        if n in values
    ]  # fmt: skip
    return mdefs, pd.DataFrame(rows)


def test_value_plus_mix_is_exactly_the_dc_change_when_the_framework_changes():
    rng = np.random.default_rng(11)
    base = [(s, f"P{k}", f"{s[:3]}_{k}_{j}", float(rng.choice([0.5, 1, 1.5, 2]))) for s in SECTIONS
            for k in range(2) for j in range(3)]  # fmt: skip
    later = [(s, p, n, float(rng.choice([0.5, 1, 2]))) for s, p, n, _ in base[2:]]  # 2 dropped, weights changed
    later += [("Socialwatch", "P9", "new_metric", 1.0)]  # 1 added
    m1, v1 = _project(1, base, {n: float(rng.uniform(40, 95)) for _, _, n, _ in base}, "2024-01-01")
    m2, v2 = _project(2, later, {n: float(rng.uniform(40, 95)) for _, _, n, _ in later[:-3]}, "2024-04-01")
    scores = compute_dc_scores(pd.concat([v1, v2]), pd.concat([m1, m2]))
    projects = pd.DataFrame(
        {"project_id": [1, 2], "series_group": ["g", "g"], "start_date": ["2024-01-01", "2024-04-01"]}
    )
    evolution, _ = brand_evolution(scores, pd.concat([m1, m2]), projects)
    row = evolution.iloc[0]
    assert row["jaccard"] == pytest.approx(jaccard(frozenset(x[:3] for x in base), frozenset(x[:3] for x in later)))
    assert row["jaccard"] >= 0.7 and row["status"] == "ok"
    dc = scores.brands.set_index("project_id")["dc_score"]
    assert row["delta_dc"] == pytest.approx(dc[2] - dc[1], abs=1e-12)
    assert row["value_effect"] + row["mix_effect"] == pytest.approx(dc[2] - dc[1], abs=1e-9)
    assert abs(row["mix_effect"]) > 0.01  # the weights did change
    assert sum(row["value_effect_by_section"].values()) == pytest.approx(row["value_effect"], abs=1e-9)
    assert sum(row["mix_effect_by_section"].values()) == pytest.approx(row["mix_effect"], abs=1e-9)


def test_a_changed_framework_is_not_compared():
    first = [(s, "P", f"a{i}", 1.0) for i, s in enumerate(SECTIONS)]
    second = [(s, "P", f"b{i}", 1.0) for i, s in enumerate(SECTIONS)] + first[:2]
    m1, v1 = _project(1, first, {n: 70.0 for *_, n, _ in first}, "2024-01-01")
    m2, v2 = _project(2, second, {n: 80.0 for *_, n, _ in second}, "2024-04-01")
    scores = compute_dc_scores(pd.concat([v1, v2]), pd.concat([m1, m2]))
    projects = pd.DataFrame({"project_id": [1, 2], "series_group": [None, None], "start_date": ["2024-01-01"] * 2})
    row = brand_evolution(scores, pd.concat([m1, m2]), projects)[0].iloc[0]
    assert row["status"] == "not_comparable"
    assert row["jaccard"] == pytest.approx(2 / 8)
    assert row["reason"] == "framework changed (Jaccard 0.25): scores not comparable"
    assert pd.isna(row["delta_dc"]) and pd.isna(row["value_effect"])
    assert not_comparable_reason(0.45) == "framework changed (Jaccard 0.45): scores not comparable"
