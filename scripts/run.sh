#!/usr/bin/env bash
# Install symptom-bot and start it: the knowledge base is built first if there is none yet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
if [ ! -f "${DATA_DIR:-data}/index/ACTIVE.json" ]; then
  # An empty knowledge folder is not fatal: the bot starts and says its knowledge base is empty.
  .venv/bin/symptom-bot ingest || echo "(add corpus files to the knowledge folder, then run" \
    ".venv/bin/symptom-bot ingest or send /reload)"
fi
exec .venv/bin/symptom-bot run "$@"
