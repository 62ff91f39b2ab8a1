"""End to end: a person talking to the real PTB Application (served as `symptom-bot run` does)
over FakeBotApi, with the real Engine on a small real index and FakeOpenAI as the LLM."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from pathlib import Path

import pytest

from bot.telegram import texts
from bot.telegram.app import run_bot
from bot.telegram.streaming import StreamConfig
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import ApiRequestError
from tests.fakes.telegram_html import parse_html
from tests.telegram_helpers import (
    ADMIN,
    DOCTOR_WORDS,
    FAST,
    SPECIAL_ANSWER,
    SPECIAL_QUESTION,
    TWITCH,
    build_index,
    running_bot,
    settings_for,
)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 4242
FOLLOW_UP = "what about the breathing part?"
EMERGENCY = "crushing chest pain spreading to my left arm and I can't catch my breath"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small real index for the module (tests that reload build their own)."""
    return build_index(tmp_path_factory.mktemp("telegram"))




def disclaimer_last(bot, messages) -> None:
    disclaimer = bot.services.engine.prompts.disclaimer
    assert messages[-1].plain_text.endswith(disclaimer)
    assert sum(m.plain_text.count(disclaimer) for m in messages) == 1


async def test_start_help_privacy_and_registered_commands(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        [start] = await bot.ask(USER, "/start")
        [help_] = await bot.ask(USER, "/help")
        [admin_help] = await bot.ask(ADMIN, "/help")
        [privacy] = await bot.ask(USER, "/privacy")
    assert "not a doctor" in start.plain_text and "not for emergencies" in start.plain_text
    assert "not end-to-end encrypted" in start.plain_text
    assert start.plain_text.endswith(bot.services.engine.prompts.disclaimer)
    for command in ("/new", "/forget", "/privacy"):
        assert command in help_.plain_text
    assert "/reload" not in help_.plain_text and "/reload" in admin_help.plain_text
    assert "30 days" in privacy.plain_text and "/forget" in privacy.plain_text
    assert [c["command"] for c in api.commands["default"]] == [
        "start", "help", "new", "privacy", "forget"]
    assert {"reload", "stats"} <= {c["command"] for c in api.commands[f"chat:{ADMIN}"]}


async def test_conversation_streams_and_uses_history_for_the_follow_up(root, api, tmp_path):
    reply = "Twitching with anxiety is usually benign [1]. " * 6 + "\n\nSee a neurologist [1]."
    replies = [reply, "Is shallow breathing with muscle twitching a sign of ALS?", "Breath [1]."]
    async with FakeOpenAI(replies, chunk_delay=0.01) as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db") as bot:
        first = await bot.answer(USER, TWITCH)
        second = await bot.answer(USER, FOLLOW_UP)
    [answer] = first
    assert answer.plain_text.startswith("Twitching with anxiety is usually benign [1].")
    assert "Sources\n[1] Dr. Jiang Junyi, Neurology" in answer.plain_text
    disclaimer_last(bot, first)
    assert {"type": "bold", "offset": answer.plain_text.index("Sources"), "length": 7} in \
        answer.entities
    assert [c.split(":")[0] for c in answer.callback_data] == ["fb", "fb", "src"]
    drafts = [d for d in api.drafts[USER] if d.draft_id == api.drafts[USER][0].draft_id]
    assert len(drafts) >= 2 and drafts[-1].plain_text != drafts[0].plain_text
    assert reply.startswith(drafts[0].plain_text) and len(drafts[0].plain_text) < len(reply)
    assert api.drafts[USER][-1].draft_id != drafts[0].draft_id  # one draft per answer
    assert any(a.action == "typing" and a.chat_id == USER for a in api.chat_actions)
    condense = llm.chat_requests[1]["messages"][0]["content"]
    assert TWITCH in condense and FOLLOW_UP in condense
    assert second[-1].plain_text.startswith("Breath [1].")


async def test_new_and_forget(root, api, tmp_path):
    async with FakeOpenAI("Mostly benign [1].") as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db") as bot:
        await bot.answer(USER, TWITCH)
        [fresh] = await bot.ask(USER, "/new")
        await bot.answer(USER, "and the twitching in my eyelid?")  # a follow-up, but after /new
        assert llm.chat_calls == 2  # no condensing: the history was dropped
        assert bot.services.store.knows(USER)
        [gone] = await bot.ask(USER, "/forget")
        assert not bot.services.store.knows(USER)
        assert bot.services.store.stats().people == 0
        [again] = await bot.ask(USER, "/forget")
    assert fresh.plain_text == texts.NEW
    assert gone.plain_text == texts.FORGOTTEN and again.plain_text == texts.NOTHING_TO_FORGET


async def test_feedback_and_sources_buttons(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        [answer] = await bot.answer(USER, TWITCH)
        up, down, sources = answer.callback_data
        assert len(up.encode()) <= 64
        api.press_button(USER, answer.message_id, up)
        await api.wait_for(lambda: len(api.callback_answers) == 1 and answer.edit_count == 1)
        assert api.callback_answers[0].text == texts.FEEDBACK_THANKS[1]
        assert answer.buttons[0]["text"] == "👍 ✓" and answer.buttons[1]["text"] == "👎"
        api.press_button(USER, answer.message_id, up)
        await api.wait_for(lambda: len(api.callback_answers) == 2)
        assert api.callback_answers[1].text == texts.FEEDBACK_SAME and answer.edit_count == 1
        api.press_button(USER, answer.message_id, down)
        await api.wait_for(lambda: len(api.callback_answers) == 3 and answer.edit_count == 2)
        assert answer.buttons[1]["text"] == "👎 ✓"
        api.press_button(USER, answer.message_id, sources)
        detail = (await api.wait_for_messages(USER, 2))[-1]
        stats = bot.services.store.stats()
    assert (stats.thumbs_up, stats.thumbs_down) == (0, 1)
    assert api.callback_answers[3].text == texts.SOURCES_SENT
    assert api.unanswered_callback_queries == []
    assert detail.reply_to_message_id == answer.message_id
    text = detail.plain_text
    assert "[1] Involuntary muscle twitching?" in text and "Doctor reply" in text
    assert "Dr. Jiang Junyi — Neurology, Taoyuan Hospital" in text
    assert "Replied: 2023-07-05" in text and DOCTOR_WORDS in text
    assert any(e["type"] == "blockquote" for e in detail.entities)
    assert len(text) <= 4096


async def test_html_special_characters_in_question_answer_and_sources(root, api, tmp_path):
    async with FakeOpenAI(lambda body: "You asked: " + body["messages"][-1]["content"]
                          .split("<<<\n")[-1].split("\n>>>")[0] + " [1]") as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db") as bot:
        [answer] = await bot.answer(USER, SPECIAL_QUESTION)
        api.press_button(USER, answer.message_id, answer.callback_data[2])
        await api.wait_for_messages(USER, 2)
    assert f"You asked: {SPECIAL_QUESTION} [1]" in answer.plain_text
    assert "[1] Dr. Wu <Mingde> & Co, Orthopedics, Riverside, replied 2024-03-02: " \
        "“Ibuprofen <b>dose</b> & knee pain”" in answer.plain_text
    assert not any(e["type"] == "bold" and answer.plain_text[e["offset"]:][:3] == "mg<"
                   for e in answer.entities)
    detail = api.messages_in(USER)[-1]
    assert "[1] Ibuprofen <b>dose</b> & knee pain" in detail.plain_text
    assert "Dr. Wu <Mingde> & Co — Orthopedics, Riverside" in detail.plain_text
    assert SPECIAL_ANSWER in detail.plain_text
    assert "https://example.org/q?a=1&b=<2>" in detail.plain_text
    assert any(e["type"] == "text_link" and e["url"] == "https://example.org/q?a=1&b=<2>"
               for e in detail.entities)


async def test_offline_answer_quotes_the_escaped_reply(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        messages = await bot.answer(USER, SPECIAL_QUESTION)
    text = "\n".join(m.plain_text for m in messages)
    assert SPECIAL_ANSWER in text and "Wu <Mingde> & Co" in text
    assert USER not in api.drafts  # nothing to stream without an LLM
    disclaimer_last(bot, messages)


async def test_ten_thousand_character_answer_is_split_on_paragraphs(root, api, tmp_path):
    paragraphs = [f"Paragraph {n} about muscle twitching & <stress>: " + "word " * 40 + "[1]."
                  for n in range(40)]
    reply = "\n\n".join(paragraphs)
    assert len(reply) > 10_000
    async with FakeOpenAI(reply) as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db") as bot:
        messages = await bot.answer(USER, TWITCH)
    assert len(messages) == 3
    assert all(0 < len(m.plain_text) <= 4096 for m in messages)
    assert [bool(m.callback_data) for m in messages] == [False, False, True]
    disclaimer_last(bot, messages)
    for paragraph in paragraphs:
        assert sum(paragraph in m.plain_text for m in messages) == 1
    joined = "\n\n".join(m.plain_text for m in messages)
    assert joined.index("Paragraph 0 ") < joined.index("Paragraph 39 ")
    assert all(len(d.plain_text) <= 4096 for d in api.drafts[USER])
    for m in messages:
        parse_html(m.text)


async def test_group_answers_only_when_mentioned_or_replied_to(root, api, tmp_path):
    group, other = -1001234, 555
    api.add_flood_rule(max_calls=1, per_seconds=0.25)  # edits per chat; the bot spaces them
    reply = " ".join(f"word{n}" for n in range(60)) + " [1]."
    async with FakeOpenAI(reply, chunk_delay=0.02) as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db") as bot:
        api.send_text(USER, TWITCH, chat_id=group, chat_type="supergroup")
        asked = api.send_text(USER, f"@{api.bot_username} {TWITCH}", chat_id=group,
                              chat_type="supergroup")
        [answer] = await bot.final(group)
        not_for_bot = api.send_text(other, "I have a headache", chat_id=group,
                                    chat_type="supergroup")
        api.send_text(USER, "me too", chat_id=group, chat_type="supergroup",
                      reply_to_message_id=not_for_bot["message_id"])
        replied = api.send_text(other, "what about twitching in my eyelid?", chat_id=group,
                                chat_type="supergroup", reply_to_message_id=answer.message_id)
        followed = await bot.final(group, 1)
    assert answer.reply_to_message_id == asked["message_id"]
    assert answer.edit_count >= 2  # streamed by spaced-out edits, then the final HTML
    assert group not in api.drafts
    assert answer.plain_text.startswith("word0 word1")
    [second] = followed
    assert second.reply_to_message_id == replied["message_id"]
    assert len(api.messages_in(group)) == 2  # nothing for the messages not meant for the bot
    assert llm.chat_calls == 2  # the other person's reply has no history of theirs here


async def test_photo_voice_sticker_and_file_get_a_polite_reply(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        api.send_photo(USER)  # a caption is answered as a question (test_telegram_triage)
        api.send_voice(USER)
        api.send_sticker(USER)
        api.send_document(USER)
        api.send_photo(USER, chat_id=-100777, chat_type="supergroup")  # not for the bot
        replies = await api.wait_for_messages(USER, 4)
        await bot.ask(USER, "/help")
    assert [m.plain_text for m in replies[:4]] == [texts.TEXT_ONLY] * 4
    assert api.messages_in(-100777) == []


async def test_too_long_rate_limited_and_one_at_a_time(root, api, tmp_path):
    async with FakeOpenAI("Benign [1].", delay=0.5) as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db", max_message_chars=200,
                        rate_limit_per_minute=3) as bot:
        [long] = await bot.ask(USER, "x" * 201)
        api.send_text(USER, TWITCH)
        while llm.chat_calls < 1:  # the LLM fake's state does not wake api.wait_for
            await asyncio.sleep(0.01)
        api.send_text(USER, "and the breathing?")
        await api.wait_for(lambda: any(m.plain_text == texts.ONE_MOMENT
                                       for m in api.messages_in(USER)))
        await api.wait_for(lambda: sum(bool(m.callback_data) for m in api.messages_in(USER))
                           == 2, timeout=10)
        [third] = await bot.answer(USER, "and my legs?")
        [limited] = await bot.ask(USER, "and my arms?")
    assert "201 characters" in long.plain_text and "200" in long.plain_text
    texts_sent = [m.plain_text for m in api.messages_in(USER)]
    assert texts_sent.index(texts.ONE_MOMENT) < len(texts_sent) - 3
    assert third.callback_data
    assert limited.plain_text.startswith("🙏 You have asked 3 questions in the last minute")


async def test_emergency_is_answered_at_once_without_the_llm(root, api, tmp_path):
    async with FakeOpenAI("never used", delay=5) as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db") as bot:
        started = time.monotonic()
        messages = await bot.ask(USER, EMERGENCY, timeout=3)  # no buttons: nothing to wait on
        elapsed = time.monotonic() - started
    assert elapsed < 1.5 and llm.chat_calls == 0
    assert "emergency" in messages[0].plain_text and "112" in messages[0].plain_text
    assert USER not in api.drafts
    disclaimer_last(bot, messages)


async def test_emergency_skips_the_queue_behind_a_slow_answer(root, api, tmp_path):
    async with FakeOpenAI("Slow answer [1].", delay=1.2) as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db") as bot:
        api.send_text(USER, TWITCH)
        await api.wait_for(lambda: llm.chat_calls == 1)
        [urgent] = await bot.ask(USER, EMERGENCY, timeout=1.0)
        [slow] = await bot.final(USER, 1)
    assert "112" in urgent.plain_text and slow.plain_text.startswith("Slow answer")
    assert api.sent.index(urgent) < api.sent.index(slow)


async def test_llm_down_still_gets_the_doctors_words(root, api, tmp_path):
    async with FakeOpenAI("unused") as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db") as bot:
        llm.fail_next(500, count=5)
        messages = await bot.answer(USER, TWITCH)
    assert DOCTOR_WORDS in messages[0].plain_text
    assert "Dr. Jiang Junyi (Neurology) replied to a similar question" in messages[0].plain_text
    disclaimer_last(bot, messages)


async def test_flood_control_429_is_waited_out(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        api.fail_next("sendMessage", status=429, retry_after=0.5)
        started = time.monotonic()
        messages = await bot.answer(USER, TWITCH)
        elapsed = time.monotonic() - started
    assert DOCTOR_WORDS in messages[0].plain_text
    assert bot.limiter.retries == [("sendMessage", 0.5)] and elapsed >= 0.5
    assert [c.status for c in api.calls_to("sendMessage")] == [429, 200]


async def test_twenty_people_at_once(root, api, tmp_path):
    people = list(range(9001, 9021))
    async with FakeOpenAI("Twitching is mostly benign [1].", delay=0.3, chunk_delay=0.01) as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db") as bot:
        started = time.monotonic()
        for person in people:
            api.send_text(person, TWITCH)
        finals = await asyncio.gather(*(bot.final(p) for p in people))
        elapsed = time.monotonic() - started
        stats = bot.services.store.stats()
    assert all(f[-1].plain_text.startswith("Twitching is mostly benign [1].") for f in finals)
    assert elapsed < 5, elapsed  # concurrently, not one after the other (20 x 0.3 s)
    assert stats.people == 20 and stats.questions_total == 20


async def test_a_crowd_gets_whole_answers_without_previews(root, api, tmp_path):
    people = list(range(9101, 9113))
    stream = dataclasses.replace(FAST, live_answers=3)
    async with FakeOpenAI("Twitching is mostly benign [1].", delay=0.3, chunk_delay=0.01) as llm, \
            running_bot(root, api, llm, stream=stream, db_path=tmp_path / "db") as bot:
        for person in people:
            api.send_text(person, TWITCH)
        finals = await asyncio.gather(*(bot.final(p) for p in people))
    assert all(f[-1].plain_text.startswith("Twitching is mostly benign [1].") for f in finals)
    disclaimer_last(bot, finals[-1])
    streamed = [r for r in llm.chat_requests if r.get("stream")]
    assert len(streamed) <= 3 and len(llm.chat_requests) == len(people)
    assert len({chat for chat, drafts in api.drafts.items() if drafts}) <= 3


async def test_paid_broadcast_answers_a_crowd_beyond_the_free_pace(root, api, tmp_path):
    people = list(range(9201, 9209))
    async with FakeOpenAI("Twitching is mostly benign [1].") as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db", per_second=2,
                        telegram_paid_broadcast=True) as bot:
        started = time.monotonic()
        for person in people:
            api.send_text(person, TWITCH)
        await asyncio.gather(*(bot.final(p) for p in people))
        elapsed = time.monotonic() - started
    finals = [c for c in api.calls_to("sendMessage") if c.params.get("reply_markup")]
    paid = [c for c in finals if c.params.get("allow_paid_broadcast") in (True, "true")]
    assert len(finals) == len(people) and 1 <= len(paid) < len(people)
    assert elapsed < 3, elapsed  # 8 answers at 2 a second would need 4 s


async def test_the_knowledge_base_is_loaded_before_the_first_message(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        kb = bot.services.engine.kb
        assert kb._version is not None and kb._indexes  # loaded at start, not on a question
        [answer] = await bot.answer(USER, TWITCH)
    assert DOCTOR_WORDS in answer.plain_text


async def test_allowlist(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db", allowed_user_ids="4242") as bot:
        [refused] = await bot.ask(5, TWITCH)
        await bot.answer(USER, TWITCH)
        [admin] = await bot.ask(ADMIN, "/start")
    assert refused.plain_text == texts.NOT_ALLOWED
    assert "not a doctor" in admin.plain_text


async def test_restart_keeps_the_history(root, api, tmp_path):
    replies = ["Benign [1].", "Is shallow breathing with twitching a sign of ALS?", "Ok [1]."]
    async with FakeOpenAI(replies) as llm:
        async with running_bot(root, api, llm, db_path=tmp_path / "db") as bot:
            await bot.answer(USER, TWITCH)
        assert bot.task.done()
        async with running_bot(root, api, llm, db_path=tmp_path / "db") as again:
            await again.answer(USER, FOLLOW_UP)
    assert again.app is not bot.app
    condense = llm.chat_requests[1]["messages"][0]["content"]
    assert TWITCH in condense and "Benign [1]." in condense


async def test_stop_lets_the_answer_in_flight_finish(root, api, tmp_path):
    async with FakeOpenAI("Finished [1].", delay=1.0) as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db") as bot:
        api.send_text(USER, TWITCH)
        await api.wait_for(lambda: llm.chat_calls == 1)
        await bot.stop()
    assert api.messages_in(USER)[-1].plain_text.startswith("Finished [1].")


async def test_errors_get_an_apology_and_a_log_line_without_the_text(root, api, tmp_path,
                                                                      caplog):
    secret = "my private symptom description"

    async def broken(message, history, live=True, verdict=None):
        raise RuntimeError("index exploded")
        yield  # pragma: no cover

    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        bot.services.engine.stream = broken
        with caplog.at_level(logging.INFO):
            [sorry] = await bot.ask(USER, secret)
    assert sorry.plain_text == texts.SORRY
    assert "index exploded" not in sorry.plain_text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError: index exploded" in logged and f"user {USER}" in logged
    assert secret not in logged and f"({len(secret)} chars)" in logged


async def test_drafts_unavailable_fall_back_to_edits(root, api, tmp_path):
    def refuse(params: dict) -> None:
        raise ApiRequestError("Bad Request: method is not available")

    api.stub("sendMessageDraft", refuse)
    async with FakeOpenAI("Twitching is mostly benign [1]. " * 10, chunk_delay=0.02) as llm, \
            running_bot(root, api, llm, db_path=tmp_path / "db",
                        stream=StreamConfig(draft_interval=0.05, edit_interval=0.1)) as bot:
        [answer] = await bot.answer(USER, TWITCH)
    assert answer.edit_count >= 1 and answer.callback_data
    api.errors.clear()  # the refused draft is the point of this test


def test_run_without_a_token_explains_how_to_get_one(tmp_path, capsys):
    settings = settings_for(tmp_path, telegram_bot_token="")
    assert run_bot(settings) == 2
    err = capsys.readouterr().err
    assert "@BotFather" in err and "symptom-bot chat" in err
