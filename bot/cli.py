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
    for noisy in ("httpx", "httpcore", "chromadb", "telegram.ext", "openai", "urllib3"):
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


@click.group()
@click.version_option(package_name="symptom-bot")
def main() -> None:
    """symptom-bot: answers symptom questions with what real doctors replied."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def ingest(paths: tuple[Path, ...], as_json: bool) -> None:
    """Build the knowledge base from PATHS (default KNOWLEDGE_DIR) and switch to it."""
    from bot.ingest import ingest as run_ingest
    from bot.reports import format_ingest

    settings = load()
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


if __name__ == "__main__":
    main()
