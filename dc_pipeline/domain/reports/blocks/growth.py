"""Growth curves of a score series (report 22, SPEC §7 item 22): linear, log-linear (exponential) and logistic
(asymptote <= 100) fits by least squares on the original scale, chosen by AICc; time to reach a target with a
residual-bootstrap interval.

All three curves are fitted to y itself (scipy.optimize.curve_fit for the curved ones), so their residual sums
of squares, and hence AICc = n ln(RSS/n) + 2k + 2k(k+1)/(n-k-1) with k = curve parameters + 1 (the variance),
are comparable. The bootstrap adds resampled residuals to the chosen fit and refits the chosen curve on all
replicates at once: closed-form OLS for the line, and for the curved fits a batched Gauss-Newton warm-started
at the original estimate (a test checks it lands where curve_fit does); 500 curve_fit calls per brand would
not fit the one-second budget of a report."""

from __future__ import annotations

from typing import Any

import numpy as np

BOOTSTRAP_REPS = 500
LOGISTIC_CAP = 100.0
_GN_STEPS = 8


def linear(t, a, b):
    return a + b * t


def log_linear(t, a, b):
    return np.exp(a + b * t)


def logistic(t, k, r, t0):
    return k / (1.0 + np.exp(-r * (t - t0)))


CURVES = {"linear": linear, "log_linear": log_linear, "logistic": logistic}


def _fit_one(name: str, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    from scipy.optimize import curve_fit

    if name == "linear":
        b, a = np.polyfit(t, y, 1)
        return np.array([a, b])
    if name == "log_linear":
        if np.any(y <= 0):
            raise ValueError("log-linear needs positive values")
        b, a = np.polyfit(t, np.log(y), 1)
        return curve_fit(log_linear, t, y, p0=[a, b], jac=_curve_jacobian("log_linear"), maxfev=2000)[0]
    top = float(np.max(y))
    if top >= LOGISTIC_CAP:
        raise ValueError(f"logistic asymptote must be <= {LOGISTIC_CAP:g}")
    p0 = [min(LOGISTIC_CAP, top + 5.0), 0.1, float(np.mean(t))]
    bounds = ([0.9 * top, -3.0, t.min() - 10 * np.ptp(t)], [LOGISTIC_CAP, 3.0, t.max() + 10 * np.ptp(t)])
    return curve_fit(logistic, t, y, p0=p0, bounds=bounds, jac=_curve_jacobian("logistic"), maxfev=4000)[0]


def _curve_jacobian(name: str):
    """The analytic jacobian for curve_fit (a numerical one costs most of its time)."""
    return lambda t, *p: _jacobian(name, np.asarray(t, dtype=float), np.asarray([p], dtype=float))[1][0]


def aicc(rss: float, n: int, n_params: int) -> float:
    k = n_params + 1
    if n - k - 1 <= 0 or rss <= 0:
        return float("inf") if n - k - 1 <= 0 else float("-inf")
    return float(n * np.log(rss / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1))


def fit_curves(t, y) -> dict[str, Any]:
    """Every curve that fits, with AICc and Akaike weight; `chosen` has the lowest AICc (ties: simplest)."""
    t, y = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    fits: dict[str, Any] = {}
    for name, curve in CURVES.items():
        try:
            params = _fit_one(name, t, y)
        except (RuntimeError, ValueError) as exc:
            fits[name] = {"status": "not_fitted", "reason": str(exc).split("\n")[0][:120]}
            continue
        rss = float(np.sum((y - curve(t, *params)) ** 2))
        fits[name] = {
            "status": "ok",
            "params": [float(p) for p in params],
            "rss": rss,
            "aicc": aicc(rss, t.size, len(params)),
        }
    ok = {k: v for k, v in fits.items() if v["status"] == "ok" and np.isfinite(v["aicc"])}
    if not ok:
        return {"fits": fits, "chosen": None}
    best = min(ok.values(), key=lambda v: v["aicc"])["aicc"]
    weights = {k: np.exp(-(v["aicc"] - best) / 2) for k, v in ok.items()}
    total = sum(weights.values())
    for k, v in ok.items():
        v["delta_aicc"] = v["aicc"] - best
        v["akaike_weight"] = float(weights[k] / total)
    chosen = min(ok, key=lambda k: (ok[k]["aicc"], list(CURVES).index(k)))
    return {"fits": fits, "chosen": chosen}


def times_to(name: str, params: np.ndarray, target: float, t_now: float) -> np.ndarray:
    """Per parameter row: periods after t_now until the curve reaches target (0 if there already, inf if never)."""
    p = np.atleast_2d(np.asarray(params, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        now = CURVES[name](t_now, *p.T)
        if name == "linear":
            crossing = np.where(p[:, 1] > 0, (target - p[:, 0]) / p[:, 1], np.inf)
        elif name == "log_linear":
            crossing = np.where(p[:, 1] > 0, (np.log(target) - p[:, 0]) / p[:, 1], np.inf)
        else:
            k, r, t0 = p.T
            ok = (k > target) & (r > 0)
            crossing = np.where(ok, t0 - np.log(np.where(ok, k / target - 1.0, 1.0)) / np.where(ok, r, 1.0), np.inf)
        out = np.where(now >= target, 0.0, np.maximum(0.0, crossing - t_now))
    return np.where(np.isnan(out), np.inf, out)


def time_to(name: str, params, target: float, t_now: float) -> float:
    return float(times_to(name, params, target, t_now)[0])


def _jacobian(name: str, t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values B x n, jacobian B x n x k) of the curved fits for parameter rows p."""
    if name == "log_linear":
        f = np.exp(p[:, :1] + p[:, 1:2] * t)
        return f, np.stack([f, f * t], axis=2)
    k, r, t0 = p[:, :1], p[:, 1:2], p[:, 2:3]
    e = np.exp(-r * (t - t0))
    f = k / (1 + e)
    g = k * e / (1 + e) ** 2
    return f, np.stack([f / k, g * (t - t0), -g * r], axis=2)


def refit_batch(name: str, t: np.ndarray, ys: np.ndarray, start) -> np.ndarray:
    """Parameters of the curve fitted to each row of ys (B x n)."""
    if name == "linear":  # closed-form OLS of every row at once
        tc = t - t.mean()
        slope = (ys - ys.mean(axis=1, keepdims=True)) @ tc / (tc @ tc)
        return np.column_stack([ys.mean(axis=1) - slope * t.mean(), slope])
    p = np.tile(np.asarray(start, dtype=float), (ys.shape[0], 1))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _gauss_newton(name, t, ys, p)


def _gauss_newton(name: str, t: np.ndarray, ys: np.ndarray, p: np.ndarray) -> np.ndarray:
    for _ in range(_GN_STEPS):
        f, jac = _jacobian(name, t, p)
        jtj = np.einsum("bnk,bnl->bkl", jac, jac) + 1e-9 * np.eye(p.shape[1])
        step = np.linalg.solve(jtj, np.einsum("bnk,bn->bk", jac, ys - f)[:, :, None])[:, :, 0]
        p = p + step
        if name == "logistic":
            p[:, 0] = np.clip(p[:, 0], 1e-6, LOGISTIC_CAP)
    return p


def bootstrap_times(
    name: str, params, t, y, targets, confidence_level: float, rng: np.random.Generator, reps: int = BOOTSTRAP_REPS
) -> dict[str, dict[str, Any]]:
    """Per target: the point time, and a percentile interval over the replicates that reach it; the upper
    bound is None (not reached) when fewer than 1 - alpha/2 of the replicates reach the target at all."""
    t, y = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    curve = CURVES[name]
    fitted = curve(t, *params)
    residuals = y - fitted
    ys = fitted[None, :] + residuals[rng.integers(0, y.size, size=(reps, y.size))]
    boot = refit_batch(name, t, ys, params)
    t_now = float(t[-1])
    alpha = 1 - confidence_level
    out = {}
    for target in targets:
        times = times_to(name, boot, target, t_now)
        reached = np.isfinite(times)
        share = float(reached.mean())
        low = float(np.quantile(times[reached], alpha / 2)) if reached.any() else None
        high = float(np.quantile(times, 1 - alpha / 2)) if share >= 1 - alpha / 2 else None
        high = high if high is not None and np.isfinite(high) else None
        out[str(int(target))] = {
            "target": float(target),
            "periods": time_to(name, params, target, t_now),
            "ci_low": low,
            "ci_high": high,
            "share_reaching": share,
            "reps": reps,
        }
    return out
