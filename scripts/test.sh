#!/usr/bin/env bash
# Install symptom-bot with its test tools, then lint and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=dev bash scripts/setup.sh
export HF_HUB_OFFLINE=1
.venv/bin/ruff check bot tests bench
.venv/bin/python -m pytest -q "$@"
