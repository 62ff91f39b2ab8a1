"""Voice messages end to end: the real PTB Application against the fake Bot API, the real openai
client against FakeOpenAI's /v1/audio/transcriptions, the real Engine on a small index."""

from __future__ import annotations

import asyncio
import logging
import os

import pytest

from bot.telegram import texts
from tests.fakes.openai_server import FakeOpenAI
from tests.telegram_helpers import SPECIAL_ANSWER, SPECIAL_QUESTION, build_index, running_bot

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 6262
MODEL = "whisper-test"
EMERGENCY = "crushing chest pain spreading to my left arm and I can't catch my breath"
OGG = b"OggS\x00\x02" + os.urandom(600)  # binary, as a real voice note is
ANSWER = "Take ibuprofen with food and rest the knee [1]."


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return build_index(tmp_path_factory.mktemp("telegram-voice"))


def is_emergency(message) -> bool:
    return "🚨" in message.plain_text and "112" in message.plain_text


async def test_a_voice_note_is_transcribed_shown_and_answered_like_text(root, api, tmp_path,
                                                                        caplog):
    caplog.set_level(logging.INFO)
    async with FakeOpenAI(ANSWER) as llm, running_bot(
            root, api, llm, db_path=tmp_path / "db", transcription_model=MODEL) as bot:
        llm.transcript = SPECIAL_QUESTION
        api.send_voice(USER, duration=7, content=OGG)
        messages = await bot.final(USER)
        for _ in range(500):  # the turns are written just after the answer is sent
            if history := bot.services.store.history(USER, USER, 6, 4000):
                break
            await asyncio.sleep(0.01)
    shown, *_, answer = messages
    assert shown.plain_text == f"🎙 «{SPECIAL_QUESTION}»"  # <b>, & and > shown as written
    # a dose question, as typed: the medication-safety line, then the LLM's answer
    assert answer.plain_text.startswith("💊")
    assert "\nTake ibuprofen with food and rest the knee [1]." in answer.plain_text
    assert "Orthopedics" in answer.plain_text and answer.callback_data
    [form] = llm.transcription_requests
    assert form["model"] == MODEL and form["response_format"] == "json"
    assert form["file"] == {"filename": "voice.ogg", "content_type": "audio/ogg", "data": OGG}
    assert SPECIAL_QUESTION in llm.last_prompt()  # the transcript is the question
    assert SPECIAL_ANSWER in llm.last_prompt()  # grounded in the clinic's reply, as for text
    assert history[0] == ("user", SPECIAL_QUESTION)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "transcribed in" in logged and "ibuprofen" not in logged  # sizes, never the words


async def test_a_voice_note_saying_an_emergency_gets_the_emergency_text(root, api, tmp_path):
    async with FakeOpenAI(ANSWER) as llm, running_bot(
            root, api, llm, db_path=tmp_path / "db", transcription_model=MODEL) as bot:
        llm.transcript = EMERGENCY
        api.send_voice(USER, duration=4)
        shown, emergency = await api.wait_for_messages(USER, 2)
        await bot.ask(USER, "/help")
    assert shown.plain_text == f"🎙 «{EMERGENCY}»"
    assert is_emergency(emergency) and "chest pain" in emergency.plain_text
    assert llm.chat_calls == 0  # no retrieval, no LLM: the emergency text at once
    assert len(api.messages_in(USER)) == 3


@pytest.mark.parametrize("kind, sent_as", [
    ("audio", {"filename": "audio.m4a", "content_type": "audio/mp4"}),
    ("video_note", {"filename": "video_note.mp4", "content_type": "video/mp4"}),
])
async def test_audio_files_and_video_notes_are_transcribed_too(root, api, tmp_path, kind,
                                                              sent_as):
    extra = {"file_name": "Anna Berg symptoms.m4a", "mime_type": "audio/mp4"} \
        if kind == "audio" else {}
    async with FakeOpenAI(ANSWER) as llm, running_bot(
            root, api, llm, db_path=tmp_path / "db", transcription_model=MODEL) as bot:
        llm.transcript = SPECIAL_QUESTION
        getattr(api, f"send_{kind}")(USER, content=b"recorded", **extra)
        shown, *_ = await bot.final(USER)
    assert shown.plain_text == f"🎙 «{SPECIAL_QUESTION}»"
    [form] = llm.transcription_requests
    assert form["file"] == {**sent_as, "data": b"recorded"}  # never the person's file name


@pytest.mark.parametrize("configured", ["llm only", "transcription model only"])
async def test_without_transcription_the_polite_text_only_reply_stays(root, api, tmp_path,
                                                                     configured, caplog):
    caplog.set_level(logging.INFO)
    async with FakeOpenAI(ANSWER) as llm:
        with_llm = configured == "llm only"
        overrides = {} if with_llm else {"transcription_model": MODEL}
        async with running_bot(root, api, llm if with_llm else None,
                               db_path=tmp_path / "db", **overrides) as bot:
            api.send_voice(USER, content=OGG)
            api.send_audio(USER)
            api.send_video_note(USER)
            replies = await api.wait_for_messages(USER, 3)
            [privacy] = await bot.ask(USER, "/privacy")
    assert [m.plain_text for m in replies] == [texts.TEXT_ONLY] * 3
    assert "Voice messages" not in privacy.plain_text
    assert llm.requests == [] and api.calls_to("getFile") == []
    warned = [r.getMessage() for r in caplog.records if "TRANSCRIPTION_MODEL" in r.getMessage()]
    assert len(warned) == (0 if with_llm else 1)  # a model without a server: said at start


@pytest.mark.parametrize("failure", ["no endpoint", "server error", "hangs", "download fails"])
async def test_a_failed_transcription_gets_the_polite_reply_and_one_log_line(
        root, api, tmp_path, caplog, failure):
    caplog.set_level(logging.INFO)
    async with FakeOpenAI(ANSWER) as llm, running_bot(
            root, api, llm, db_path=tmp_path / "db", transcription_model=MODEL,
            llm_timeout=0.5, llm_max_retries=1) as bot:
        if failure == "no endpoint":
            llm.audio_endpoint = False  # a chat-only server (e.g. Ollama)
        elif failure == "server error":
            llm.fail_next(500, count=2, retry_after=0.01, endpoint="transcriptions")
        elif failure == "hangs":
            llm.transcription_hang = True
        else:
            api.fail_next("getFile", status=400, description="Bad Request: file is too big")
        api.send_voice(USER, content=OGG)
        [reply] = await api.wait_for_messages(USER, 1, timeout=10)
        llm.transcription_hang = False
        await bot.ask(USER, "/help")
    assert reply.plain_text == texts.TEXT_ONLY
    assert llm.chat_calls == 0
    lines = [r for r in caplog.records if r.name.startswith("bot.")]
    failed = [r for r in lines if "not transcribed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].levelno == logging.WARNING
    line = failed[0].getMessage()
    assert f"user {USER}" in line and f"{len(OGG)} bytes" in line
    expected = {"no endpoint": "HTTP 404", "server error": "HTTP 500", "hangs": "no answer in",
                "download fails": "download failed"}[failure]
    assert expected in line
    assert not [r for r in lines if r.exc_info or r.levelno >= logging.ERROR]
    assert not [m for m in api.messages_in(USER) if "went wrong" in m.plain_text]


async def test_too_long_and_too_big_recordings_are_refused_before_download(root, api, tmp_path):
    async with FakeOpenAI(ANSWER) as llm, running_bot(
            root, api, llm, db_path=tmp_path / "db", transcription_model=MODEL,
            voice_max_seconds=60) as bot:
        [long] = await _voice(bot, api, duration=61)
        [big] = await _voice(bot, api, duration=50, content=b"\x00" * (20 * 2**20 + 1))
        before = len(api.messages_in(USER))
        api.send_voice(USER, duration=60)  # at the limit: heard
        shown, *_ = await bot.final(USER, before)
    assert "61 seconds" in long.plain_text and "60 seconds" in long.plain_text
    assert "20 MB" in big.plain_text
    assert len(api.calls_to("getFile")) == 1 and len(llm.transcription_requests) == 1
    assert shown.plain_text == "🎙 «This is a fake transcript.»"


async def test_silence_is_said_and_not_answered(root, api, tmp_path):
    async with FakeOpenAI(ANSWER) as llm, running_bot(
            root, api, llm, db_path=tmp_path / "db", transcription_model=MODEL) as bot:
        llm.transcript = "  \n"
        [reply] = await _voice(bot, api, duration=3)
        await bot.ask(USER, "/help")
    assert "could not make out any words" in reply.plain_text
    assert llm.chat_calls == 0 and len(api.messages_in(USER)) == 2


async def test_privacy_page_says_voice_messages_go_to_the_server(root, api, tmp_path):
    async with FakeOpenAI(ANSWER) as llm, running_bot(
            root, api, llm, db_path=tmp_path / "db", transcription_model=MODEL) as bot:
        [privacy] = await bot.ask(USER, "/privacy")
    assert "Voice messages are sent there too" in privacy.plain_text


async def _voice(bot, api, **kwargs):  # noqa: ANN001, ANN202
    """Send a voice note; the one reply that follows."""
    before = len(api.messages_in(USER))
    api.send_voice(USER, **kwargs)
    return (await api.wait_for_messages(USER, before + 1))[before:]
