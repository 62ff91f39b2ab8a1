"""Render bench/results.json as bench/results.md, with each target and whether it was met."""

from __future__ import annotations

TARGETS = {
    ("ingest", "cold", "seconds"): ("cold ingest ≤ 8 min", 480),
    ("ingest", "no-op", "seconds"): ("no-op re-ingest ≤ 5 s", 5),
    ("ingest", "1% changed", "seconds"): ("1% changed ≤ 20 s", 20),
    ("query", "p50_ms"): ("retrieval p50 ≤ 15 ms", 15),
    ("query", "p95_ms"): ("retrieval p95 ≤ 30 ms", 30),
    ("query", "peak_rss_mb"): ("serving memory ≤ 1.2 GB", 1200),
}


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
        ("100 people with a 1 s LLM all answered ≤ 3 s", ("b_100_people_1s_llm", "max"), 3, 1),
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
              "| index | store | records | p50 ms | p95 ms | p99 ms | peak RSS MB |",
              "|---|---|---|---|---|---|---|"]
    for label, query in (("MedQuAD", results.get("query")),
                         ("MedQuAD", _get(results, ("server", "query"))),
                         ("synthetic", _get(results, ("scale", "query")))):
        if query:
            store = "chroma run server" if query["vector_store"] != "embedded" else "embedded"
            lines.append(f"| {label} | {store} | {query['records']:,} | {query['p50_ms']} | "
                         f"{query['p95_ms']} | {query['p99_ms']} | {query['peak_rss_mb']} |")
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
        lines += ["", "## Telegram path (fake Bot API, fake LLM)", "", "```",
                  _bot_summary(bot), "```"]
    return "\n".join(lines) + "\n"


def _bot_summary(bot: dict) -> str:
    import json

    return json.dumps(bot, indent=2)[:3000]
