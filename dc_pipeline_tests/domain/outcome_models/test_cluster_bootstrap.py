"""Effect intervals that hold with few brands (SPEC §6a): the wild cluster restricted bootstrap.

The simulations follow the case of issue 11: 6 brands, 20 periods, log revenue independent of the
DC score, each brand with its own level and AR(1) drift in both series (so brand-periods of one
brand are not independent), brands independent of each other. Bounds, for N seeds:
- 95 %: the interval excludes zero in at most 7 % of null seeds (nominal 5 %; 7 % is 2 standard
  errors above it at N = 250) and in at least 2 % (an interval that never excludes zero is useless);
- 80 %: excludes zero in at most 25 % (nominal 20 %, +2 standard errors) and at least 13 %;
- with a known effect, on a harder panel (brands with 12 to 20 periods and noise sd differing
  threefold), the 95 % interval covers the true value in at least 90 % of seeds, the 80 % in at
  least 75 %, and the 95 % interval excludes zero in at least half of them (the test has power).
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from dc_pipeline.domain.outcome_models.cluster_bootstrap import wild_cluster_bootstrap

N_SEEDS = 250
N_BOOT = 399
LEVELS = (0.8, 0.95)


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    shocks = rng.normal(0.0, sd, n)
    out = np.empty(n)
    out[0] = shocks[0] / np.sqrt(1 - phi**2)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + shocks[i]
    return out


def panel(seed: int, beta: float = 0.0, n_brands: int = 6, periods=(20, 20), noise_sd=(0.05, 0.05)):
    """brand codes, DC and log revenue = brand level + beta * DC + AR(1) noise."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(periods[0], periods[1] + 1, n_brands)
    sds = rng.uniform(*noise_sd, n_brands)
    brand = np.repeat(np.arange(n_brands), lengths)
    dc = np.concatenate([rng.normal(72, 6) + _ar1(rng, n, 0.7, 2.0) for n in lengths])
    noise = np.concatenate([rng.normal(0, 0.3) + _ar1(rng, n, 0.7, sd) for n, sd in zip(lengths, sds)])
    return brand, dc, 15.0 + beta * dc + noise


def design(brand: np.ndarray, dc: np.ndarray, fixed_effects: bool) -> tuple[np.ndarray, np.ndarray]:
    other = (brand[:, None] == np.unique(brand)[None, :]).astype(float) if fixed_effects else np.ones((len(dc), 1))
    x = np.column_stack([dc, other])
    contrast = np.zeros(x.shape[1])
    contrast[0] = 1.0
    return x, contrast


def intervals(seed: int, beta: float, fixed_effects: bool, **panel_kwargs) -> dict[float, tuple[float, float]]:
    brand, dc, z = panel(seed, beta, **panel_kwargs)
    x, contrast = design(brand, dc, fixed_effects)
    return wild_cluster_bootstrap(x, z, brand, contrast, levels=LEVELS, n_boot=N_BOOT, seed=seed).intervals


@pytest.mark.parametrize("fixed_effects", [False, True], ids=["pooled", "brand_fixed_effects"])
def test_on_null_data_intervals_exclude_zero_as_rarely_as_their_level_says(fixed_effects):
    runs = [intervals(seed, 0.0, fixed_effects) for seed in range(N_SEEDS)]
    excludes = {level: np.mean([not (r[level][0] <= 0.0 <= r[level][1]) for r in runs]) for level in LEVELS}
    assert 0.02 <= excludes[0.95] <= 0.07, excludes
    assert 0.13 <= excludes[0.8] <= 0.25, excludes


def test_with_a_known_effect_intervals_cover_it_and_have_power():
    beta = 0.02
    kwargs = {"periods": (12, 20), "noise_sd": (0.02, 0.06)}
    runs = [intervals(seed, beta, True, **kwargs) for seed in range(N_SEEDS)]
    covers = {level: np.mean([r[level][0] <= beta <= r[level][1] for r in runs]) for level in LEVELS}
    assert covers[0.95] >= 0.90 and covers[0.8] >= 0.75, covers
    assert np.mean([r[0.95][0] > 0 for r in runs]) >= 0.5


def test_estimate_and_standard_error_are_ols_with_cluster_robust_errors():
    brand, dc, z = panel(3, beta=0.01)
    x, contrast = design(brand, dc, fixed_effects=True)
    result = wild_cluster_bootstrap(x, z, brand, contrast, n_boot=99)
    fit = sm.OLS(z, x).fit(cov_type="cluster", cov_kwds={"groups": brand, "use_correction": False})
    assert result.estimate == pytest.approx(fit.params[0])
    assert result.se == pytest.approx(fit.bse[0], rel=1e-9)
    assert result.n_clusters == 6 and 0.0 <= result.p_value <= 1.0
    low, high = result.intervals[0.95]
    assert low < result.estimate < high


def test_intervals_nest_and_move_with_the_data():
    brand, dc, z = panel(5)
    x, contrast = design(brand, dc, fixed_effects=True)
    base = wild_cluster_bootstrap(x, z, brand, contrast, levels=LEVELS, n_boot=199, seed=1)
    assert base.intervals[0.95][0] < base.intervals[0.8][0] < base.intervals[0.8][1] < base.intervals[0.95][1]
    # adding 0.05 * DC to the outcome shifts the OLS fit and every interval by exactly 0.05
    shifted = wild_cluster_bootstrap(x, z + 0.05 * dc, brand, contrast, levels=LEVELS, n_boot=199, seed=1)
    for level in LEVELS:
        assert np.allclose(np.array(shifted.intervals[level]) - 0.05, base.intervals[level], atol=1e-5)


def test_too_few_brands_or_an_unidentified_effect_are_refused_with_the_reason():
    brand, dc, z = panel(1, n_brands=2)
    x, contrast = design(brand, dc, fixed_effects=False)
    with pytest.raises(ValueError, match="2 clusters, 3 needed"):
        wild_cluster_bootstrap(x, z, brand, contrast)
    brand, dc, z = panel(1)
    flat = np.repeat(np.arange(6) * 3.0 + 60, 20)  # DC constant within each brand
    x, contrast = design(brand, flat, fixed_effects=True)
    with pytest.raises(ValueError, match="not identified"):
        wild_cluster_bootstrap(x, z, brand, contrast)
