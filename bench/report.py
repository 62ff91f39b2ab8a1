"""Render bench/results.json as bench/results.md, with each target and whether it was met."""

from __future__ import annotations

TARGETS = {
    ("ingest", "cold", "seconds"): ("cold ingest ≤ 8 min", 480),
    ("ingest", "no-op", "seconds"): ("no-op re-ingest ≤ 5 s", 5),
    ("ingest", "1% changed", "seconds"): ("1% changed ≤ 20 s", 20),
    ("query", "p50_ms"): ("retrieval p50 ≤ 20 ms", 20),
    ("query", "p95_ms"): ("retrieval p95 ≤ 40 ms", 40),
    ("query", "ratio_p50"): ("retrieval p50 ≤ 1.25 × a plain embed + Chroma query", 1.25),
    ("query", "peak_rss_mb"): ("serving memory ≤ 1.0 GB", 1000),
}


BOT_ROWS = [
    ("a_50_people_1s_llm", "(a) 50 people, 1 s LLM, fake embedder, 30/s"),
    ("b_in_process_30s", "(b) 100 people, same, 30/s"),
    ("b_in_process_unpaced", "(b) 100 people, same, no Bot API pace"),
    ("b_100_people_1s_llm", "(b) 100 people, bot process, real model, 30/s"),
    ("b_paid_broadcast", "(b) same, paid broadcast above 30/s"),
    ("b_unpaced", "(b) same, no Bot API pace"),
]


def _get(data: dict, path: tuple) -> object:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def render(results: dict) -> str:
    """Markdown tables of every benchmark."""
    lines = ["# Benchmark results", "",
             f"Run {results.get('started')} on {results['machine']['cores']} cores, "
             f"Python {results['machine']['python']}. Written by `python bench/run_all.py`.", ""]
    lines += ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for path, (label, limit) in TARGETS.items():
        value = _get(results, path)
        if value is not None:
            lines.append(f"| {label} | {value} | {'yes' if value <= limit else 'no'} |")
    bot = results.get("bot", {})
    for label, key, limit, scale in (
        ("bot overhead p50 ≤ 50 ms", ("c_overhead_instant_llm", "overhead_p50"), 50, 1000),
        ("100 people, 1 s LLM, all answered ≤ 3 s: bot process, real model, 30/s",
         ("b_100_people_1s_llm", "max"), 3, 1),
        ("same, no Bot API pace", ("b_unpaced", "max"), 3, 1),
        ("same, fake embedder, no Bot API pace", ("b_in_process_unpaced", "max"), 3, 1),
    ):
        value = _get(bot, key)
        if value is not None:
            value = round(value * scale, 2)
            lines.append(f"| {label} | {value} | {'yes' if value <= limit else 'no'} |")
    lines += ["", "## Ingest of the full MedQuAD (47,457 records)", "",
              "| run | seconds | records/s | embedded | reused | added | changed | unchanged | "
              "peak MB |", "|---|---|---|---|---|---|---|---|---|"]
    for label, row in results.get("ingest", {}).items():
        lines.append(f"| {label} | {row['seconds']} | {row['records_per_second']} | "
                     f"{row['embedded']} | {row['reused']} | {row['added']} | {row['changed']} | "
                     f"{row['unchanged']} | {row['peak_memory_mb']} |")
    lines += ["", "## Retrieval latency and serving memory", "",
              "| index | store | records | p50 ms | p95 ms | p99 ms | plain p50 ms | ratio | "
              "peak RSS MB |", "|---|---|---|---|---|---|---|---|---|"]
    for label, query in (("MedQuAD", results.get("query")),
                         ("MedQuAD", results.get("query_hnsw")),
                         ("MedQuAD", _get(results, ("server", "query"))),
                         ("synthetic", _get(results, ("scale", "query")))):
        if query:
            store = "chroma run server" if query["vector_store"] != "embedded" else "embedded"
            store = f"{store}, {query.get('dense_search', 'Chroma HNSW')} search"
            lines.append(f"| {label} | {store} | {query['records']:,} | {query['p50_ms']} | "
                         f"{query['p95_ms']} | {query['p99_ms']} | "
                         f"{query.get('plain_p50_ms', '')} | {query.get('ratio_p50', '')} | "
                         f"{query['peak_rss_mb']} |")
    lines += ["", "Plain: the same process embeds the message, asks Chroma for its 12 nearest "
              "questions and reads their records; ratio = retrieval p50 / plain p50."]
    for query in (results.get("query"), results.get("query_hnsw")):
        if query and query.get("measured"):
            lines += ["", f"The {query['dense_search']} row re-measured {query['measured']}: "
                      f"`{query['command']}`."]
    scale = results.get("scale", {}).get("build")
    if scale:
        lines += ["", f"Synthetic index: {scale['records']:,} records built in "
                  f"{scale['seconds']} s (vectors copied with noise, not re-embedded; "
                  f"{scale['embedded']:,} vectors added), peak {scale['peak_memory_mb']} MB."]
    if results.get("server"):
        lines += ["", f"Server index built (vectors copied) in "
                  f"{results['server']['ingest_seconds']} s."]
    measures = results.get("liveqa_dev")
    if measures:
        lines += ["", "## LiveQA-Med DEV (raw subject + message, no LLM)", "",
                  "| measure | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in measures.items()]
    if bot:
        lines += ["", "## Telegram path (fake Bot API, fake LLM)", "", bot_table(bot), "",
                  bot.get("note", "")]
    return "\n".join(lines) + "\n"


def bot_table(bot: dict) -> str:
    """Seconds until the first / median / 95th / last person had the full answer."""
    lines = ["| scenario | first s | p50 s | p95 s | last s | LLM answers | API calls |",
             "|---|---|---|---|---|---|---|"]
    for key, label in BOT_ROWS:
        row = bot.get(key)
        if row:
            calls = ", ".join(f"{k} {v}" for k, v in row.get("api_calls", {}).items()
                              if k not in ("getMe", "setMyCommands", "deleteWebhook"))
            lines.append(f"| {label} | {row['min']:.2f} | {row['p50']:.2f} | {row['p95']:.2f} | "
                         f"{row['max']:.2f} | {row.get('answers_from_llm', '–')} | {calls} |")
    c = bot.get("c_overhead_instant_llm")
    if c:
        lines.append(f"| (c) one message at a time, instant LLM: bot overhead p50 / p95 | | "
                     f"{c['overhead_p50'] * 1000:.1f} ms | {c['overhead_p95'] * 1000:.1f} ms "
                     "| | | |")
    return "\n".join(lines)
