"""Names of the tables the portfolio assets store (SPEC §8): vocabulary shared by the domain, the store and
the report inputs."""

PORTFOLIO_TABLES: tuple[str, ...] = (
    "portfolio_comparison",
    "portfolio_pairwise_tests",
    "portfolio_synergy",
    "portfolio_complementarity",
    "portfolio_transfers",
    "portfolio_allocation",
    "portfolio_allocation_summary",
)
EVOLUTION_TABLES: tuple[str, ...] = ("brand_evolution", "brand_project_ranking")
