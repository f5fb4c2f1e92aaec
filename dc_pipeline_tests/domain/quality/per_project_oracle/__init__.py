"""The per-project data-quality rules exactly as they were before the run-level vectorisation
(dc_pipeline/domain/quality as of main at c9327d2), frozen here as the oracle that
`test_run_matches_per_project` compares the run path with, row for row. Not used by the pipeline;
do not change it to make a test pass: a difference is a change of behaviour."""
