-- Runs once when the Postgres volume is created: the Dagster instance database next to digi_cadence.
CREATE DATABASE dagster;
