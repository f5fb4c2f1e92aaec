from datetime import UTC, datetime, timedelta

import pandas as pd

from dc_pipeline.domain.operations import retention as r

NOW = datetime(2025, 3, 31, 12, tzinfo=UTC)


def test_expired_is_strictly_older_than_window():
    files = pd.DataFrame(
        {
            "path": ["a", "b", "c"],
            "modified_at": [NOW - timedelta(days=31), NOW - timedelta(days=29), NOW - timedelta(days=30, seconds=-1)],
        }
    )
    assert list(r.expired(files, NOW, 30)["path"]) == ["a"]


def test_report_files_keep_latest_and_newest_per_report():
    old = NOW - timedelta(days=200)
    files = pd.DataFrame(
        {
            "path": ["p1/r/t1.json", "p1/r/t2.json", "p1/r/latest.json", "p1/r/t1.html", "p2/r/t1.json"],
            "partition": ["p1", "p1", "p1", "p1", "p2"],
            "report_id": ["r"] * 5,
            "name": ["t1.json", "t2.json", "latest.json", "t1.html", "t1.json"],
            "modified_at": [old, old + timedelta(days=1), old, old, old],
        }
    )
    deleted = r.expired_report_files(files, NOW, 90)
    # Only t1.json of p1 goes: t2.json is the newest json there, t1.html the only html, p2's only file stays.
    assert list(deleted["path"]) == ["p1/r/t1.json"]


def test_backup_grandfather_father_son():
    # One backup a day for 400 days.
    stamps = [NOW - timedelta(days=d) for d in range(400)]
    backups = pd.DataFrame({"path": [f"b{d}" for d in range(400)], "created_at": stamps})
    kept = r.backups_to_keep(backups, daily=7, weekly=4, monthly=6)
    assert {f"b{d}" for d in range(7)} <= kept
    months = {pd.Timestamp(s).strftime("%Y-%m") for s in stamps}
    assert len(kept) <= 7 + 4 + 6 and len(kept) >= 7 + 6 - 1  # weeks overlap days
    kept_months = {pd.Timestamp(stamps[int(p[1:])]).strftime("%Y-%m") for p in kept}
    assert len(kept_months) == 6 and len(months) > 6
    deleted = r.backups_to_delete(backups, 7, 4, 6)
    assert len(deleted) + len(kept) == 400 and "b399" in set(deleted["path"])


def test_studies_retention_keeps_newest_and_referenced():
    old = NOW - timedelta(days=200)
    names = [f"outcome|p1|all|revenue|v{i}" for i in range(5)] + ["forecast|p1|b1|dc|v0", "outcome|p2|all|revenue|v0"]
    studies = pd.DataFrame(
        {
            "study_id": range(7),
            "study_name": names,
            "last_activity": [old + timedelta(days=i) for i in range(5)] + [old, pd.NaT],
        }
    )
    deleted = r.studies_to_delete(studies, NOW, 90, keep_per_group=3, referenced={"outcome|p1|all|revenue|v0"})
    assert list(deleted["study_name"]) == ["outcome|p1|all|revenue|v1"]
