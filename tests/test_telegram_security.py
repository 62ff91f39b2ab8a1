"""What an outsider can try: webhook POSTs without the secret, forged or malformed button data,
and /stats asked for in a group."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import pytest

from bot.settings import load_settings
from bot.telegram import texts
from tests.fakes.telegram_api import FakeBotApi
from tests.telegram_helpers import ADMIN, TWITCH, build_index, running_bot

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER, OTHER, GROUP = 7171, 7272, -1007373
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory):
    return build_index(tmp_path_factory.mktemp("telegram-security"))




def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _listening(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.02)


def _start_update(api: FakeBotApi) -> dict:
    return api.send_update("message", {
        "message_id": 1, "date": int(time.time()), "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        "chat": {"id": USER, "type": "private", "first_name": "U"},
        "from": {"id": USER, "is_bot": False, "first_name": "U"}})


async def test_webhook_without_a_secret_registers_one_and_refuses_posts_without_it(root, api):
    pytest.importorskip("tornado", reason="webhook mode needs python-telegram-bot[webhooks]")
    import aiohttp

    port = _free_port()
    async with running_bot(root, api, webhook_url="https://bot.example.org/hook",
                           webhook_listen="127.0.0.1", webhook_port=port):
        await api.wait_for(lambda: api.webhook)
        update = _start_update(api)
        await _listening(port)
        secret = api.webhook.get("secret_token") or ""
        url = f"http://127.0.0.1:{port}/hook"
        statuses = []
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {SECRET_HEADER: "guessed"}, {SECRET_HEADER: secret}):
                async with session.post(url, json=update, headers=headers) as response:
                    statuses.append(response.status)
        [start] = await api.wait_for_messages(USER, 1)
    assert len(secret) >= 32
    assert statuses == [403, 403, 200]
    assert "not a doctor" in start.plain_text and len(api.messages_in(USER)) == 1


def test_the_webhook_listener_defaults_to_loopback():
    assert load_settings().webhook_listen == "127.0.0.1"


async def test_forged_buttons_show_nothing_and_store_nothing(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        [victim] = await bot.answer(USER, TWITCH)
        [mine] = await bot.answer(OTHER, "my ankles swell at night after standing all day")
        victim_id = victim.callback_data[0].split(":")[1]
        for data in (f"src:{victim_id}", f"fb:{victim_id}:up"):
            api.press_button(OTHER, mine.message_id, data, check=False)
        await api.wait_for(lambda: len(api.callback_answers) == 2)
        await bot.ask(OTHER, "/help")  # anything sent for the presses would be before this
        stats = bot.services.store.stats()
    assert len(api.messages_in(OTHER)) == 2  # the answer and /help: no sources
    assert all(a.show_alert and a.text == texts.NOT_YOURS for a in api.callback_answers)
    assert (stats.thumbs_up, stats.thumbs_down) == (0, 0)


async def test_a_button_in_the_chat_of_the_answer_works_for_others_there(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        [answer] = await bot.answer(USER, f"@{api.bot_username} {TWITCH}", chat_id=GROUP,
                                    chat_type="supergroup")
        api.press_button(OTHER, answer.message_id, answer.callback_data[0], chat_id=GROUP)
        await api.wait_for(lambda: api.callback_answers)
        stats = bot.services.store.stats()
    assert api.callback_answers[0].text == texts.FEEDBACK_THANKS[1] and stats.thumbs_up == 1


async def test_malformed_and_unknown_button_data_is_answered_without_an_error(root, api,
                                                                           tmp_path, caplog):
    junk = ["fb:zzz", "fb:", "fb:abc:sideways", "src:", "src:a:b", "zzz", "x" * 64]
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        [answer] = await bot.answer(USER, TWITCH)
        with caplog.at_level(logging.INFO):
            for data in junk:
                api.press_button(USER, answer.message_id, data, check=False)
            await api.wait_for(lambda: len(api.callback_answers) == len(junk))
    assert api.unanswered_callback_queries == []
    assert {a.text for a in api.callback_answers} == {texts.BUTTON_UNKNOWN}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_stats_asked_in_a_group_are_sent_privately(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        [notice] = await bot.ask(ADMIN, "/stats", chat_id=GROUP, chat_type="supergroup")
        private = (await api.wait_for_messages(ADMIN, 1))[0]  # then the chart
        api.fail_next("sendMessage", status=403)  # the admin never opened a private chat
        [refused] = await bot.ask(ADMIN, "/stats", chat_id=GROUP, chat_type="supergroup")
    assert "People:" in private.plain_text
    assert notice.plain_text == texts.STATS_SENT_PRIVATELY
    assert refused.plain_text == texts.STATS_PRIVATE_ONLY
    assert not any("People:" in m.plain_text for m in api.messages_in(GROUP))
