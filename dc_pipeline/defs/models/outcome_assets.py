"""`outcome_models` (per project): tuned score->outcome models of every available outcome (SPEC §6a)."""

import time

import dagster as dg
import pandas as pd

from dc_pipeline.adapters import model_registry, readers
from dc_pipeline.adapters.store import stored_metadata
from dc_pipeline.defs.automation import RETUNE
from dc_pipeline.defs.models.resources import OptunaResource, OutcomeModelConfig
from dc_pipeline.defs.models.tuning_metadata import tuning_metadata
from dc_pipeline.defs.partitions import project_backfill_policy, projects_partitions, run_project_ids
from dc_pipeline.defs.resources import FolderResource, PostgresResource, SettingsResource
from dc_pipeline.domain.reference import Reference
from dc_pipeline.version import code_version


@dg.asset(
    partitions_def=projects_partitions,
    backfill_policy=project_backfill_policy,
    deps=["dc_scores", "validated_outcomes"],
    group_name="models",
    pool="optuna",
    kinds={"optuna", "scikitlearn", "postgres"},
    metadata=stored_metadata("outcome_models"),
    automation_condition=RETUNE,
    description="Tuned score->outcome models per outcome target: chosen model, holdout skill against the "
    "mean baseline, outcome change per DC point with a wild cluster bootstrap CI that holds with few brands "
    "(SPEC §6a).",
)
def outcome_models(
    context: dg.AssetExecutionContext,
    config: OutcomeModelConfig,
    reference_snapshot: dict[str, pd.DataFrame],
    pipeline_db: PostgresResource,
    optuna: OptunaResource,
    model_store: FolderResource,
    settings: SettingsResource,
):
    from dc_pipeline.domain.outcome_models.fit import MODEL_KIND
    from dc_pipeline.domain.outcome_models.project import fit_project_outcomes, outcome_tables, results_overview
    from dc_pipeline.domain.panels import outcome_observations
    from dc_pipeline.domain.study_ledger import StudyLedger, study_row, summary_dict

    started = time.perf_counter()
    system = settings.load()
    tuning = optuna.settings(system.optimization_config, config)
    seed = config.seed if config.seed is not None else system.random_seed
    analysis = system.analysis_config
    reference = Reference.from_snapshot(reference_snapshot)
    fits, study_rows = [], []
    for project_id in run_project_ids(context):
        with pipeline_db.connection() as conn:
            members, timeline = reference.members(project_id), reference.timeline(project_id)
            scores = readers.read_dc_scores(conn, timeline, members)
            outcomes = readers.read_validated_outcomes(conn, timeline, members)
        obs = outcome_observations(scores, outcomes, project_id)
        ledger = StudyLedger(optuna.study_factory(tuning, n_brands=int(obs["brand_id"].nunique())))
        project_fits = fit_project_outcomes(
            obs, project_id, settings=tuning, study_factory=ledger, confidence_level=analysis.default_confidence_level,
            min_data_points=analysis.min_data_points, seed=seed, n_boot=config.bootstrap_reps,
            code_version=code_version(), log=context.log.info,
            stored=lambda model_id, key, ledger=ledger: _stored_result(
                model_store, model_id, key, ledger, tuning.n_trials
            ),
        )  # fmt: skip
        fits += project_fits
        study_rows += [
            study_row(f"p{project_id}/{f.target}", summary_dict(f.result.study), ledger) for f in project_fits
        ]
    registry = [
        model_registry.RegistryEntry(
            model_id=f.model_id,
            kind=MODEL_KIND,
            project_id=f.project_id,
            brand_id=None,
            target=f.target,
            study_name=f.result.study.study_name if f.result.study else None,
            status=f.result.status,
            validated=f.result.validated,
            best_params=f.result.study.best_params if f.result.study else {},
            cv_metrics=f.result.cv_metrics or {},
            data_version=f.version,
            code_version=code_version(),
            artifact_path=str(
                model_registry.save_artifact(model_store.root(), f.model_id, {"fit_key": f.fit_key, "result": f.result})
            ),
            run_id=context.run_id,
        )  # fmt: skip
        for f in fits
        if f.ok
    ]
    with pipeline_db.connection() as conn:
        model_registry.register(conn, registry)
    frames = outcome_tables(fits)
    results = frames["outcome_model_results"]
    for key in context.partition_keys:
        own = results_overview(results[results["project_id"] == int(key[1:])])
        context.add_asset_metadata(
            {"models": dg.MetadataValue.md(own.to_markdown(index=False, floatfmt=".3f"))}, partition_key=key
        )
    summary = {
        "targets_fitted": dg.MetadataValue.int(int((results["status"] == "ok").sum())),
        "targets_validated": dg.MetadataValue.int(int(results["validated"].sum())),
        "targets_not_fitted": dg.MetadataValue.int(int((results["status"] != "ok").sum())),
        "models_registered": dg.MetadataValue.int(len(registry)),
        "models_reused": dg.MetadataValue.int(sum(f.reused for f in fits)),
        "tuning_settings": dg.MetadataValue.json(
            vars(tuning) | {"seed": seed, "bootstrap_reps": config.bootstrap_reps}
        ),
    }
    return dg.Output(frames, metadata={**summary, **tuning_metadata(study_rows, started)})


def _stored_result(model_store: FolderResource, model_id: str, key: str, ledger, n_trials: int):
    """The stored fit of this model when nothing would change: same data, settings and code, and a study that
    has already used its trial budget (a refit would reuse its best parameters and reproduce the same result,
    SPEC §6d). None otherwise."""
    path = model_registry.artifact_path(model_store.root(), model_id)
    if not path.is_file():
        return None
    bundle = model_registry.load_artifact(path)
    if not isinstance(bundle, dict) or bundle.get("fit_key") != key:
        return None
    study = ledger(model_id, "minimize")  # the model id is the study name
    finished = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
    return bundle["result"] if finished >= n_trials else None
