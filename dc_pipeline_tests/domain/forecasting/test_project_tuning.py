"""One study per project and series, shared by the brands, each brand published on its own backtest."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.domain.forecasting.backtest import run_backtest
from dc_pipeline.domain.forecasting.brands import forecast_project
from dc_pipeline.domain.forecasting.candidates import fit_forecast, warm_chain
from dc_pipeline.domain.forecasting.forecast import tuning_input
from dc_pipeline.domain.forecasting.tuned import spec_from_params
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS
from dc_pipeline.domain.tuning import in_memory_study

from .helpers import FAST_TUNING, trend_series

SETTINGS = replace(FAST_TUNING, n_trials=4)
BRANDS = [11, 12, 13]


def _obs(lengths: dict[int, int]) -> pd.DataFrame:
    """DC only (sections and outcomes never reported): brand b has lengths[b] monthly periods, ending together."""
    frames = []
    for b, n in lengths.items():
        y = trend_series(48, slope=0.3 + 0.1 * (b % 10), noise=1.0, seed=b).iloc[-n:]
        frames.append(pd.DataFrame({"brand_id": b, "period": y.index, "dc": y.to_numpy()}))
    obs = pd.concat(frames, ignore_index=True)
    for column in [*SECTIONS, *OUTCOME_COLUMNS]:
        obs[column] = np.nan
    return obs


def _run(obs, brand_ids, members):
    studies = {}

    def factory(name, direction):
        studies.setdefault(name, in_memory_study(name, direction, SETTINGS))
        return studies[name]

    forecasts = forecast_project(
        obs, 1, brand_ids, members=members, m=12, horizon=12, settings=SETTINGS, study_factory=factory, seed=42
    )
    return {f.brand_id: f for f in forecasts if f.series == "dc"}, studies


@pytest.fixture(scope="module")
def shared():
    return _run(_obs({11: 40, 12: 36, 13: 10}), BRANDS, BRANDS)


def test_tuned_brands_share_one_study_and_the_short_one_needs_none(shared):
    dc, studies = shared
    (name,) = studies
    assert name.startswith("forecast|1|all|dc|")
    assert len(studies[name].trials) == SETTINGS.n_trials
    assert dc[11].result.tier == dc[12].result.tier == "tuned"
    assert dc[11].result.study.study_name == dc[12].result.study.study_name == name
    assert dc[11].result.method == dc[12].result.method  # the shared candidate
    assert dc[13].result.tier == "ets" and dc[13].result.study is None  # 10 periods: no study


def test_each_brand_is_published_on_its_own_backtest(shared):
    dc, _ = shared
    obs = _obs({11: 40, 12: 36, 13: 10})
    for b in (11, 12):
        r = dc[b].result
        series, transform = tuning_input(obs[obs["brand_id"] == b].set_index("period")["dc"], "score", 12)
        spec = spec_from_params(r.study.best_params)
        # The same procedure afresh: each origin's fit started from the one before (candidates.warm_chain).
        chain = warm_chain(lambda z, h, s0, start, spec=spec: fit_forecast(spec, z, h, 12, s0, start))
        fresh = run_backtest(series, transform, chain, 12)
        assert r.backtest["n_origins"] == 6 and r.n_observed == (40 if b == 11 else 36)
        assert r.backtest["mase"] == pytest.approx(fresh.mase) and r.backtest["rel_mase"] == pytest.approx(
            fresh.rel_mase
        )
    assert dc[11].result.backtest["mase"] != pytest.approx(dc[12].result.backtest["mase"])
    # The trial's mean over the brands is the study's best value.
    mean = np.mean([dc[b].result.backtest["mase"] for b in (11, 12)])
    assert dc[11].result.study.best_value == pytest.approx(mean)


def test_a_run_over_one_brand_uses_the_whole_project_study(shared):
    dc, studies = shared
    one, one_studies = _run(_obs({11: 40, 12: 36, 13: 10}), [12], BRANDS)
    assert set(one) == {12} and set(one_studies) == set(studies)
    assert one[12].result.method == dc[12].result.method
    assert one[12].result.backtest["mase"] == pytest.approx(dc[12].result.backtest["mase"])
