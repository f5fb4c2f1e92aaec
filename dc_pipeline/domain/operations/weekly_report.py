"""weekly_ops_report: Markdown and HTML from the week's run statistics, Optuna trial counts and the DQ trend."""

from __future__ import annotations

import html
from datetime import datetime

import pandas as pd


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_none_\n"
    head = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    body = "".join(
        "| " + " | ".join(f"{v:.1f}" if isinstance(v, float) else str(v) for v in row) + " |\n"
        for row in frame.itertuples(index=False)
    )
    return head + body


def render_weekly_report(
    now: datetime, jobs: pd.DataFrame, steps: pd.DataFrame, trials: pd.DataFrame, dq: pd.DataFrame
) -> tuple[dict[str, str], dict]:
    """({"md": markdown, "html": page}, facts) of the week's run statistics, Optuna trials and DQ trend."""
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
    return {"md": markdown, "html": page}, facts
