"""Every way a message reaches the bot is triaged first: text, edits, captions of photos, voice
and files, over-long messages, and a full disk never hides an emergency. Real PTB Application
against the fake Bot API."""

from __future__ import annotations

import sqlite3

import pytest

from bot.telegram import texts
from tests.telegram_helpers import TWITCH, build_index, running_bot

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 5151
EMERGENCY = "my husband's face is drooping on one side and his words are slurred"
HIDDEN = ("there's a dark curtain coming down over the vision in my left eye since this "
          "morning, with flashes")  # the model finds it, not the rules


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build_index(tmp_path_factory.mktemp("telegram-triage"))




def is_emergency(message) -> bool:
    return "🚨" in message.plain_text and "112" in message.plain_text


async def test_an_edit_that_adds_an_emergency_is_answered(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        sent = api.send_text(USER, "is it fine to take ibuprofen with food?")
        await bot.final(USER)
        before = len(api.messages_in(USER))
        api.edit_text(USER, sent["message_id"], EMERGENCY)
        [reply] = (await api.wait_for_messages(USER, before + 1))[before:]
        quiet = len(api.messages_in(USER))
        api.edit_text(USER, sent["message_id"], "is it fine to take ibuprofen after food?")
        await bot.ask(USER, "/help")
    assert is_emergency(reply)
    assert len(api.messages_in(USER)) == quiet + 1  # a harmless edit gets no new answer


@pytest.mark.parametrize("kind", ["photo", "voice", "document"])
async def test_a_caption_with_an_emergency_gets_the_emergency_text(root, api, tmp_path, kind):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        getattr(api, f"send_{kind}")(USER, caption=HIDDEN)
        [reply] = await api.wait_for_messages(USER, 1)
        await bot.ask(USER, "/help")
    assert is_emergency(reply)


async def test_a_routine_caption_is_answered_with_a_word_on_the_attachment(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        api.send_photo(USER, caption=TWITCH)
        messages = await bot.final(USER)
    assert messages[0].plain_text == texts.CAPTION_ONLY
    assert messages[-1].callback_data  # the real answer, with its buttons


async def test_an_over_long_message_is_triaged_whole_before_the_length_note(root, api, tmp_path):
    story = "We had a long week at home with the kids and the dog. " * 8 + EMERGENCY
    async with running_bot(root, api, db_path=tmp_path / "db", max_message_chars=300) as bot:
        [emergency] = await bot.ask(USER, story)
        [note] = await bot.ask(USER, "We had a long week. " * 20)
    assert len(story) > 300 and is_emergency(emergency)
    assert "characters long" in note.plain_text


async def test_a_full_disk_never_hides_an_emergency_nor_a_routine_answer(root, api, tmp_path,
                                                                        caplog):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        store = bot.services.store

        def full(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise sqlite3.OperationalError("database or disk is full")

        for name in ("count_question", "add_turns", "save_answer", "history"):
            setattr(store, name, full)
        [emergency] = await bot.ask(USER, "crushing chest pain, sweating, can't breathe")
        before = len(api.messages_in(USER))
        api.send_text(USER, TWITCH)
        await api.wait_for(lambda: any("Sources" in m.plain_text or "Dr." in m.plain_text
                                       for m in api.messages_in(USER)[before:]), 10)
    assert is_emergency(emergency)
    assert "Sorry, something went wrong" not in " ".join(m.plain_text
                                                         for m in api.messages_in(USER))
    disk_lines = [r for r in caplog.records if "could not write" in r.getMessage()]
    assert disk_lines and all("chest" not in r.getMessage() for r in disk_lines)
