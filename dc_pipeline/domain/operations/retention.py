"""Which files, backups and Optuna studies are past retention (SPEC §10 maintenance_config, §11).

Pure selection on frames of (item, timestamp): the callers list the items and delete what is chosen.
All timestamps are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True)


def expired(frame: pd.DataFrame, now: datetime, retention_days: int, column: str = "modified_at") -> pd.DataFrame:
    """Rows whose `column` is strictly older than `now - retention_days`."""
    if frame.empty:
        return frame.iloc[0:0]
    cutoff = pd.Timestamp(now) - timedelta(days=retention_days)
    return frame[_utc(frame[column]) < cutoff]


def expired_report_files(files: pd.DataFrame, now: datetime, retention_days: int) -> pd.DataFrame:
    """Report files past retention, never `latest.*` nor the newest timestamped file per
    (partition, report_id, ext). Columns in: path, partition, report_id, name, modified_at."""
    if files.empty:
        return files.iloc[0:0]
    frame = files.copy()
    frame["_ext"] = frame["name"].str.rsplit(".", n=1).str[-1]
    frame["_ts"] = _utc(frame["modified_at"])
    is_latest = frame["name"].str.startswith("latest.")
    stamped = frame[~is_latest]
    newest = stamped.sort_values("_ts").groupby(["partition", "report_id", "_ext"]).tail(1).index
    candidates = stamped.drop(index=newest)
    return expired(candidates, now, retention_days, "_ts")[list(files.columns)]


def backups_to_keep(backups: pd.DataFrame, daily: int, weekly: int, monthly: int) -> set:
    """Grandfather-father-son: the newest backup of each of the `daily` most recent days, `weekly`
    most recent ISO weeks and `monthly` most recent months that have backups. Columns in: path,
    created_at. Returns the kept paths (the newest backup is always kept)."""
    if backups.empty:
        return set()
    frame = backups.copy()
    frame["_ts"] = _utc(frame["created_at"])
    frame = frame.sort_values("_ts", ascending=False)
    naive = frame["_ts"].dt.tz_convert(None)
    iso = naive.dt.isocalendar()
    buckets = {
        "day": (naive.dt.strftime("%Y-%m-%d"), daily),
        "week": (iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2), weekly),
        "month": (naive.dt.strftime("%Y-%m"), monthly),
    }
    kept = {frame["path"].iloc[0]}
    for bucket, count in buckets.values():
        newest_per_bucket = frame.assign(_b=bucket.values).drop_duplicates("_b", keep="first")
        kept.update(newest_per_bucket["path"].head(max(count, 0)))
    return kept


def backups_to_delete(backups: pd.DataFrame, daily: int, weekly: int, monthly: int) -> pd.DataFrame:
    kept = backups_to_keep(backups, daily, weekly, monthly)
    return backups[~backups["path"].isin(kept)] if not backups.empty else backups


def study_group(study_name: str) -> str:
    """(kind, project, brand, target) of a study named kind|project|brand|target|data_version (SPEC §6d)."""
    return "|".join(study_name.split("|")[:4])


def studies_to_delete(
    studies: pd.DataFrame,
    now: datetime,
    retention_days: int,
    keep_per_group: int = 3,
    referenced: set[str] | frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """Studies whose last trial activity is older than the retention window, except the
    `keep_per_group` newest per (kind, project, brand, target) and those a registry entry
    references. A study without trials has no age and is kept. Columns in: study_id, study_name,
    last_activity."""
    if studies.empty:
        return studies.iloc[0:0]
    frame = studies.copy()
    frame["_ts"] = _utc(frame["last_activity"])
    frame["_group"] = frame["study_name"].map(study_group)
    ranked = frame.sort_values("_ts", ascending=False, na_position="first")
    newest = ranked.groupby("_group").head(keep_per_group).index
    candidates = frame.drop(index=newest)
    candidates = candidates[candidates["_ts"].notna() & ~candidates["study_name"].isin(set(referenced))]
    return expired(candidates, now, retention_days, "_ts")[list(studies.columns)]
