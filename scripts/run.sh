#!/usr/bin/env bash
# Install symptom-bot and start it: the knowledge base is built first if there is none yet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
if [ ! -f "${DATA_DIR:-data}/index/ACTIVE.json" ]; then
  .venv/bin/symptom-bot ingest || [ $? -eq 1 ]
fi
exec .venv/bin/symptom-bot run "$@"
