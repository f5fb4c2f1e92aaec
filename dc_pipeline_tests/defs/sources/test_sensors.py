"""source_change_sensor against a real instance and a real Postgres holding the demo data."""

import dagster as dg
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dc_pipeline.adapters import postgres, source_reader
from dc_pipeline.defs.sources.sensors import source_change_sensor
from dc_pipeline_tests.conftest import make_pipeline_env, restored_environment


@pytest.fixture()
def sensor_env(pg_server, tmp_path):
    with restored_environment():
        env = make_pipeline_env(pg_server, tmp_path)
        yield env
        env.instance.dispose()


def _evaluate(env, cursor=None):
    context = dg.build_sensor_context(
        instance=env.instance, cursor=cursor, resources={"source_db": env.defs.resources["source_db"]}
    )
    return source_change_sensor(context)


def _partition_keys(result, name):
    return sorted(
        k for r in result.dynamic_partitions_requests if r.partitions_def_name == name for k in r.partition_keys
    )


def test_first_tick_adds_every_partition_and_requests_every_project(sensor_env):
    result = _evaluate(sensor_env)
    assert _partition_keys(result, "projects") == sorted(["p1", "p2", "p3", "p101", "p102", "p103", "p104"])
    brand_count = sensor_env.query("SELECT count(*) FROM public.brands")[0][0]
    assert len(_partition_keys(result, "brands")) == brand_count
    ingest = [r for r in result.run_requests if r.job_name == "ingest_job"]
    # Every project changed (p3 has metric definitions but no values: it still has markers): the projects follow
    # each other in partition order, so one run covers them all as a range, as a backfill would.
    assert len(ingest) == 1 and ingest[0].partition_key is None
    assert (ingest[0].tags[ASSET_PARTITION_RANGE_START_TAG], ingest[0].tags[ASSET_PARTITION_RANGE_END_TAG]) == (
        "p1",
        "p104",
    )
    assert [r.job_name for r in result.run_requests].count("reference_job") == 1


def test_unchanged_sources_request_nothing_and_a_change_requests_only_its_project(sensor_env):
    first = _evaluate(sensor_env)
    sensor_env.instance.add_dynamic_partitions("projects", _partition_keys(first, "projects"))
    sensor_env.instance.add_dynamic_partitions("brands", _partition_keys(first, "brands"))

    quiet = _evaluate(sensor_env, cursor=first.cursor)
    assert quiet.run_requests == [] and quiet.dynamic_partitions_requests == []

    with postgres.connect(sensor_env.url) as conn:
        conn.execute(
            "UPDATE public.normalisedvalue SET normalized_value = normalized_value + 0.5, updated_at = now() "
            "WHERE id = (SELECT min(id) FROM public.normalisedvalue WHERE project_id = 102)"
        )
        conn.commit()
    changed = _evaluate(sensor_env, cursor=quiet.cursor)
    assert [(r.job_name, r.partition_key) for r in changed.run_requests] == [("ingest_job", "p102")]


def test_new_project_and_brand_become_partitions(sensor_env):
    first = _evaluate(sensor_env)
    sensor_env.instance.add_dynamic_partitions("projects", _partition_keys(first, "projects"))
    sensor_env.instance.add_dynamic_partitions("brands", _partition_keys(first, "brands"))
    with postgres.connect(sensor_env.url) as conn:
        conn.execute(
            "INSERT INTO public.brands (brand_id, brand_name, category_id, brand_type) "
            "VALUES (900, 'New Brand', 2, 'competitor')"
        )
        conn.execute(
            "INSERT INTO public.projects (project_id, project_name, category_id, period_grain, start_date, status) "
            "VALUES (900, 'New project', 2, 'month', '2024-01-01', 'active')"
        )
        conn.execute("INSERT INTO public.project_brands (project_id, brand_id, role) VALUES (900, 900, 'primary')")
        conn.commit()
    result = _evaluate(sensor_env, cursor=first.cursor)
    assert _partition_keys(result, "projects") == ["p900"]
    assert _partition_keys(result, "brands") == ["b900"]
    assert ("ingest_job", "p900") in [(r.job_name, r.partition_key) for r in result.run_requests]
    assert "reference_job" in [r.job_name for r in result.run_requests]


def test_without_a_cursor_the_sensor_starts_from_what_the_pulls_recorded(sensor_env):
    """A daemon started after `dc-pipeline demo` (no cursor yet) requests nothing for unchanged sources: the
    reference snapshot and the src_* pulls recorded the markers they saw, one batched run over every project."""
    from dc_pipeline import runner

    pulls = dg.define_asset_job(
        "pulls_job", selection=dg.AssetSelection.assets("src_metrics", "src_normalised_values", "src_business_outcomes")
    )
    defs = dg.Definitions.merge(sensor_env.defs, dg.Definitions(jobs=[pulls]))
    runner.run_reference(defs, sensor_env.instance)
    keys = runner.project_keys(sensor_env.instance)
    summary = runner.run_projects(defs, sensor_env.instance, keys, job_name="pulls_job", batch_size=len(keys))
    assert summary.failed == {} and len(summary.succeeded) == 7

    quiet = _evaluate(sensor_env)
    assert quiet.run_requests == [] and quiet.dynamic_partitions_requests == []

    with postgres.connect(sensor_env.url) as conn:
        conn.execute("DELETE FROM public.business_outcomes WHERE project_id = 101 AND period = '2022-01-01'")
        conn.commit()
    changed = _evaluate(sensor_env)
    assert [(r.job_name, r.partition_key) for r in changed.run_requests] == [("ingest_job", "p101")]


def _observed(result) -> dict[str, dict]:
    return {e.asset_key.to_user_string(): e.metadata for e in result.asset_events if isinstance(e, dg.AssetObservation)}


def test_source_tables_are_observed_with_their_row_counts_when_they_change(sensor_env):
    first = _evaluate(sensor_env)
    observed = _observed(first)
    assert set(observed) == {f"digi_cadence/{t}" for t in source_reader.REQUIRED_TABLES}
    for table in source_reader.REQUIRED_TABLES:
        (rows,) = sensor_env.query(f"SELECT count(*) FROM public.{table}")[0]
        assert observed[f"digi_cadence/{table}"]["dagster/row_count"].value == rows, table

    assert _observed(_evaluate(sensor_env, cursor=first.cursor)) == {}  # nothing changed: nothing observed
    with postgres.connect(sensor_env.url) as conn:
        conn.execute("DELETE FROM public.business_outcomes WHERE (project_id, brand_id, period) IN "
                     "(SELECT project_id, brand_id, period FROM public.business_outcomes LIMIT 2)")  # fmt: skip
        conn.commit()
    after = _observed(_evaluate(sensor_env, cursor=first.cursor))
    (rows,) = sensor_env.query("SELECT count(*) FROM public.business_outcomes")[0]
    assert list(after) == ["digi_cadence/business_outcomes"]
    assert after["digi_cadence/business_outcomes"]["dagster/row_count"].value == rows


def test_the_seven_source_tables_are_named_external_assets_with_descriptions():
    from dc_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    external = {
        k.to_user_string(): graph.get(k) for k in graph.get_all_asset_keys() if not graph.get(k).is_materializable
    }
    sources = {k: n for k, n in external.items() if k.startswith("digi_cadence/")}
    assert sorted(sources) == sorted(f"digi_cadence/{t}" for t in source_reader.REQUIRED_TABLES)
    for key, node in sources.items():
        assert f"public.{key.split('/')[1]}" in node.description and len(node.description) > 80, key
    # No dependency points at an asset nobody defines (Dagster would show it as an unnamed placeholder).
    assert set(external) <= set(sources) | {"system_health", "weekly_ops_report"}
