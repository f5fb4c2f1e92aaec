"""A one-op code location for the environment test: the op records, inside a run worker, the settings
that the issue saw overridden by the committed .env."""

import json
import os

import dagster as dg

PROBED = ("API_BASE_URLS", "OPTUNA_N_TRIALS", "OPTUNA_N_JOBS", "SECRET_KEY", "API_KEY", "REPORTS_DIR", "DC_HOME")


@dg.op
def record_environment() -> None:
    values = {name: os.environ.get(name) for name in PROBED} | {"pid": os.getpid(), "cwd": os.getcwd()}
    with open(os.environ["ENV_PROBE_OUT"], "w") as handle:
        json.dump(values, handle)


@dg.job
def env_probe_job():
    record_environment()


defs = dg.Definitions(jobs=[env_probe_job])
