#!/usr/bin/env bash
# Refresh the README screenshots in docs/screenshots/ from the real app (the browser suite takes them).
# With --baselines, also rewrite the baselines in tests/e2e/baselines/ that the suite compares with:
# look at `git diff` before committing them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
export IMAGELAB_SCREENSHOTS="$PWD/docs/screenshots"
if [ "${1:-}" = "--baselines" ]; then
  export IMAGELAB_UPDATE_BASELINES=1
  shift
fi
exec "$PY" -m pytest tests/e2e -p no:cacheprovider -q "$@"
