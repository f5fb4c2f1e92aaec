"""The demo's report stages on a finished demo: where their time goes (reads, compute, render, Dagster) and what
the stage costs end to end, in wall and CPU seconds.

Needs the DC_HOME of a finished `dc-pipeline demo --no-ui` (its embedded cluster holds the stored scores, models,
plans and portfolio). Re-running reports there rewrites only the report pages and index rows.

    DC_HOME=<demo home> REPORTS_DIR=<scratch> python bench/bench_report_stage.py [--job model_reports_job]
        [--profile-project p1] [--workers 2] [--repeat 3] [--envelopes] [--digest] [--compute 3]

1. One project's run of the job in this process under cProfile: seconds per part of the report assets.
2. The stage as the demo runs it (runner.run_stage_in_process: the scored projects cut into `--workers` ranges, one
   forked worker per range): wall seconds and CPU seconds of this process and its workers (not the database's),
   `--repeat` times, with the medians.
3. With `--compute N`: the envelopes of the job's reports for every project built N times in this process (reads
   and compute as one run of all projects does them: one shared key, report by report; no rendering, no Dagster),
   CPU seconds of each pass and their median: the part of the stage the report code computes, with less noise.
4. With `--envelopes`, one line per envelope the stage wrote (REPORTS_DIR/p*/<report>/latest.json): its sha256
   without the fields that change from run to run (VOLATILE); with `--digest`, one sha256 over all of them. Equal
   digests before and after a change mean every report's content, data versions and parameters are unchanged.
Compare jobs or commits in the same session: the machine's load stretches every number (the load average is
printed).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import resource
import statistics
import time
from pathlib import Path

# (label, file fragment, function): cumulative seconds of these calls in the profile of one project's run.
PARTS = (
    ("whole run (execute_in_process)", "job_definition.py", "execute_in_process"),
    ("report asset bodies", "defs/reports/assets.py", "_report"),
    ("  reading inputs (load_report_data)", "defs/reports/envelopes.py", "load_report_data"),
    ("  compute (build_report)", "domain/reports/framework.py", "build_report"),
    ("  publish: render, write, index row", "defs/reports/publish.py", "publish"),
    ("    HTML page (render_html)", "render/html.py", "render_html"),
    ("      charts (figure_svg)", "charts/draw.py", "figure_svg"),
    ("    files (write_report_files)", "adapters/report_store.py", "write_report_files"),
    ("    report_index row (record_report)", "adapters/report_store.py", "record_report"),
    ("Dagster: input loads (reference_snapshot)", "defs/io_manager.py", "load_input"),
    ("Dagster: events stored in Postgres", "event_log/event_log.py", "store_event"),
    ("imports during the run", "<frozen importlib._bootstrap>", "_find_and_load"),
)


# system_metadata fields that differ between two runs of the same code on the same data.
VOLATILE = ("generated_at", "generation_seconds", "dagster_run_id", "code_version", "signature")


def envelope_digests(reports_dir: Path) -> dict[str, str]:
    """p<id>/<report_id> -> sha256 of its latest.json with VOLATILE removed (canonical JSON)."""
    digests = {}
    for path in sorted(Path(reports_dir).glob("p*/*/latest.json")):
        envelope = json.loads(path.read_text(encoding="utf-8"))
        for name in VOLATILE:
            envelope.get("system_metadata", {}).pop(name, None)
        canonical = json.dumps(envelope, sort_keys=True, ensure_ascii=False).encode()
        digests[f"{path.parent.parent.name}/{path.parent.name}"] = hashlib.sha256(canonical).hexdigest()
    return digests


def envelope_cpu(defs, job: str, project_ids: list[int], passes: int) -> list[float]:
    """CPU seconds of each pass building every envelope of `job`'s reports over `project_ids` (one run's sharing)."""
    import uuid

    from dc_pipeline.adapters import postgres, readers
    from dc_pipeline.adapters.database_location import resolve_source_url
    from dc_pipeline.defs.reports.config import ReportConfig, report_params
    from dc_pipeline.defs.reports.envelopes import report_envelope
    from dc_pipeline.defs.resources import SettingsResource

    selected = defs.resolve_job_def(job).asset_layer.selected_asset_keys
    reports = sorted(k.path[-1].removeprefix("report_") for k in selected if k.path[-1].startswith("report_"))
    system = SettingsResource().load()
    params = report_params(ReportConfig(), system)
    seconds = []
    with postgres.connect(resolve_source_url(create=False)) as conn:
        reference = readers.read_reference(conn)
        for _ in range(passes):
            key, started = f"bench-{uuid.uuid4()}", time.process_time()
            for report_id in reports:
                for project_id in project_ids:
                    report_envelope(conn, report_id, project_id, reference, params, system, shared_key=key)
            seconds.append(time.process_time() - started)
    return seconds


def _cumulative(stats: pstats.Stats, fragment: str, function: str) -> float:
    return sum(
        cumulative
        for (path, _, name), (_, _, _, cumulative, _) in stats.stats.items()  # type: ignore[attr-defined]
        if fragment in path and name == function
    )


def _cpu() -> float:
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", default="model_reports_job", help="reports_job, model_reports_job or ingest_job")
    parser.add_argument("--profile-project", default="p1", help="the project profiled in step 1 ('' to skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs of the stage (medians printed)")
    parser.add_argument("--compute", type=int, default=0, help="passes of envelope building alone (see 3.)")
    parser.add_argument("--envelopes", action="store_true", help="print each written envelope's digest")
    parser.add_argument("--digest", action="store_true", help="print one digest over every written envelope")
    args = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", "bench-report-stage-signing-key")

    from dc_pipeline import runner, work_plan
    from dc_pipeline.adapters.database_location import dc_home, resolve_source_url
    from dc_pipeline.definitions import build_definitions

    instance = runner.prepare_instance(dc_home() / "dagster_home", resolve_source_url(create=False))
    defs = build_definitions()
    projects = runner.project_keys(instance)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; job {args.job}; {len(projects)} projects")
    if args.profile_project:
        stage = work_plan.project_stage("profile", args.job, [args.profile_project], projects, 1)
        profile = cProfile.Profile()
        profile.enable()
        ok, failure = runner.execute_batch(defs, instance, stage, stage.batches[0])
        profile.disable()
        if not ok:
            raise SystemExit(f"{args.job} failed for {args.profile_project}: {failure}")
        stats = pstats.Stats(profile)
        print(f"\none run of {args.job} for {args.profile_project}, in process, profiled (profiler overhead included)")
        print(f"{'part':<44}{'seconds':>9}")
        for label, fragment, function in PARTS:
            print(f"{label:<44}{_cumulative(stats, fragment, function):9.2f}")
    stage = work_plan.project_stage("stage", args.job, projects, projects, args.workers)
    print(f"\n{args.job} over {len(projects)} projects in {len(stage.batches)} runs ({args.workers} workers)")
    print(f"{'run':>4}{'wall s':>8}{'cpu s':>8}{'load':>6}")
    walls, cpus = [], []
    for run in range(1, args.repeat + 1):
        wall, cpu = time.perf_counter(), _cpu()
        summary = runner.run_stage_in_process(defs, instance, stage, args.workers)
        walls.append(time.perf_counter() - wall)
        cpus.append(_cpu() - cpu)
        if summary.failed:
            raise SystemExit(f"{args.job} failed: {summary.failed}")
        print(f"{run:>4}{walls[-1]:8.1f}{cpus[-1]:8.1f}{os.getloadavg()[0]:6.1f}")
    if args.repeat > 1:
        print(f"{'med':>4}{statistics.median(walls):8.1f}{statistics.median(cpus):8.1f}")
    if args.compute:
        project_ids = [int(k.removeprefix("p")) for k in projects]
        cpu = envelope_cpu(defs, args.job, project_ids, args.compute)
        print(f"\nenvelopes of {args.job} over {len(projects)} projects, in process: cpu s per pass")
        print(" ".join(f"{c:.2f}" for c in cpu) + f"  median {statistics.median(cpu):.2f}")
    if args.envelopes or args.digest:
        digests = envelope_digests(Path(os.environ.get("REPORTS_DIR") or "reports"))
        if args.envelopes:
            print("\n" + "\n".join(f"{digest[:16]}  {name}" for name, digest in digests.items()))
        if args.digest:
            whole = hashlib.sha256("".join(f"{n} {d}\n" for n, d in digests.items()).encode()).hexdigest()
            print(f"\ndigest of {len(digests)} envelopes: {whole}")
    instance.dispose()


if __name__ == "__main__":
    main()
