#!/usr/bin/env bash
# A whole team's ImageLab on this machine, for a trial: PostgreSQL, SeaweedFS (S3), an OpenID Connect provider
# with two test people (alice@example.com, bob@example.com), the offline backend, two workers and two Streamlit
# replicas behind nginx, all on 127.0.0.1. It prints the address and the people; Ctrl+C stops all of it.
# Needs Debian's postgresql and nginx (apt-get install -y postgresql nginx-light) and the test packages:
#   .venv/bin/python -m pip install -r requirements.txt -r requirements-test.txt
#   .venv/bin/python -m pip install --require-hashes -r requirements-s3.txt
# Options: --port N (nginx's port, default 8080), --latency S (seconds a picture takes), --folder DIR (keep logs).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
for tool in nginx; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
    echo "scripts/team.sh needs $tool: apt-get install -y nginx-light" >&2; exit 1; }
done
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || {
  echo "scripts/team.sh needs PostgreSQL's server: apt-get install -y postgresql" >&2; exit 1; }

"$PY" -m tests.services.team "$@" &
team=$!
# The team stops every part it started (by PID) when told; a second Ctrl+C does not cut that short.
stop() { trap '' INT TERM; kill -TERM "$team" 2>/dev/null || true; wait "$team" 2>/dev/null || true; exit 0; }
trap stop INT TERM
wait "$team"
