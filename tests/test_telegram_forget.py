"""/forget erases everything: an answer in flight does not write the conversation back, the
deleted text is not left in the database files (main file or WAL), and other people's votes
on the person's answers go too."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.telegram import texts
from tests.fakes.openai_server import FakeOpenAI
from tests.telegram_helpers import TWITCH, build_index, running_bot

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER, OTHER, GROUP = 9393, 9494, -1009595
ASKED = "Quokkaxylophone"  # words that appear nowhere else: easy to look for in the files
ANSWERED = "Zebrafandango"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory):
    return build_index(tmp_path_factory.mktemp("telegram-forget"))




def database_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")))


async def test_forget_during_an_answer_leaves_nothing_behind(root, api, tmp_path):
    db = tmp_path / "db"
    async with FakeOpenAI(f"{ANSWERED} twitching is benign [1].", delay=1.0) as llm, \
            running_bot(root, api, llm, db_path=db) as bot:
        await bot.answer(USER, f"{TWITCH} {ASKED} one")  # history to forget as well
        llm.delay = 1.5
        api.send_text(USER, f"{TWITCH} {ASKED} two")
        while llm.chat_calls < 3:  # condensing the follow-up, then the answer
            await asyncio.sleep(0.01)
        assert ASKED.encode() in database_bytes(db)
        wal = db.with_name(db.name + "-wal")
        wal_before = wal.stat().st_size
        await bot.ask(USER, "/forget", count=2, timeout=10)  # the answer and "Done"
        await asyncio.sleep(0.3)  # any late write would land now
        store = bot.services.store
        known = store.knows(USER)
        wal_after = wal.stat().st_size  # emptied by /forget; what follows is ids and counts
        stored = database_bytes(db)
    last = [m.plain_text for m in api.messages_in(USER)]
    assert last[-1] == texts.FORGOTTEN and last[-2].startswith(ANSWERED)  # Done comes last
    assert not known
    assert ASKED.encode() not in stored and ANSWERED.encode() not in stored
    assert wal_after < wal_before, (wal_before, wal_after)


async def test_forget_removes_other_peoples_votes_on_the_persons_answers(root, api, tmp_path):
    async with running_bot(root, api, db_path=tmp_path / "db") as bot:
        [answer] = await bot.answer(USER, f"@{api.bot_username} {TWITCH}", chat_id=GROUP,
                                    chat_type="supergroup")
        api.press_button(OTHER, answer.message_id, answer.callback_data[0], chat_id=GROUP)
        await api.wait_for(lambda: api.callback_answers)
        assert bot.services.store.stats().thumbs_up == 1
        await bot.ask(USER, "/forget")
        stats = bot.services.store.stats()
    assert (stats.thumbs_up, stats.thumbs_down, stats.people) == (0, 0, 0)
