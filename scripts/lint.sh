#!/usr/bin/env bash
# Lint (ruff) and type-check (mypy) with the rules in pyproject.toml.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
status=0
"$PY" -m ruff check . || status=1
"$PY" -m mypy || status=1
exit $status
