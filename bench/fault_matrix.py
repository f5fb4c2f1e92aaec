"""The fault matrix (issue 16): faults and bad inputs tried against real parts - a private Postgres with the demo
data, real Dagster runs, the API simulator over HTTP, the `dc-pipeline` command in real folders, a real
`dagster dev` - with secrets set to unique markers that must never show.

    python bench/fault_matrix.py [--skip GROUP ...] [--only GROUP ...]

Groups: rows, api, concurrent, database, backups, folders, secrets, worker (about 5-10 minutes in all; `worker`
starts `dagster dev` and is the slowest). Prints one line per case and the counts: tried, survived (handled and
kept going), failed clearly (refused with a message naming the cause, nothing lost), FAILED (anything else),
stored rows lost and secrets leaked (into run events and metadata, reports, logs, operations tables, command
output or error messages). Exit 1 when any case FAILED, lost rows or leaked.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable

from fault_cases import api, files, runs, source_rows
from fault_cases.lab import CLEAR, FAILED, SURVIVED, Case, Lab

GROUPS: dict[str, Callable[[Lab], Case | list[Case]]] = {
    "rows": lambda lab: [*source_rows.bad_rows(lab), source_rows.unreadable_value(lab)],
    "api": api.api_faults,
    "concurrent": runs.concurrent_runs,
    "database": runs.killed_database,
    "backups": files.backups,
    "folders": files.folders,
    "secrets": files.secrets_in_errors,
    "worker": runs.killed_run_worker,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=list(GROUPS), default=list(GROUPS))
    parser.add_argument("--skip", nargs="*", choices=list(GROUPS), default=[])
    args = parser.parse_args()
    started = time.monotonic()
    lab = Lab.create()
    cases: list[Case] = []
    try:
        for name in [g for g in GROUPS if g in args.only and g not in args.skip]:
            t0 = time.monotonic()
            try:
                result = GROUPS[name](lab)
                cases.extend(result if isinstance(result, list) else [result])
            except Exception as exc:  # a case that crashes the harness is a failure of the product or the case
                lab.texts.append((f"{name} crash", traceback.format_exc()))
                cases.append(Case(f"{name}: crashed", FAILED, f"{type(exc).__name__}: {str(exc)[:120]}"))
            print(f"[{name}: {time.monotonic() - t0:.0f} s]", file=sys.stderr)
        leaks = lab.leaks()
    finally:
        lab.close()

    width = max(len(c.name) for c in cases)
    print(f"{'case':<{width}}  {'verdict':<14} {'lost':>5}  note")
    for c in cases:
        print(f"{c.name:<{width}}  {c.verdict:<14} {c.lost:>5}  {c.note}")
    counts = {v: sum(c.verdict == v for c in cases) for v in (SURVIVED, CLEAR, FAILED)}
    lost = sum(c.lost for c in cases)
    print()
    print(f"{'tried':>7} {'survived':>9} {'failed clearly':>15} {'FAILED':>7} {'lost rows':>10} {'leaked':>7}")
    print(f"{len(cases):>7} {counts[SURVIVED]:>9} {counts[CLEAR]:>15} {counts[FAILED]:>7} {lost:>10} {len(leaks):>7}")
    for leak in leaks:
        print(f"LEAK: {leak}")
    print(f"({time.monotonic() - started:.0f} s; secrets checked: {', '.join(lab.secrets)})")
    return 1 if counts[FAILED] or lost or leaks else 0


if __name__ == "__main__":
    sys.exit(main())
