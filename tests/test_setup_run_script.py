"""scripts/run.sh: the token is checked before any long work, settings are the bot's own (from
.env too), ingest exit 1 is success with warnings, an empty knowledge folder says what to do.

Each test runs the real run.sh in a scratch project whose scripts/setup.sh and
.venv/bin/symptom-bot are stubs that record their calls; .venv/bin/python is the project's own
interpreter, so the settings are read by bot.settings itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BASH = shutil.which("bash")

pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")

SETUP_STUB = """#!/usr/bin/env bash
echo setup >> "$CALLS"
cd "$(dirname "$0")/.."
mkdir -p .venv/bin
printf '#!/bin/sh\\nexec %s "$@"\\n' "$REAL_PYTHON" > .venv/bin/python
cat > .venv/bin/symptom-bot <<'EOF'
#!/usr/bin/env bash
echo "symptom-bot $*" >> "$CALLS"
if [ "$1" = ingest ]; then
  echo "(the ingest report)"
  exit "${FAKE_INGEST_EXIT:-0}"
fi
exit 0
EOF
chmod +x .venv/bin/python .venv/bin/symptom-bot
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "scripts").mkdir(parents=True)
    (root / "knowledge").mkdir()
    (root / "knowledge" / "README.md").write_text("# not a corpus file\n", encoding="utf-8")
    shutil.copy(REPO / "scripts" / "run.sh", root / "scripts" / "run.sh")
    (root / "scripts" / "setup.sh").write_text(SETUP_STUB, encoding="utf-8")
    return root


def _installed(project: Path) -> None:
    """A .venv as setup.sh leaves it (run the stub once, then forget that call)."""
    subprocess.run([BASH, str(project / "scripts" / "setup.sh")], env=_env(project), check=True)
    (project / "calls.log").unlink()


def _env(project: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "OPENAI_", "CHROMA_", "WEBHOOK_", "EMBEDDING_"))
           and k not in ("DATA_DIR", "KNOWLEDGE_DIR", "LOG_LEVEL", "TOP_K", "PROMPTS_DIR")}
    env.update(CALLS=str(project / "calls.log"), REAL_PYTHON=sys.executable, **extra)
    return env


def _run(project: Path, *args: str, **extra: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run([BASH, str(project / "scripts" / "run.sh"), *args], cwd=project,
                          env=_env(project, **extra), capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    return done, time.monotonic() - started


def _calls(project: Path) -> list[str]:
    log = project / "calls.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_no_token_stops_at_once_before_the_install(project: Path):
    _installed(project)
    done, seconds = _run(project)
    assert done.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in done.stderr
    assert "cp .env.example .env" in done.stderr and "@BotFather" in done.stderr
    assert _calls(project) == []  # neither setup nor the bot ran
    assert seconds < 15, seconds


def test_no_token_on_a_fresh_machine_stops_before_the_install(project: Path):
    (project / ".env").write_text("# TELEGRAM_BOT_TOKEN=\nTELEGRAM_BOT_TOKEN=\n",
                                  encoding="utf-8")
    done, seconds = _run(project)
    assert done.returncode == 2 and "TELEGRAM_BOT_TOKEN is not set" in done.stderr
    assert _calls(project) == [] and seconds < 15, seconds


def test_a_token_in_dotenv_is_found_on_a_fresh_machine(project: Path):
    (project / ".env").write_text("TELEGRAM_BOT_TOKEN=123456:abc\n", encoding="utf-8")
    done, _ = _run(project)
    assert done.returncode == 0, done.stderr
    assert _calls(project) == ["setup", "symptom-bot run"]


def test_an_empty_knowledge_folder_says_what_to_do(project: Path):
    _installed(project)
    done, _ = _run(project, "--extra", TELEGRAM_BOT_TOKEN="123456:abc")
    assert done.returncode == 0, done.stderr
    assert "Ingest failed" not in done.stdout + done.stderr
    assert "has no corpus files" in done.stderr
    assert "put corpus files in knowledge/" in done.stderr
    assert ".venv/bin/symptom-bot ingest PATH" in done.stderr
    assert _calls(project) == ["setup", "symptom-bot run --extra"]  # no ingest was tried


def test_ingest_warnings_still_start_the_bot(project: Path):
    _installed(project)
    (project / "knowledge" / "pages.jsonl").write_text("{}\n", encoding="utf-8")
    done, _ = _run(project, TELEGRAM_BOT_TOKEN="123456:abc", FAKE_INGEST_EXIT="1")
    assert done.returncode == 0, done.stderr
    assert "Ingest done with warnings" in done.stderr
    assert _calls(project) == ["setup", "symptom-bot ingest", "symptom-bot run"]


def test_a_failed_ingest_does_not_start_the_bot(project: Path):
    _installed(project)
    (project / "knowledge" / "pages.jsonl").write_text("{}\n", encoding="utf-8")
    done, _ = _run(project, TELEGRAM_BOT_TOKEN="123456:abc", FAKE_INGEST_EXIT="2")
    assert done.returncode == 2
    assert "Ingest failed (exit 2)" in done.stderr
    assert _calls(project) == ["setup", "symptom-bot ingest"]


def test_settings_come_from_dotenv_as_the_bot_reads_them(project: Path):
    _installed(project)
    (project / ".env").write_text(
        "TELEGRAM_BOT_TOKEN=123456:abc\nDATA_DIR=./store\nKNOWLEDGE_DIR=./corpus\n",
        encoding="utf-8")
    (project / "corpus").mkdir()
    (project / "corpus" / "qa.jsonl").write_text("{}\n", encoding="utf-8")
    done, _ = _run(project)
    assert done.returncode == 0, done.stderr
    assert "from corpus (1 files) into store" in done.stdout
    assert _calls(project) == ["setup", "symptom-bot ingest", "symptom-bot run"]
    # With an active version under DATA_DIR (from .env), nothing is ingested.
    (project / "store" / "index").mkdir(parents=True)
    (project / "store" / "index" / "ACTIVE.json").write_text(
        json.dumps({"version": "v000001", "previous": None}), encoding="utf-8")
    (project / "calls.log").unlink()
    done, _ = _run(project)
    assert done.returncode == 0, done.stderr
    assert _calls(project) == ["setup", "symptom-bot run"]


def test_an_invalid_setting_stops_with_the_bots_message(project: Path):
    _installed(project)
    (project / ".env").write_text("TELEGRAM_BOT_TOKEN=123456:abc\nTOP_K=99\n", encoding="utf-8")
    done, seconds = _run(project)
    assert done.returncode == 2
    assert "Invalid configuration" in done.stderr and "TOP_K" in done.stderr
    assert _calls(project) == [] and seconds < 15, seconds
