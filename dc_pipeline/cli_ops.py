"""Operations subcommands of `dc-pipeline` (status, backup, restore): registered by cli.build_parser."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the operations subcommands to the `dc-pipeline` parser."""
