"""The inbox: a message is stored before Telegram is told it arrived, so a `symptom-bot run`
killed with SIGKILL mid-answer answers it after the restart, once, with a word on the delay."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from bot.telegram import texts
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import FakeBotApi
from tests.telegram_helpers import TWITCH, build_process_index, process_env, start_process

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 8181
SECOND = "my ankles swell at night after standing all day, why?"
REPLY = "Twitching with anxiety is usually benign [1]."


def finals(api: FakeBotApi) -> list:
    return [m for m in api.messages_in(USER) if m.callback_data]


async def until(condition, timeout: float, what: str) -> None:
    """Wait for a condition on the LLM fake (its state does not wake FakeBotApi.wait_for)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


async def polling(api: FakeBotApi, process, calls_before: int, log) -> None:
    await api.wait_for(lambda: process.returncode is not None
                       or len(api.calls_to("getUpdates")) > calls_before, 60, "the bot to poll")
    assert process.returncode is None, log.read_text()


@contextlib.asynccontextmanager
async def bot_process(env, log, api):
    process = await start_process(env, log)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_killed_mid_answer_the_restarted_bot_answers_once(tmp_path):
    log = tmp_path / "bot.log"
    async with FakeBotApi() as api, FakeOpenAI(REPLY, delay=600) as llm:
        root = await build_process_index(tmp_path, llm)
        env = process_env(root, api, llm)
        # 1. killed while the LLM writes the answer: the update is already acknowledged
        async with bot_process(env, log, api) as first:
            await polling(api, first, 0, log)
            api.send_text(USER, TWITCH)
            await until(lambda: llm.chat_calls == 1, 30, "the LLM to be asked")
            await api.wait_for(lambda: not api.pending_updates, 5, "the acknowledgement")
            first.kill()
            assert await first.wait() == -9
        assert finals(api) == []
        # 2. the restarted bot answers it; then a second message is killed before its ack
        llm.delay = 0
        restarted = time.monotonic()
        async with bot_process(env, log, api) as second:
            await polling(api, second, len(api.calls_to("getUpdates")), log)
            await api.wait_for(lambda: len(finals(api)) == 1, 30, "the late answer")
            print(f"late answer {time.monotonic() - restarted:.1f} s after the restart")
            llm.delay = 600
            api.hold_acks = True
            api.send_text(USER, SECOND)
            await until(lambda: llm.chat_calls == 3, 30, "the LLM to be asked again")  # condense
            assert api.pending_updates  # delivered, stored, not yet acknowledged
            second.kill()
            await second.wait()
        # 3. Telegram delivers the second message again; the inbox has it too: one answer
        api.hold_acks = False
        llm.delay = 0
        async with bot_process(env, log, api) as third:
            await polling(api, third, len(api.calls_to("getUpdates")), log)
            await api.wait_for(lambda: len(finals(api)) == 2, 30, "the second late answer")
            await asyncio.sleep(1.0)  # time for a duplicate to show up
            third.terminate()
            assert await third.wait() == 0, log.read_text()
    sent = [m.plain_text for m in api.messages_in(USER)]
    assert sent.count(texts.LATE) == 2 and len(finals(api)) == 2, sent
    assert sent[0] == texts.LATE and sent[1].startswith(REPLY)
    # killed, answered late; killed while condensing the follow-up, then condensed and answered
    assert llm.chat_calls == 5
