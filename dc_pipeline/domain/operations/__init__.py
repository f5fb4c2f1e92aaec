"""Pure parts of operations (SPEC §11): health aggregation, retention selection, performance thresholds."""
