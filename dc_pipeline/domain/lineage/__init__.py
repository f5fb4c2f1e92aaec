"""Lineage of a report figure (beyond the SPEC): what the figure is about (`about`), which stored DC quantity it
is and the source rows that recompute it (`trace`). Pure: the CLI (`dc-pipeline explain`) reads the rows."""
