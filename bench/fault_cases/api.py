"""Faults of the Digi-Cadence API, served over real HTTP by the simulator with its fault switches: transient
errors and broken bodies must cost retries, not the pull; an outage or a wrong key must fail the pull naming the
service and what each base URL answered, leaving the stored pull as it was."""

from __future__ import annotations

import os

from dc_pipeline import runner
from dc_pipeline.defs.api.schedules import api_run_config, fail_fast_tags
from dc_pipeline.demo.dataset import demo_dataset
from dc_pipeline.demo.simulator import ApiSimulator
from fault_cases.lab import CLEAR, FAILED, SURVIVED, Case, Lab

PROJECT = "p1"


def _pull(lab: Lab) -> runner.RunSummary:
    # One api_job run failing fast on an outage (no 60 s step retries), as the demo's interactive pull does.
    summary = lab.run([PROJECT], job="api_job", run_config=api_run_config(force_refresh=True), tags=fail_fast_tags())
    lab.texts.extend(("api failure", m) for m in summary.failed.values())
    return summary


def _stored(lab: Lab) -> list[tuple]:
    return lab.query("SELECT count(*), max(run_id) FROM dc_staging.api_normalized_values WHERE project_id = 1")


def api_faults(lab: Lab) -> list[Case]:
    sim = ApiSimulator(
        demo_dataset("small", 42).tables,
        ports=(0, 0),
        secret_key=lab.secrets["SECRET_KEY"],
        api_key=lab.secrets["API_KEY"],
    ).start()
    os.environ["API_BASE_URLS"] = ",".join(sim.base_urls)
    lab.reload()  # the API resource reads API_BASE_URLS when the definitions load
    cases = []
    try:
        assert not lab.run([PROJECT], job="scoring_job").failed  # src_metrics and the values to reconcile with

        def tolerated(name: str, expect_quarantine: str | None = None, **faults) -> Case:
            sim.faults.reset()
            sim.faults.update(**faults)
            seen = len(sim.requests_to())
            summary = _pull(lab)
            faulty = sum(1 for r in sim.requests_to()[seen:] if r.outcome != "ok")
            sim.faults.reset()
            if summary.failed:
                return Case(name, FAILED, summary.failed[PROJECT][:140])
            if expect_quarantine:
                (n,) = lab.query(
                    "SELECT count(*) FROM dc_staging.api_normalized_values_quarantine WHERE project_id = 1 AND "
                    "rule_id = %s",
                    (expect_quarantine,),
                )[0]
                if not n:
                    return Case(name, FAILED, f"pull succeeded but nothing quarantined as {expect_quarantine}")
                return Case(name, SURVIVED, f"pull succeeded, {n} record(s) quarantined as {expect_quarantine}")
            return Case(name, SURVIVED, f"pull succeeded through {faulty} faulty answer(s)")

        assert not _pull(lab).failed  # a clean pull to compare the failures with
        cases.append(tolerated("API answers 500 to 30 % of data requests", fail_rate=0.3))
        cases.append(tolerated("one malformed JSON body", fail_next_n=1, fail_kind="malformed_json"))
        cases.append(tolerated("one truncated body", fail_next_n=1, fail_kind="truncated_body"))
        cases.append(tolerated("one dropped connection", fail_next_n=1, fail_kind="drop_connection"))
        cases.append(tolerated("one replica down", down_ports={sim.ports[0]}))
        cases.append(
            tolerated(
                "records of the wrong shape",
                expect_quarantine="invalid_record",
                schema_violation=True,
                fault_paths={"/normalized"},
            )
        )

        def refused(name: str, expected: tuple[str, ...], **faults) -> Case:
            before = _stored(lab)
            sim.faults.reset()
            sim.faults.update(**faults)
            summary = _pull(lab)
            sim.faults.reset()
            message = summary.failed.get(PROJECT, "")
            after = _stored(lab)
            lost = max(0, before[0][0] - after[0][0])
            clear = bool(message) and all(e in message for e in expected) and before == after
            return Case(name, CLEAR if clear else FAILED, message[:140] or "the pull succeeded", lost)

        cases.append(
            refused("every API replica down", ("Digi-Cadence service", sim.base_urls[0]), down_ports=set(sim.ports))
        )
        wrong = "wrong-key-" + lab.secrets["API_KEY"][-8:]
        lab.secrets["API_KEY (wrong one)"] = wrong
        os.environ["API_KEY"] = wrong
        lab.reload()
        cases.append(refused("wrong API key", ("401",)))
    finally:
        os.environ["API_KEY"] = lab.secrets["API_KEY"]
        os.environ.pop("API_BASE_URLS", None)
        lab.reload()
        sim.stop()
    return cases
