"""`dc-pipeline explain REPORT_JSON POINTER`: where a report figure comes from (beyond the SPEC).

Prints the figure at a JSON pointer of a report envelope (a pointer to an insight's figure is followed to the
analysis value it cites), the stored inputs the report read (system_metadata.input_data_versions) with the runs and
materializations that wrote those versions, and, for a DC score, section score or contribution, the source rows
behind it (public.normalisedvalue: id, metric, value, direction, weight, effective weight, contribution) scored
again to check that they give the figure.

Exit codes: 0 explained (and recomputed exactly where the figure is a DC quantity), 1 the source rows no longer
give the figure (or an error, such as no database: one line naming cause and fix), 2 bad arguments (the message
names the fix)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

EXIT_OK, EXIT_MISMATCH, EXIT_USAGE = 0, 1, 2
SHORT_NAMES = {"normalized_value": "value", "metric_type": "direction", "section_name": "section",
               "platform_name": "platform"}  # fmt: skip


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("explain", help="the lineage of a report figure: inputs, runs and the source rows behind it")
    cmd.add_argument("report_json", help="a report's JSON file (REPORTS_DIR/p<id>/<report_id>/latest.json)")
    cmd.add_argument("pointer", help="JSON pointer of the figure, e.g. /analysis/latest_period/brands/11/dc_score")
    cmd.add_argument("--json", action="store_true", help="print JSON instead of text")
    cmd.add_argument("--dsn", default=None, help="a Postgres URL (default: DATABASE_URL, else embedded)")
    cmd.set_defaults(func=cmd_explain)


class UsageError(ValueError):
    pass


def read_envelope(path: str) -> dict:
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"no report file {file}: give the path of a report's .json (e.g. REPORTS_DIR/p101/"
                         "dc_score_performance_analysis/latest.json)")  # fmt: skip
    try:
        envelope = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise UsageError(f"{file} is not JSON ({exc}): give the report's .json, not its .html or .md") from None
    if not isinstance(envelope, dict) or "analysis" not in envelope:
        raise UsageError(f"{file} is not a report envelope (no 'analysis'): give a report's .json")
    return envelope


def cmd_explain(args) -> int:
    from dc_pipeline.adapters import postgres
    from dc_pipeline.cli_ops import dagster_instance, existing_source
    from dc_pipeline.defs.resources import SettingsResource
    from dc_pipeline.domain.reports.json_values import PointerError

    instance = None
    try:
        envelope = read_envelope(args.report_json)
        url = existing_source(args.dsn).url  # never a new empty embedded cluster
        instance = dagster_instance(url)
        with postgres.connect(url) as conn:
            result = explain(conn, envelope, args.pointer, SettingsResource().load().scoring_config, instance)
    except (UsageError, PointerError) as exc:
        print(f"dc-pipeline explain: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if instance is not None:
            instance.dispose()
    print(json.dumps(result, indent=1, default=str) if args.json else render_text(result))
    source = result.get("source") or {}
    return EXIT_MISMATCH if source.get("exact") is False else EXIT_OK


def explain(conn, envelope: dict, pointer: str, config, instance) -> dict:
    """The lineage of the figure at `pointer` as a dict: figure, inputs, source (see the module docstring)."""
    from dc_pipeline.domain.lineage.about import figure_about

    about = figure_about(envelope, pointer)
    return {
        "report": {k: envelope.get(k) for k in ("report_id", "project")}
        | {"generated_at": (envelope.get("system_metadata") or {}).get("generated_at")},
        "figure": {
            "pointer": about.pointer,
            "value": about.value,
            "cited_from": about.cited_from,
            "brand_id": about.brand_id,
            "period": about.period,
            "section": about.section,
            "metric_id": about.metric_id,
        },  # fmt: skip
        "inputs": input_lineage(conn, envelope, instance),
        "source": source_lineage(conn, envelope, about, config),
    }


def input_lineage(conn, envelope: dict, instance) -> list[dict]:
    """Per entry of system_metadata.input_data_versions: the asset partition, whether the stored rows still carry
    that version, the runs that wrote it and their materializations."""
    from dc_pipeline.adapters import readers
    from dc_pipeline.adapters.store import asset_of_table
    from dc_pipeline.defs.lineage import version_materializations
    from dc_pipeline.domain.partition_keys import project_id_of

    out = []
    for key, version in sorted(((envelope.get("system_metadata") or {}).get("input_data_versions") or {}).items()):
        table, _, partition = key.partition("/")
        found = asset_of_table(table)
        item = {"input": key, "version": version, "asset": found[0] if found else None, "partition": partition}
        if found is None:
            out.append({**item, "note": f"{table} is not a stored table of this version of dc_pipeline"})
            continue
        project_id = project_id_of(partition)
        writers = readers.read_version_writers(conn, found[1], project_id, version)
        item |= {"current": version in writers["current"], "stored_now": writers["current"], "runs": writers["runs"]}
        if instance is None:
            item["note"] = "Dagster instance not available (set DAGSTER_HOME): runs from the stored rows only"
        else:
            item["materializations"] = version_materializations(instance, found[0], table, project_id, version,
                                                                writers["runs"])  # fmt: skip
        out.append(item)
    return out


def source_lineage(conn, envelope: dict, about, config) -> dict:
    """The stored DC quantity the figure is and the source rows that recompute it; a note when it is none."""
    from dc_pipeline.adapters import readers, source_reader
    from dc_pipeline.domain.lineage.trace import changed_since_validation, identify, recompute, stored_quantities

    missing = [w for w, v in (("brand", about.brand_id), ("period", about.period)) if v is None]
    if missing:
        return {"note": f"the figure names no {' or '.join(missing)}: it is not one brand-period's DC quantity, so "
                        "no source rows stand behind it alone"}  # fmt: skip
    if not isinstance(about.value, (int, float)) or isinstance(about.value, bool):
        return {"note": f"the figure is {about.value!r}, not a number: only a DC score, section score or "
                        "contribution has source rows to recompute it from"}  # fmt: skip
    own_project = (envelope.get("project") or {}).get("project_id")
    projects = (envelope.get("data_context") or {}).get("projects_analyzed") or [own_project]
    scores = readers.read_dc_scores(conn, projects, [about.brand_id])
    quantity = identify(about, stored_quantities(scores, about.brand_id, about.period), own_project)
    if quantity is None:
        return {"note": f"no stored DC score, section score or contribution of brand {about.brand_id} in "
                        f"{about.period} equals {about.value!r} (the stored scores may have been refreshed since "
                        "the report, or the figure is another kind of number)"}  # fmt: skip
    validated = readers.read_brand_period_values(conn, quantity.project_id, quantity.brand_id, quantity.period)
    source = source_reader.read_values_by_id(conn, [int(i) for i in validated["id"]])
    moved = changed_since_validation(validated, source)
    metrics = readers.read_validated_metrics(conn, quantity.project_id)
    again = recompute(quantity, float(about.value), source, metrics, config)
    return {
        "quantity": quantity.describe(readers.read_brand_names(conn).get(quantity.brand_id)),
        "kind": quantity.kind,
        "project_id": quantity.project_id,
        "stored": quantity.stored,
        "recomputed": again.value,
        "exact": again.exact,
        "rows": again.rows.to_dict("records"),
        "n_validated_rows": len(validated),
        "changed_since_validation": moved,
    }


def render_text(result: dict) -> str:
    f, lines = result["figure"], []
    report = result["report"]
    lines.append(f"report  {report['report_id']} p{(report.get('project') or {}).get('project_id')} generated "
                 f"{report['generated_at']}")  # fmt: skip
    lines.append(
        f"figure  {f['pointer']} = {f['value']!r}" + (f"  (cited at {f['cited_from']})" if f["cited_from"] else "")
    )
    about = ", ".join(f"{k} {f[k]}" for k in ("brand_id", "period", "section", "metric_id") if f[k] is not None)
    lines.append(f"about   {about or 'no brand, period, section or metric named along the pointer'}")
    lines.append("inputs  (system_metadata.input_data_versions)")
    for i in result["inputs"]:
        state = "" if "current" not in i else ("current" if i["current"] else f"replaced since by {i['stored_now']}")
        lines.append(f"  {i['input']:<34} {i['version'][:19]}…  {i['asset'] or '?'} {i['partition']}  {state}")
        for m in i.get("materializations") or []:
            lines.append(f"      written by run {m['run_id']} at {m['materialized_at']} (partition {m['partition']})")
        if not i.get("materializations") and i.get("runs"):
            lines.append(f"      written by run(s) {', '.join(i['runs'])}")
        if i.get("note"):
            lines.append(f"      {i['note']}")
    s = result["source"]
    if "note" in s:
        return "\n".join([*lines, f"source  {s['note']}"])
    lines.append(f"source  {s['quantity']}: stored {s['stored']!r}")
    rows = pd.DataFrame(s["rows"]).rename(columns=SHORT_NAMES)
    lines.append(
        f"  public.normalisedvalue rows ({len(rows)} of the brand-period's {s['n_validated_rows']} validated):"
    )
    lines += ["    " + r for r in rows.to_string(index=False, float_format=lambda v: f"{v:.6g}").splitlines()]
    verdict = "= the figure (exact to 1e-9)" if s["exact"] else "!= the figure"
    lines.append(f"  recomputed from these rows: {s['recomputed']!r} {verdict}")
    if s["changed_since_validation"]:
        lines.append(f"  source rows changed since validation: ids {s['changed_since_validation'][:20]}")
    return "\n".join(lines)
