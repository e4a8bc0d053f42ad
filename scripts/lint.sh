#!/usr/bin/env bash
# Lint (ruff), type-check (mypy) and find unused code (vulture) with the rules in pyproject.toml.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
status=0
"$PY" -m ruff check . || status=1
"$PY" -m mypy || status=1
"$PY" -m vulture || status=1
exit $status
