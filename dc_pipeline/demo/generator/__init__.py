"""Deterministic demo dataset generator (SPEC §12).

`generate(...)` returns the seven source tables (`SOURCE_COLUMNS` plus `created_at`/`updated_at`)
for projects 101 onward and the faults planted in the faulty project.

Choices the SPEC leaves open (documented here so other modules can rely on them):
- Time line: one global time line of `periods` month (or quarter) starts from `start`. A project
  with history profile k covers the LAST k periods of it, so every project ends at the same last
  period (its end_date). Projects have a null `series_group`: each project is its own time line.
- Latent section scores belong to the pool brand and the global period, so a brand shared by two
  projects follows the same trajectory in both (cross-project evolution has data). The fixed
  per-(brand, metric) offsets and the cell noise are drawn per project.
- `trend_i` is per month: the trend term uses months elapsed (3 per quarter for quarterly grain).
- The missing share is exact: round(missing_rate * cells) cells per project are omitted.
- DC, section scores and outcomes use the §4 weighted method (metric_sum section weights) on the
  directed scores of the cells that are present.
- The faulty project keeps its outcome rows for the periods its brand lost (only values go).
- Stored values and outcomes are rounded to the scale of their database columns.
- `created_at`/`updated_at` of a value or outcome row is the first day of the next period + 2 days
  06:00 UTC ("loaded after the period closed"); reference rows use the project start.
- project_brands.weight is 1.0 for the primary brand and U(0.5, 1.5) for competitors.
- Random streams are keyed by (seed, purpose, index), so a project's clean data does not depend
  on how many projects are generated or which one is faulty.

Modules, in the order `generate` (build.py) uses them: spec (the §12 knobs as data), timeline,
latent (section-score model and §4 weighted scores), layout (metrics per platform), projects
(one project's plan, definitions, rows, cells and outcomes), faults (the planted faults), tables
(assembly of the seven tables).
"""

from dc_pipeline.demo.generator.build import DemoData, generate
from dc_pipeline.demo.generator.latent import weighted_scores
from dc_pipeline.demo.generator.layout import metric_layout
from dc_pipeline.demo.generator.spec import (
    FIRST_BRAND_ID,
    FIRST_METRIC_ID,
    FIRST_PROJECT_ID,
    FIRST_VALUE_ID,
    METRIC_VOCABULARY,
    MINIMIZE_METRICS,
    PLATFORMS,
)
from dc_pipeline.demo.generator.tables import brand_letters
from dc_pipeline.demo.generator.timeline import loaded_at, period_index

__all__ = [
    "FIRST_BRAND_ID",
    "FIRST_METRIC_ID",
    "FIRST_PROJECT_ID",
    "FIRST_VALUE_ID",
    "METRIC_VOCABULARY",
    "MINIMIZE_METRICS",
    "PLATFORMS",
    "DemoData",
    "brand_letters",
    "generate",
    "loaded_at",
    "metric_layout",
    "period_index",
    "weighted_scores",
]
