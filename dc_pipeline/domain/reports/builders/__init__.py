"""One module per report builder (SPEC §7 items); the registry (domain/reports/registry.py) lists them."""
