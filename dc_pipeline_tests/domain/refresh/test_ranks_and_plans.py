"""Rank and knee-plan changes between two refreshes, on frames whose answer is known by construction."""

import pandas as pd
import pytest

from dc_pipeline.domain.refresh.plans import plan_change_text, plan_changes
from dc_pipeline.domain.refresh.ranks import rank_changes, rank_churn

NAMES = {1: "Brand A", 2: "Brand B", 3: "Brand C", 4: "Brand D", 5: "Brand E"}


def _scores(period: str, dc: dict[int, float | None], run_id: str | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"project_id": 7, "brand_id": list(dc), "period": pd.Timestamp(period),
                          "dc_score": [float("nan") if v is None else v for v in dc.values()]})  # fmt: skip
    frame["rank"] = frame["dc_score"].rank(ascending=False, method="min").astype("Int64")
    return frame.assign(run_id=run_id) if run_id else frame


def test_rank_changes_name_every_move_and_the_churn_sentence():
    before = pd.concat(
        [
            _scores("2024-11-01", {1: 90, 2: 80, 3: 70, 4: 60, 5: 50}, "run-1"),
            _scores("2024-12-01", {1: 90, 2: 80, 3: 70, 4: 60, 5: None}, "run-1"),
        ]  # fmt: skip
    )
    after = pd.concat(
        [
            _scores("2024-11-01", {1: 90, 2: 80, 3: 70, 4: 60, 5: 50}),
            _scores("2024-12-01", {1: 85, 2: 75, 3: 70, 4: 95, 5: 40}),
        ]  # fmt: skip
    )
    changes = rank_changes(before, after)
    assert len(changes) == 10 and set(changes["previous_run_id"]) == {"run-1"}
    latest = changes[changes["period"] == pd.Timestamp("2024-12-01")].set_index("brand_id")
    # Brand D 4 -> 1 (up 3); A 1 -> 2, B 2 -> 3 and C 3 -> 4 each down one; E is ranked for the first time
    assert latest.loc[4, ["previous_rank", "rank", "rank_move", "change"]].tolist() == [4, 1, 3, "up"]
    assert latest.loc[1, "change"] == "down" and latest.loc[3, "change"] == "down"
    assert latest.loc[5, "change"] == "new" and bool(latest.loc[5, "changed"])
    assert not changes[changes["period"] == pd.Timestamp("2024-11-01")]["changed"].any()
    churn = rank_churn(changes, NAMES)[7]
    assert churn["n_brands"] == 4 and churn["n_changed"] == 4 and churn["n_new"] == 1
    assert churn["largest_move"] == {"brand_id": 4, "brand_name": "Brand D", "previous_rank": 4, "rank": 1,
                                     "rank_move": 3}  # fmt: skip
    assert churn["text"] == (
        "4 of 4 brands changed rank in 2024-12-01 since the last refresh; largest move Brand D 4 -> 1 "
        "(1 newly ranked, 5 of 10 brand-periods changed over all periods)"
    )


def test_an_unchanged_refresh_records_no_change_and_a_first_one_nothing():
    scores = _scores("2024-12-01", {1: 90, 2: 80})
    changes = rank_changes(scores.assign(run_id="run-1"), scores)
    assert len(changes) == 2 and not changes["changed"].any() and (changes["rank_move"] == 0).all()
    assert rank_churn(changes, NAMES)[7]["text"] == "0 of 2 brands changed rank in 2024-12-01 since the last refresh"
    assert rank_changes(scores.iloc[:0], scores).empty


def _plans(knee: tuple[float, float, list[tuple[int, float]]] | None, run_id: str | None = None) -> dict:
    summary = pd.DataFrame([{"project_id": 7, "brand_id": 4, "period": pd.Timestamp("2024-12-01"),
                             "status": "ok" if knee else "insufficient_data"}])  # fmt: skip
    plans = pd.DataFrame(
        [
            {
                "project_id": 7,
                "brand_id": 4,
                "plan_id": 0,
                "is_knee": True,
                "delta_dc": knee[0],
                "effort": knee[1],
                "metrics": [{"metric_id": m, "delta": d} for m, d in knee[2]],
            }
        ]  # fmt: skip
        if knee
        else [],
        columns=["project_id", "brand_id", "plan_id", "is_knee", "delta_dc", "effort", "metrics"],
    )
    tables = {"brand_recommendation_summaries": summary, "brand_recommendation_plans": plans}
    return {k: v.assign(run_id=run_id) for k, v in tables.items()} if run_id else tables


@pytest.mark.parametrize(
    "after, change",
    [
        ((2.11, 12.04, [(1, 3.0), (2, 0.2)]), "same"),  # ΔDC within display precision, same raised metrics
        ((3.4, 15.2, [(1, 3.0), (2, 4.0)]), "changed"),
        ((2.1, 12.0, [(2, 3.0)]), "changed"),  # same numbers, other metric
        (None, "dropped"),
    ],
)
def test_knee_plan_changes(after, change):
    before = _plans((2.1, 12.0, [(1, 3.0), (2, 0.2)]), "run-1")
    (row,) = plan_changes(before, _plans(after)).to_dict("records")
    assert row["change"] == change and row["changed"] == (change != "same")
    assert row["previous_knee_metrics"] == [1] and row["previous_run_id"] == "run-1"
    if change == "changed" and after[0] == 3.4:
        assert plan_change_text(row) == (
            "knee plan changed since the last refresh: ΔDC +2.1 -> +3.4, effort 12.0 -> 15.2, metrics raised 1 -> 2"
        )
