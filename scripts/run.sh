#!/usr/bin/env bash
# Install symptom-bot and start it: the knowledge base is built first if there is none yet.
# Arguments are passed to `symptom-bot run`.
set -euo pipefail
cd "$(dirname "$0")/.."

no_token() {
  cat >&2 <<'EOF'
TELEGRAM_BOT_TOKEN is not set (neither in the environment nor in .env), so the bot cannot
connect to Telegram.

  1. Get a token: in Telegram, talk to @BotFather (https://t.me/BotFather) and send /newbot.
  2. cp .env.example .env   (if you have no .env yet)
  3. Put the token in .env:  TELEGRAM_BOT_TOKEN=123456789:AA...
  4. bash scripts/run.sh

Without Telegram, try the same answers in the terminal: .venv/bin/symptom-bot chat
EOF
  exit 2
}

# The settings as the bot reads them (environment, then .env), asked of the bot itself and
# printed as shell assignments: TOKEN_SET, DATA_DIR, KNOWLEDGE_DIR, ACTIVE_VERSION, CORPUS_FILES.
bot_settings() {
  .venv/bin/python - "$@" <<'PY'
import shlex
import sys

from bot.settings import SettingsError, load_settings

try:
    settings = load_settings()
except SettingsError as error:
    print(error, file=sys.stderr)
    sys.exit(2)
values = {
    "TOKEN_SET": "1" if settings.telegram_bot_token.strip() else "",
    "DATA_DIR": str(settings.data_dir),
    "KNOWLEDGE_DIR": str(settings.knowledge_dir),
}
if len(sys.argv) < 2 or sys.argv[1] != "token":
    from bot.corpus import PARSERS, is_readme
    from bot.index_store import IndexRoot, IndexUnusable

    try:
        values["ACTIVE_VERSION"] = IndexRoot(settings.data_dir).pointer().get("version") or ""
    except IndexUnusable as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    home = settings.knowledge_dir
    files = [p for p in home.rglob("*") if p.is_file() and p.suffix.lower() in PARSERS
             and not is_readme(p)  # the folder's documentation, as ingest skips it
             and not any(part.startswith(".") for part in p.relative_to(home).parts)
             ] if home.is_dir() else []
    values["CORPUS_FILES"] = str(len(files))
    values["CORPUS_SUFFIXES"] = ", ".join(sorted(PARSERS))
for name, value in values.items():
    print(f"{name}={shlex.quote(value)}")
PY
}

# 1. The token, before any long work. With a working .venv the bot itself reads it; on a fresh
#    machine (no .venv yet) a quick look at the environment and .env stands in until the
#    install is done, and the bot checks again after it.
if .venv/bin/python -c "import bot.settings" >/dev/null 2>&1; then
  settings=$(bot_settings token) || exit $?
  eval "$settings"
  [ -n "$TOKEN_SET" ] || no_token
elif [ -z "${TELEGRAM_BOT_TOKEN:-}" ] &&
    ! { [ -f .env ] && grep -Eiq '^[[:space:]]*(export[[:space:]]+)?TELEGRAM_BOT_TOKEN[[:space:]]*=[[:space:]]*[^[:space:]#]' .env; }; then
  no_token
fi

# 2. Install (fast when everything is there already).
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
settings=$(bot_settings) || exit $?
eval "$settings"
[ -n "$TOKEN_SET" ] || no_token

# 3. The knowledge base, when there is none yet.
if [ -z "$ACTIVE_VERSION" ]; then
  if [ "$CORPUS_FILES" = 0 ]; then
    cat >&2 <<EOF
The knowledge base is empty and the knowledge folder ($KNOWLEDGE_DIR) has no corpus files
($CORPUS_SUFFIXES) yet. The bot starts anyway and tells people it has nothing to search.
Next:
  - put corpus files in $KNOWLEDGE_DIR/ (formats: knowledge/README.md), then run
      .venv/bin/symptom-bot ingest      (or send /reload to the bot as an admin)
  - or ingest files from elsewhere:
      .venv/bin/symptom-bot ingest PATH ...
EOF
  else
    echo "Building the knowledge base from $KNOWLEDGE_DIR ($CORPUS_FILES files) into $DATA_DIR ..."
    code=0
    .venv/bin/symptom-bot ingest || code=$?
    case $code in
      0) ;;
      1) echo "Ingest done with warnings: the files or lines listed above were rejected;" \
              "everything else is served." >&2 ;;
      *) echo "Ingest failed (exit $code): see the reason above; nothing was built. Fix it and" \
              "run bash scripts/run.sh again." >&2
         exit "$code" ;;
    esac
  fi
fi

exec .venv/bin/symptom-bot run "$@"
