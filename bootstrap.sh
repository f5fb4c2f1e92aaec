#!/usr/bin/env bash
# Creates .venv on first use (pinned by constraints.txt), then runs:
#   bash bootstrap.sh demo [--no-ui]    the main job on the embedded default
#   bash bootstrap.sh test [pytest args] the test suite
#   bash bootstrap.sh lint               ruff lint and format check
#   bash bootstrap.sh <dc-pipeline args> any other dc-pipeline command
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ] || [ ! -f .venv/.installed ] || [ constraints.txt -nt .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "dc_pipeline needs Python 3.11 or newer")'
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[test]'
  touch .venv/.installed
fi
case "${1:-demo}" in
  test) shift; exec .venv/bin/python -m pytest "$@" ;;
  lint) .venv/bin/ruff check . && exec .venv/bin/ruff format --check . ;;
  *) exec .venv/bin/dc-pipeline "$@" ;;
esac
