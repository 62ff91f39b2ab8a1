"""Every benchmark of issue 5 in one run; writes bench/results.md and bench/results.json.

    python bench/run_all.py [--skip-scale] [--scale-records 500000]

Ingest (cold, no-op, 1% changed) of the full MedQuAD, retrieval latency and serving memory,
LiveQA-Med DEV retrieval quality, the Telegram path, the same queries against a `chroma run`
server, and a synthetic 500,000-record index. Scratch data goes to bench/out/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MEDQUAD = SHARED / "data" / "medquad"
DEV = SHARED / "data" / "liveqa-med" / "dev"
OUT = REPO / "bench" / "out"
PY = sys.executable
CLI = [PY, "-m", "bot.cli"]


def env_for(data: Path, knowledge: Path, **extra: str) -> dict[str, str]:
    """A clean environment for one benchmark process."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "TELEGRAM_", "CHROMA_", "EMBEDDING_"))}
    env.update(DATA_DIR=str(data), KNOWLEDGE_DIR=str(knowledge), HF_HUB_OFFLINE="1",
               LOG_LEVEL="WARNING", **extra)
    return env


def run_json(args: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> dict:
    """Run a command that prints one JSON object."""
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode not in ok:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def ingest_benchmarks(results: dict) -> tuple[Path, Path]:
    """Cold ingest of both MedQuAD files, a no-op re-ingest, and one with 1% of records changed."""
    data, knowledge = OUT / "data", OUT / "knowledge"
    shutil.rmtree(OUT, ignore_errors=True)
    knowledge.mkdir(parents=True)
    for name in ("medquad.jsonl", "medquad-noanswer.jsonl"):
        shutil.copy(MEDQUAD / name, knowledge / name)
    env = env_for(data, knowledge)
    rows = {}
    for label in ("cold", "no-op"):
        report = run_json([*CLI, "ingest", "--json"], env)
        rows[label] = report
    changed = 0
    for name in ("medquad.jsonl", "medquad-noanswer.jsonl"):
        lines = (knowledge / name).read_text(encoding="utf-8").splitlines()
        for n in range(0, len(lines), 100):  # every 100th record: 1%
            record = json.loads(lines[n])
            record["question"] += " (revised)"
            lines[n] = json.dumps(record, ensure_ascii=False)
            changed += 1
        (knowledge / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows["1% changed"] = run_json([*CLI, "ingest", "--json"], env)
    for name in ("medquad.jsonl", "medquad-noanswer.jsonl"):  # the quality runs use MedQuAD as is
        shutil.copy(MEDQUAD / name, knowledge / name)
    rows["1% changed back"] = run_json([*CLI, "ingest", "--json"], env)
    results["ingest"] = {
        label: {k: r[k] for k in ("status", "seconds", "records", "added", "changed", "unchanged",
                                  "removed", "embedded", "reused", "peak_memory_mb")}
        | {"records_per_second": round(r["records"] / r["seconds"], 1) if r["seconds"] else None}
        for label, r in rows.items()
    }
    results["ingest"]["1% changed"]["records_edited"] = changed
    return data, knowledge


def query_benchmarks(results: dict, data: Path, knowledge: Path) -> None:
    """Latency and memory of retrieval, and LiveQA-Med DEV quality, on the MedQuAD index."""
    env = env_for(data, knowledge)
    results["query"] = run_json([PY, "bench/query_bench.py", "--data-dir", str(data), "--json"],
                                env)
    results["query_hnsw"] = run_json([PY, "bench/query_bench.py", "--data-dir", str(data),
                                      "--json"], {**env, "EXACT_SEARCH_MAX_VECTORS": "0"})
    results["liveqa_dev"] = run_json([*CLI, "eval", "liveqa", str(DEV), "--json",
                                      "--run-out", str(OUT / "liveqa-dev.run")], env)


def bot_benchmarks(results: dict, data: Path) -> None:
    """The Telegram path with a fake LLM (bench/bot_bench.py); its real-model rows serve the
    full MedQuAD index built above."""
    out = OUT / "bot_results.json"
    subprocess.run([PY, "bench/bot_bench.py", "--out", str(out), "--index", str(data.parent)],
                   cwd=REPO, check=True, capture_output=True,
                   env=env_for(OUT / "bot-data", OUT / "knowledge"))
    results["bot"] = json.loads(out.read_text(encoding="utf-8"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_benchmarks(results: dict, data: Path, knowledge: Path) -> None:
    """The same queries against a `chroma run` server holding the same vectors."""
    port = _free_port()
    chroma = Path(PY).with_name("chroma")
    server = subprocess.Popen([str(chroma), "run", "--path", str(OUT / "chroma-server"),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        server_data = OUT / "server-data"
        # Queries go to the server's own HNSW index (exact in-memory search would only read
        # the vectors from it once).
        env = env_for(server_data, knowledge, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(port),
                      EXACT_SEARCH_MAX_VECTORS="0")
        copied = run_json([PY, "bench/synthetic.py", "copy", str(data), "--json"], env)
        results["server"] = {"ingest_seconds": copied["seconds"],
                             "query": run_json([PY, "bench/query_bench.py", "--data-dir",
                                                str(server_data), "--json"], env)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def scale_benchmarks(results: dict, data: Path, knowledge: Path, records: int) -> None:
    """A synthetic index of `records` records built from MedQuAD with variations."""
    scale_data = OUT / "scale-data"
    env = env_for(scale_data, knowledge)
    built = run_json([PY, "bench/synthetic.py", "scale", str(data), "--records", str(records),
                      "--json"], env)
    results["scale"] = {"build": built,
                        "query": run_json([PY, "bench/query_bench.py", "--data-dir",
                                           str(scale_data), "--json"], env)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-bot", action="store_true")
    parser.add_argument("--scale-records", type=int, default=500_000)
    parser.add_argument("--keep-skipped", action="store_true",
                        help="keep the previous results of the parts skipped this time")
    args = parser.parse_args()
    previous = REPO / "bench" / "results.json"
    results: dict = json.loads(previous.read_text()) if args.keep_skipped and previous.exists() \
        else {}
    results.update({"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
                    "started": time.strftime("%Y-%m-%d %H:%M:%S")})
    data, knowledge = ingest_benchmarks(results)
    query_benchmarks(results, data, knowledge)
    if not args.skip_bot:
        bot_benchmarks(results, data)
    server_benchmarks(results, data, knowledge)
    if not args.skip_scale:
        scale_benchmarks(results, data, knowledge, args.scale_records)
    (REPO / "bench" / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    from bench.report import render  # noqa: PLC0415 - the renderer only matters at the end

    (REPO / "bench" / "results.md").write_text(render(results), encoding="utf-8")
    print((REPO / "bench" / "results.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
