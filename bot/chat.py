"""`symptom-bot chat`: a conversation in the terminal with the same engine and history rules."""

from __future__ import annotations

import asyncio

import click

from bot.answer import compose
from bot.engine import Engine, Turn
from bot.settings import Settings


def trim_history(history: list[Turn], turns: int, chars: int) -> list[Turn]:
    """The last `turns` exchanges that fit in `chars` characters, oldest first."""
    kept: list[Turn] = []
    used = 0
    for role, text in reversed(history[-2 * turns:] if turns else []):
        if used + len(text) > chars:
            break
        kept.append((role, text))
        used += len(text)
    return list(reversed(kept))


async def _loop(settings: Settings, engine: Engine) -> int:
    history: list[Turn] = []
    click.echo("symptom-bot chat: describe your symptoms. /new starts over, /quit leaves.\n")
    while True:
        try:
            message = await asyncio.to_thread(input, "you> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return 0
        message = message.strip()
        if not message:
            continue
        if message in ("/quit", "/exit"):
            return 0
        if message == "/new":
            history.clear()
            click.echo("(new conversation)\n")
            continue
        click.echo("bot> ", nl=False)
        shown: list[str] = []
        answer = None
        recent = trim_history(history, settings.history_turns, settings.history_chars)
        async for event in engine.stream(message, recent):
            if isinstance(event, str):
                click.echo(event, nl=False)
                shown.append(event)
            else:
                answer = event
        streamed = "".join(shown)
        if answer.mode == "llm":  # the body was streamed; add what code appends
            click.echo("\n\n" + compose("", answer.disclaimer, sources=answer.sources,
                                          labels=engine.prompts.labels(answer.language)))
        elif answer.text.startswith(streamed):
            click.echo(answer.text[len(streamed):])
        else:
            click.echo("\n\n" + answer.text)
        click.echo()
        history += [("user", message), ("assistant", answer.body)]


def run_chat(settings: Settings, engine: Engine) -> int:
    """Run the terminal conversation until /quit or end of input."""
    return asyncio.run(_loop(settings, engine))
