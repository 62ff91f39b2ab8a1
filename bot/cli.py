"""The `symptom-bot` command line."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from bot.settings import Settings, SettingsError, get_settings


def setup_logging(level: str) -> None:
    """Plain log lines on stderr; libraries kept quiet."""
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for noisy in ("httpx", "httpx2", "httpcore", "chromadb", "telegram.ext", "openai", "urllib3",
                  "bm25s"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def load() -> Settings:
    """Settings, or exit 2 with a message naming the bad variables."""
    try:
        settings = get_settings()
    except SettingsError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    setup_logging(settings.log_level)
    return settings


EPILOG = """\b
Examples:
  symptom-bot chat                        talk to the bot in the terminal
  symptom-bot ask "my muscles twitch" --json
  symptom-bot ingest                      build the index from KNOWLEDGE_DIR
  symptom-bot ingest medquad.jsonl        ... or from the files given
  symptom-bot ingest --medquad            download MedQuAD into KNOWLEDGE_DIR, then ingest
  symptom-bot status                      what the active index holds
  symptom-bot stats --chart stats.png     the last 30 days, per day, and a chart
  symptom-bot run                         start the Telegram bot
  symptom-bot triage "crushing chest pain and I can't breathe"
  symptom-bot eval liveqa ../shared/data/liveqa-med/dev

\b
Exit codes:
  0  done
  1  done with warnings: `ingest` rejected some files or lines (the rest
     is indexed), `triage --file` skipped some lines
  2  error, nothing done: invalid configuration (the variable is named),
     no TELEGRAM_BOT_TOKEN for `run`, an unusable index, a failed ingest
     (the active version stays), or a wrong command line

\b
Settings come from the environment and .env (see .env.example). The command
lives in .venv: run .venv/bin/symptom-bot, or `source .venv/bin/activate`.
"""


@click.group(epilog=EPILOG)
@click.version_option(package_name="symptom-bot")
def main() -> None:
    """symptom-bot: answers symptom questions with what real doctors replied."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--medquad", is_flag=True,
              help="First download the public MedQuAD collection (MEDQUAD_URL) into "
                   "KNOWLEDGE_DIR/medquad, resuming an interrupted download, then ingest.")
def ingest(paths: tuple[Path, ...], as_json: bool, medquad: bool) -> None:
    """Build the knowledge base from PATHS (default KNOWLEDGE_DIR) and switch to it."""
    from bot.ingest import ingest as run_ingest
    from bot.reports import format_ingest

    if medquad and paths:
        raise click.UsageError("--medquad ingests KNOWLEDGE_DIR, where it downloads to: "
                               "give no PATH with it")
    settings = load()
    if medquad:
        from bot.medquad import MedquadError, fetch_medquad

        try:
            click.echo(fetch_medquad(settings), err=True)
        except MedquadError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
    report = run_ingest(settings, list(paths) or None)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_ingest(report))
    sys.exit(report.exit_code)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Show the active index version, its records and where it is stored."""
    from bot.index_store import IndexUnusable
    from bot.knowledge_base import status as index_status
    from bot.reports import format_status

    settings = load()
    try:
        info = index_status(settings)
    except IndexUnusable as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(json.dumps(info, indent=2, ensure_ascii=False) if as_json else format_status(info))


@main.command()
def rollback() -> None:
    """Make the previous index version active again."""
    from bot.index_store import IndexUnusable
    from bot.knowledge_base import rollback as index_rollback

    settings = load()
    try:
        active, previous = index_rollback(settings)
    except IndexUnusable as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(f"active version is now {active} (was {previous}; `rollback` again to undo)")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True,
              help="How many days, up to today (UTC).")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the days as a PNG chart into this file (as /stats sends).")
def stats(as_json: bool, days: int, chart: Path | None) -> None:
    """Per day: questions by triage level, no-match answers, 👍/👎 (and by source), LLM
    failures and fallbacks, from the bot's database in DATA_DIR."""
    import sqlite3

    from bot.stats import NO_COUNTERS, daily, format_table
    from bot.stats_chart import LEGEND, render_png
    from bot.telegram.app import DB_NAME
    from bot.telegram.storage import StorageError, Store

    settings = load()
    path = Path(settings.data_dir) / DB_NAME
    try:
        if path.exists():
            store = Store(path)
            report = daily(store, days)
            store.close()
        else:  # a bot that has not run yet: all zeros
            click.echo(f"no bot database at {path} yet", err=True)
            report = daily(NO_COUNTERS, days)
        if chart is not None:
            chart.write_bytes(render_png(report))
            click.echo(f"chart written to {chart}. {LEGEND}", err=True)
    except (StorageError, sqlite3.Error, OSError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2) if as_json
               else format_table(report))


def _engine(settings: Settings):  # noqa: ANN202
    from bot.engine import Engine
    from bot.index_store import IndexUnusable
    from bot.prompts import PromptError

    try:
        engine = Engine(settings)
        engine.preload()  # models and index load while the message is triaged
        return engine
    except (IndexUnusable, PromptError, ValueError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


@main.command()
@click.argument("message")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def ask(message: str, as_json: bool) -> None:
    """Answer one MESSAGE on the console."""
    import asyncio

    from bot.chroma_store import StoreUnavailable
    from bot.index_store import IndexUnusable

    settings = load()
    try:
        answer = asyncio.run(_engine(settings).answer(message))
    except (IndexUnusable, StoreUnavailable) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=2) if as_json
               else answer.text)


@main.command()
def run() -> None:
    """Start the Telegram bot (long polling, or a webhook when WEBHOOK_URL is set)."""
    from bot.telegram import run_bot

    sys.exit(run_bot(load()))


@main.command()
def chat() -> None:
    """Talk to the bot in the terminal (same engine and history rules as Telegram)."""
    from bot.chat import run_chat

    settings = load()
    if "log_level" not in settings.model_fields_set:  # LOG_LEVEL not set: keep the chat clean
        setup_logging("WARNING")
    sys.exit(run_chat(settings, _engine(settings)))


@main.command()
@click.argument("message", required=False)
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSONL of {\"id\", \"text\"} objects; prints one JSON line per input.")
@click.option("--rules-only", is_flag=True, help="The rules alone, without the semantic model.")
def triage(message: str | None, path: Path | None, rules_only: bool) -> None:
    """Print the triage of MESSAGE (level, category, red flags) or of every line of FILE.

    \b
    Examples:
      symptom-bot triage "crushing chest pain and I can't breathe"
      symptom-bot triage --file messages.jsonl > verdicts.jsonl
    Each output line: {"id", "level", "category", "flags", "language"}.
    Exit codes: 0 all lines triaged, 1 some lines skipped (named on stderr).
    """
    from bot.triage import load_default

    triage_all = load_default(semantic=not rules_only)
    if path is None:
        if message is None:
            raise click.UsageError("give a MESSAGE or --file F.jsonl")
        verdict = triage_all.classify(message)
        click.echo(verdict.level)
        for flag in verdict.flags:
            click.echo(f"  {flag.layer}: {flag.id} ({flag.level}): {flag.words}")
        return
    failed = False
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                text = item["text"]
                if not isinstance(text, str):
                    raise TypeError("'text' is not a string")
            except (ValueError, KeyError, TypeError) as error:
                click.echo(f"{path}:{number}: skipped: {error}", err=True)
                failed = True
                continue
            verdict = triage_all.classify(text).public()
            click.echo(json.dumps({"id": item.get("id"), **verdict}, ensure_ascii=False))
    sys.exit(1 if failed else 0)


@main.group(name="eval")
def evaluate_group() -> None:
    """Measure the bot against benchmarks."""


@evaluate_group.command(name="liveqa")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--run-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a TREC run (top 100 records per question) to this file.")
@click.option("--query", "field", type=click.Choice(["message", "paraphrase", "summary"]),
              default="message", show_default=True,
              help="Query with subject + message (the real input) or a human rewrite.")
@click.option("--tag", default="symptom-bot", show_default=True, help="Run tag in the TREC file.")
@click.option("--json", "as_json", is_flag=True, help="Print the measures as JSON.")
@click.option("--answerable", is_flag=True,
              help="Rank only records with an answer to show, as the bot does for a person.")
def eval_liveqa(folder: Path, run_out: Path | None, field: str, tag: str, as_json: bool,
                answerable: bool) -> None:
    """Score retrieval on LiveQA-Med questions (FOLDER has questions.jsonl and qrels.tsv)."""
    from bot.chroma_store import StoreUnavailable
    from bot.evaluation import format_measures
    from bot.index_store import IndexUnusable
    from bot.knowledge_base import KnowledgeBase
    from bot.liveqa import run_liveqa, save_run
    from bot.retrieval import Retriever

    settings = load()
    try:
        measures, run, latencies = run_liveqa(Retriever(KnowledgeBase(settings)), folder, field,
                                               answerable=answerable)
    except (IndexUnusable, StoreUnavailable, ValueError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    if run_out:
        save_run(run, run_out, tag)
    ordered = sorted(latencies)
    measures["latency_p50_ms"] = round(ordered[len(ordered) // 2], 2) if ordered else 0.0
    if as_json:
        click.echo(json.dumps(measures, indent=2))
    else:
        click.echo(format_measures(measures))


if __name__ == "__main__":
    main()
