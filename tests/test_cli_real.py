"""The real path: the `symptom-bot` command, the bundled embedding model, Chroma's own files,
and a `chroma run` server started on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import MEDQUAD, SAMPLE_PAGE

pytestmark = pytest.mark.slow
PATIENT_NAME_PARTS = [b"Guo", b"Tongxue", b"Peter Zhan", b"Zhan,", "郭".encode()]


def run_cli(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True,
        timeout=timeout, cwd=Path(__file__).resolve().parents[1],
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "twitching.txt").write_bytes(SAMPLE_PAGE.read_bytes())
    lines = (MEDQUAD / "medquad.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    (knowledge / "medquad-40.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "TELEGRAM_", "CHROMA_", "EMBEDDING_"))}
    env.update(DATA_DIR=str(tmp_path / "data"), KNOWLEDGE_DIR=str(knowledge),
               HF_HUB_OFFLINE="1", LOG_LEVEL="WARNING")
    return env


def test_ingest_status_ask_rollback_with_the_real_model(cli_env, tmp_path):
    first = run_cli("ingest", "--json", env=cli_env)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["status"] == "updated" and report["records"] == 46
    assert "Loading" not in first.stderr and "it/s" not in first.stderr  # no model noise

    again = run_cli("ingest", "--json", env=cli_env)
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "unchanged"
    assert json.loads(again.stdout)["embedded"] == 0

    status = json.loads(run_cli("status", "--json", env=cli_env).stdout)
    assert status["records"] == 46 and status["embedding_model"] == "all-MiniLM-L6-v2"
    assert status["dimension"] == 384
    assert status["kinds"] == {"article": 1, "doctor_reply": 1, "excerpt": 4, "qa": 40}

    asked = run_cli("ask", "--json", "My muscles twitch all over and I fear it is ALS", env=cli_env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["triage"] == "routine"
    assert answer["sources"][0]["doctor"] == "Jiang Junyi"
    assert {"id", "kind", "doctor", "department", "score"} <= set(answer["sources"][0])
    assert answer["answer"].endswith(answer["disclaimer"])

    # A broken file: exit 1, the rest indexed; then rollback restores the previous version.
    (Path(cli_env["KNOWLEDGE_DIR"]) / "extra.jsonl").write_text(
        '{"id": "x1", "question": "Why do my eyelids twitch?", "answer": "Mostly fatigue."}\n'
        '{"id": "x2", "question": ""}\n', encoding="utf-8")
    partial = run_cli("ingest", env=cli_env)
    assert partial.returncode == 1
    assert "extra.jsonl:2" in partial.stdout
    assert run_cli("rollback", env=cli_env).returncode == 0
    assert json.loads(run_cli("status", "--json", env=cli_env).stdout)["records"] == 46

    # Nothing stored anywhere (records, BM25, Chroma's own files) carries the patient's name.
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            assert not [n for n in PATIENT_NAME_PARTS if n in blob], path
    assert b"Jiang Junyi" in (tmp_path / "data" / "index" / "v000001" / "records.db").read_bytes()


def test_triage_command_reads_a_file_and_prints_json_lines(tmp_path, cli_env):
    items = tmp_path / "msgs.jsonl"
    items.write_text('{"id": "a", "text": "I cannot breathe and my lips are blue"}\n'
                     '{"id": "b", "text": "What helps a mild cold?"}\n', encoding="utf-8")
    done = run_cli("triage", "--file", str(items), env=cli_env)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(x["id"], x["level"]) for x in lines] == [("a", "emergency"), ("b", "routine")]
    assert lines[0]["category"] != "none" and lines[0]["flags"]
    assert lines[1] == {"id": "b", "level": "routine", "category": "none", "flags": [],
                        "language": "en"}
    said = run_cli("triage", "what helps a blocked nose?", env=cli_env).stdout.strip()
    assert said == "routine"


def test_bad_settings_stop_with_the_variable_named(cli_env):
    env = {**cli_env, "ADMIN_USER_IDS": "7,abc", "CHROMA_PORT": "http"}
    done = run_cli("status", env=env)
    assert done.returncode == 2
    assert "ADMIN_USER_IDS: not a numeric Telegram user id: abc" in done.stderr
    assert "CHROMA_PORT" in done.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path):
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.skip("the chroma command is not installed")
    port = _free_port()
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    yield port
    server.terminate()
    server.wait(timeout=10)


def test_server_mode_against_chroma_run(cli_env, chroma_server, tmp_path):
    env = {**cli_env, "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(chroma_server)}
    done = run_cli("ingest", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "data" / "chroma").exists()  # vectors went to the server
    status = json.loads(run_cli("status", "--json", env=env).stdout)
    assert status["vector_store"] == f"chroma server 127.0.0.1:{chroma_server}"
    asked = run_cli("ask", "--json", "muscle twitching, could it be ALS?", env=env)
    asked = json.loads(asked.stdout)
    assert asked["sources"][0]["doctor"] == "Jiang Junyi"
    # the server being down is an error that changes nothing
    down = {**env, "CHROMA_PORT": str(_free_port())}
    (Path(env["KNOWLEDGE_DIR"]) / "more.jsonl").write_text(
        '{"question": "q?", "answer": "a."}\n', encoding="utf-8")
    failed = run_cli("ingest", env=down)
    assert failed.returncode == 2 and "not usable" in failed.stdout
    assert json.loads(run_cli("status", "--json", env=env).stdout)["version"] == "v000001"


def test_eval_liveqa_writes_a_trec_run_and_prints_the_measures(cli_env, tmp_path):
    assert run_cli("ingest", env=cli_env).returncode == 0
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "questions.jsonl").write_text(
        json.dumps({"id": "1", "subject": "muscle twitching",
                    "message": "My thighs twitch all day, is it ALS?", "paraphrase": "",
                    "summary": "Is muscle twitching a sign of ALS?"}) + "\n"
        + json.dumps({"id": "2", "subject": "", "message": "zzzz qqqq", "summary": ""}) + "\n",
        encoding="utf-8")
    (bench / "qrels.tsv").write_text(
        "qid\tjudgment\tanswer_id\nTQ1\t4\tpage:twitching#reply1\nTQ1\t2\tpage:twitching#article\n"
        "2\t3\tnowhere\n", encoding="utf-8")
    run_file = tmp_path / "run.txt"
    done = run_cli("eval", "liveqa", str(bench), "--run-out", str(run_file), "--json",
                   env=cli_env)
    assert done.returncode == 0, done.stderr
    measures = json.loads(done.stdout)
    assert measures["questions"] == 2
    rows = [line.split() for line in run_file.read_text().splitlines()]
    first = [r for r in rows if r[0] == "1"]
    assert first[0][1:4] == ["Q0", "page:twitching#reply1", "1"] and first[0][5] == "symptom-bot"
    assert len(first) <= 100 and [int(r[3]) for r in first] == list(range(1, len(first) + 1))
    # q1's top answer is graded 4 (score 3); q2 finds nothing judged (score 0)
    assert measures["avgScore"] == pytest.approx(1.5)
    assert measures["succ@4+"] == pytest.approx(0.5)


def test_eval_liveqa_reads_translated_sets_with_a_lang_field(cli_env, tmp_path):
    assert run_cli("ingest", env=cli_env).returncode == 0
    bench = tmp_path / "bench"
    bench.mkdir()
    lines = [{"id": "1", "lang": "en", "subject": "muscle twitching",
              "message": "My thighs twitch all day, is it ALS?"},
             {"id": "1", "lang": "es", "subject": "espasmos musculares",
              "message": "zzzz qqqq"}]
    (bench / "questions.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    (bench / "qrels.tsv").write_text("qid\tjudgment\tanswer_id\nTQ1\t4\tpage:twitching#reply1\n",
                                     encoding="utf-8")
    done = run_cli("eval", "liveqa", str(bench), "--json", env=cli_env)
    assert done.returncode == 0, done.stderr
    measures = json.loads(done.stdout)
    assert measures["questions"] == 2  # one question per line, though they share an id
    assert measures["en:questions"] == 1 and measures["es:questions"] == 1
    assert measures["en:avgScore"] == pytest.approx(3.0)
    assert measures["avgScore"] == pytest.approx((3.0 + measures["es:avgScore"]) / 2)
    plain = run_cli("eval", "liveqa", str(bench), env=cli_env)
    assert "es:avgScore" in plain.stdout
