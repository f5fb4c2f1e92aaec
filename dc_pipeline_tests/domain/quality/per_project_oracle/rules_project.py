"""Project-level rules: T2 (staleness of the latest update) and W1 (row volume)."""

from __future__ import annotations

import pandas as pd

from dc_pipeline_tests.domain.quality.per_project_oracle.context import ProjectContext, as_datetime
from dc_pipeline_tests.domain.quality.per_project_oracle.tally import RuleRows, no_units, tally_units

VOLUME_TOLERANCE = 0.20
FIRST_RUN_MIN_SHARE = 0.50


def rule_t2(ctx: ProjectContext, *frames: pd.DataFrame) -> RuleRows:
    if not ctx.is_active:
        return no_units("T2", f"not applicable: project status {ctx.status}")
    stamps = [as_datetime(f["updated_at"]) for f in frames if "updated_at" in f and len(f)]
    if not any(len(f) for f in frames):
        return tally_units("T2", None, [False], lambda f, u: "no rows landed, so no update time", "")
    if not stamps:
        return no_units("T2", "updated_at not provided with the landed rows")
    latest = max((s.max() for s in stamps), default=pd.NaT)
    if pd.isna(latest):
        return tally_units("T2", None, [False], lambda f, u: "updated_at is null on every landed row", "")
    age_days = (ctx.as_of - latest) / pd.Timedelta(days=1)
    limit = ctx.config.max_staleness_days
    return tally_units(
        "T2",
        None,
        [age_days <= limit],
        lambda f, u: (
            f"latest update {latest:%Y-%m-%d %H:%M} is {age_days:.1f} days before "
            f"{ctx.as_of:%Y-%m-%d %H:%M}, limit {limit} days"
        ),
        "",
    )


def rule_w1(n_rows: int, previous_row_count: int | None, expected_cells: int) -> RuleRows:
    if previous_row_count:
        change = (n_rows - previous_row_count) / previous_row_count
        return tally_units(
            "W1",
            None,
            [abs(change) <= VOLUME_TOLERANCE + 1e-12],
            lambda f, u: (
                f"row count {n_rows} vs {previous_row_count} in the previous successful run "
                f"({change:+.1%}, limit ±{VOLUME_TOLERANCE:.0%})"
            ),
            "",
        )
    if expected_cells <= 0:
        return tally_units(
            "W1",
            None,
            [False],
            lambda f, u: (
                f"first run: {n_rows} rows but 0 expected cells "
                "(no usable active metrics, member brands or covered periods)"
            ),
            "",
        )
    share = n_rows / expected_cells
    return tally_units(
        "W1",
        None,
        [share >= FIRST_RUN_MIN_SHARE],
        lambda f, u: (
            f"first run: {n_rows} rows for {expected_cells} expected cells "
            f"({share:.1%}, need >= {FIRST_RUN_MIN_SHARE:.0%})"
        ),
        "",
    )
