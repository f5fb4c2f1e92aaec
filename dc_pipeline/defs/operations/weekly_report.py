"""weekly_ops_report: Markdown and HTML from the week's run statistics, Optuna trial counts and the
DQ trend (REPORTS_DIR/ops/weekly_ops_report/<stamp>.{md,html} plus latest)."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.report_store import write_report_files


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_none_\n"
    head = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    body = "".join(
        "| " + " | ".join(f"{v:.1f}" if isinstance(v, float) else str(v) for v in row) + " |\n"
        for row in frame.itertuples(index=False)
    )
    return head + body


def _trial_counts(conn) -> pd.DataFrame:
    if not postgres.table_exists(conn, "optuna.trials"):
        return pd.DataFrame()
    return postgres.read_frame(
        conn, "SELECT state, count(*) AS trials FROM optuna.trials GROUP BY state ORDER BY state"
    )


def _dq_trend(conn, now: datetime) -> pd.DataFrame:
    if not postgres.table_exists(conn, "dc_ops.dq_summary"):
        return pd.DataFrame()
    return postgres.read_frame(
        conn,
        "SELECT summary_date, count(*) AS projects, round(avg(score)::numeric, 2) AS mean_score, "
        "sum((band = 'poor')::int) AS poor FROM dc_ops.dq_summary WHERE summary_date >= {since} "
        "GROUP BY summary_date ORDER BY summary_date",
        {"since": (now - timedelta(days=7)).date()},
    )


def render_weekly_report(
    conn, reports_root: Path, now: datetime, jobs: pd.DataFrame, steps: pd.DataFrame
) -> tuple[dict[str, str], dict]:
    trials, dq = _trial_counts(conn), _dq_trend(conn, now)
    runs = int(jobs["n_runs"].sum()) if len(jobs) else 0
    failed = int(jobs["n_failed"].sum()) if len(jobs) else 0
    facts = {
        "runs": runs,
        "failed_runs": failed,
        "jobs": len(jobs),
        "optuna_trials": int(trials["trials"].sum()) if len(trials) else 0,
        "dq_days": len(dq),
        "week_ending": now.date().isoformat(),
    }
    failure_text = f"{failed} of {runs} finished runs failed" if runs else "no finished runs this week"
    markdown = (
        f"# Weekly operations report, week ending {facts['week_ending']}\n\n{failure_text}.\n\n"
        f"## Run durations by job (s)\n\n{_table(jobs)}\n## Slowest steps (s)\n\n{_table(steps.head(10))}\n"
        f"## Optuna trials by state\n\n{_table(trials) if len(trials) else 'no Optuna studies yet' + chr(10)}\n"
        f"## Data quality trend\n\n{_table(dq)}"
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Weekly operations report</title></head>"
        f"<body><pre>{html.escape(markdown)}</pre></body></html>"
    )
    paths = write_report_files(reports_root, "ops", "weekly_ops_report", {"md": markdown, "html": page}, now)
    return paths, facts
