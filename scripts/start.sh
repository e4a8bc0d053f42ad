#!/usr/bin/env bash
# Install ImageLab into .venv and start it. Without OPENAI_API_KEY it runs on its offline backend.
# It listens on 127.0.0.1 only (.streamlit/config.toml); `--server.address 0.0.0.0` serves the network.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
stamp=".venv/.requirements-installed"
if [ ! -x .venv/bin/python ]; then
  echo "ImageLab: first start. Making .venv and installing its packages (Streamlit, the openai SDK, Pillow, NumPy,"
  echo "SciPy): usually 30 seconds to 2 minutes, once. Later starts take a few seconds."
  "$PYTHON" -m venv .venv
elif ! cmp -s requirements.txt "$stamp" 2>/dev/null; then
  echo "ImageLab: its requirements changed; bringing .venv up to date (usually under a minute)."
fi
if ! cmp -s requirements.txt "$stamp" 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt "$stamp"
  echo "ImageLab: packages installed. Starting…"
fi
exec .venv/bin/python -m streamlit run app.py "$@"
