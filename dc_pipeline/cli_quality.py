"""`dc-pipeline quality`: registered by cli.build_parser."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the quality subcommand to the `dc-pipeline` parser."""
