"""One tuning study per project and series, shared by the project's brands (SPEC §6b tuned tier, §6d).

Tuning every (project, brand, series) on its own opened a study per pair and series (29 pairs x 14 series on the
small demo) and paid Optuna's storage round trips for each of their trials. Here the same series of a project's
brands (e.g. the DC of every tracked brand of p101) is tuned once: a trial fits its candidate on each brand's
series and scores the mean backtest MASE over them, so one candidate is chosen for what the brands have in
common and no brand's noise decides alone. Each brand then publishes that candidate with its own fit, its own
rolling-origin backtest (the one the best trial ran on it) and the publishing rule applied to its own relative
MASE (`forecast_series(..., tuned=...)`).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import scipy.linalg  # noqa: F401 (loads OpenBLAS before single_threaded, which limits loaded libraries only)

from dc_pipeline.domain.data_version import version_hex
from dc_pipeline.domain.forecasting.forecast import tuning_input
from dc_pipeline.domain.forecasting.tuned import TuningOutcome, tune
from dc_pipeline.domain.panels import brand_series
from dc_pipeline.domain.thread_limits import single_threaded
from dc_pipeline.domain.tuning_settings import TuningSettings, study_name

FORECAST_KIND = "forecast"


def shared_study_name(project_id: int, series: str, brand_series_: dict[int, pd.Series]) -> str:
    """`forecast|<project>|all|<series>|<data version of every tuned brand's series>`: new data, new study."""
    rows = pd.concat({b: y.dropna() for b, y in sorted(brand_series_.items())}, names=["brand_id", "period"])
    return study_name(FORECAST_KIND, project_id, None, series, version_hex(rows.rename("value").reset_index()))


def tune_project_series(
    obs: pd.DataFrame,
    project_id: int,
    brand_ids: list[int],
    *,
    kind_of: Callable[[str], str],
    m: int,
    horizon: int,
    settings: TuningSettings,
    study_factory: Callable,
) -> dict[int, dict[str, TuningOutcome]]:
    """brand -> series -> the shared study's outcome with that brand's own backtest of the best candidate,
    for every series in the tuned tier (the other tiers need no study)."""
    per_brand = {b: brand_series(obs, b) for b in brand_ids}
    outcomes: dict[int, dict[str, TuningOutcome]] = {b: {} for b in brand_ids}
    for series in next(iter(per_brand.values()), {}):
        group, members = [], {}
        for b in brand_ids:
            try:
                prepared = tuning_input(per_brand[b][series], kind_of(series), m)
            except ValueError:  # off the grain grid: forecast_series reports it for that brand
                prepared = None
            if prepared is not None:
                group.append(prepared)
                members[b] = per_brand[b][series]
        if not group:
            continue
        study = study_factory(shared_study_name(project_id, series, members), "minimize")
        with single_threaded("blas"):  # tiny matrices: BLAS threads only contend
            outcome = tune(group, horizon, settings, study)
        for i, b in enumerate(members):
            outcomes[b][series] = TuningOutcome(outcome.spec, outcome.summary, [outcome.backtests[i]])
    return outcomes
