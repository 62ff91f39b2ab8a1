"""Fixed texts a physician's review found wrong: Chinese answered in the writer's own script
(Simplified or Traditional), emergency and crisis numbers written in the person's language,
and greetings that say what the knowledge base really holds."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from bot.chinese_script import SIMPLIFIED, TRADITIONAL, script
from bot.prompts import INTENT_TEXTS, LANGUAGES, LOCALIZED, NUMBERED, PromptError, Prompts
from bot.settings import load_settings
from bot.triage.language import detect
from tests.telegram_helpers import running_bot
from tests.test_answer_languages import _engine, _index

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
NUMBERS = tomllib.loads((PROMPTS / "numbers.toml").read_text(encoding="utf-8"))
ENGLISH_NUMBERS = tuple(NUMBERS["en"].values())
USER = 6161
# The same messages in both scripts: an emergency, thanks, nonsense (no match), off-topic.
SIMPLIFIED_CHEST = "我胸口很痛，喘不过气，全身冒冷汗"
TRADITIONAL_CHEST = "我胸口很痛，喘不過氣，全身冒冷汗"
SIMPLIFIED_THANKS, TRADITIONAL_THANKS = "谢谢医生！", "謝謝醫生！"
SIMPLIFIED_SUICIDE, TRADITIONAL_SUICIDE = "我不想活了，想自杀", "我不想活了，想自殺"


@pytest.fixture(scope="module")
def nih_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MedQuAD pairs only: no doctor's reply anywhere in the index."""
    return _index(tmp_path_factory.mktemp("nih"), doctors=False)


def _in_one_script(text: str, code: str) -> bool:
    """No character of the other script (a Simplified text has no 這, a Traditional one no 这)."""
    other = TRADITIONAL if code == "zh" else SIMPLIFIED
    return not [c for c in text if c in other]


def test_the_script_of_a_message_is_told_by_its_characters():
    assert script("我头痛发烧三天了，还咳嗽，怎么办？") == "hans"
    assert script("我頭痛發燒三天了，還咳嗽，怎麼辦？") == "hant"
    assert script("我胸口痛") == "hans"  # nothing differs: Simplified, what most people write
    assert detect(TRADITIONAL_CHEST) == "zh" == detect(SIMPLIFIED_CHEST)  # the code stays "zh"


def test_every_chinese_text_is_written_in_its_script():
    prompts = Prompts.load(load_settings())
    for name in (*LOCALIZED, *INTENT_TEXTS):
        if name == "medication_rule":  # the LLM's, in English
            continue
        simplified, traditional = prompts.text(name, "zh"), prompts.text(name, "zh-hant")
        assert _in_one_script(simplified, "zh"), name
        assert _in_one_script(traditional, "zh-hant"), name
        assert simplified != prompts.text(name, "en") != traditional, name
    for code in ("zh", "zh-hant"):
        labels = prompts.labels(code)
        assert all(_in_one_script(labels(key), code) for key in labels.texts), code
    assert prompts.labels("zh")("sources") == "来源" and prompts.labels("zh-hant")("sources") == \
        "來源"


@pytest.mark.parametrize(("message", "code", "number"), [
    (SIMPLIFIED_CHEST, "zh", "120（中国大陆）"),
    (TRADITIONAL_CHEST, "zh-hant", "999（香港、澳門）")])
async def test_an_emergency_is_answered_in_the_writers_script(nih_only, message, code, number):
    engine = _engine(nih_only)
    answer = await engine.answer(message)
    prompts = engine.prompts
    assert answer.triage == "emergency"
    assert answer.language == "zh" and answer.to_json()["language"] == "zh"
    assert prompts.text("emergency", code) in answer.text and number in answer.text
    assert answer.text.endswith(prompts.text("disclaimer", code, engine.holds))
    reason, fixed = answer.text.split("\n\n", 1)
    assert reason.startswith("您提到「")  # the words quoted in it are the triage's
    assert _in_one_script(fixed, code)


@pytest.mark.parametrize(("message", "code", "line"), [
    (SIMPLIFIED_SUICIDE, "zh", "12356"), (TRADITIONAL_SUICIDE, "zh-hant", "1925")])
async def test_the_crisis_line_fits_the_writers_script(nih_only, message, code, line):
    answer = await _engine(nih_only).answer(message)
    assert answer.triage == "emergency" and answer.category == "suicide_self_harm"
    assert line in answer.text and _in_one_script(answer.text, code)


@pytest.mark.parametrize(("message", "code"), [
    (SIMPLIFIED_THANKS, "zh"), (TRADITIONAL_THANKS, "zh-hant")])
async def test_a_greeting_is_answered_in_the_writers_script(nih_only, message, code):
    engine = _engine(nih_only)
    engine.retriever = None  # a greeting never searches
    answer = await engine.answer(message)
    assert answer.mode == "greeting" and answer.language == "zh"
    assert answer.body == engine.prompts.text("greeting.thanks", code)
    assert _in_one_script(answer.text, code)


@pytest.mark.parametrize(("message", "code"), [
    ("请问 qwerty zxcvb 是什么？", "zh"), ("請問 qwerty zxcvb 是什麼？", "zh-hant")])
async def test_no_match_and_its_disclaimer_in_the_writers_script(nih_only, message, code):
    engine = _engine(nih_only)
    engine.settings = load_settings(data_dir=nih_only / "data", relevance_floor=0.99,
                                    knowledge_dir=nih_only / "knowledge")
    answer = await engine.answer(message)
    assert answer.mode == "no_match"
    assert answer.body == engine.prompts.text("no_match", code, "reference")
    assert engine.prompts.labels(code)("knowledge_reference") in answer.body
    assert _in_one_script(answer.text, code)


def test_zh_hant_falls_back_to_zh_then_english(tmp_path):
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS, folder)
    (folder / "urgent.zh-hant.md").unlink()
    (folder / "labels.zh-hant.toml").unlink()
    (folder / "urgent.zh.md").rename(folder / "urgent.zh.md.off")
    prompts = Prompts.load(load_settings(prompts_dir=folder))
    assert prompts.text("urgent", "zh-hant") == prompts.urgent  # no Chinese one left: English
    assert prompts.labels("zh-hant")("sources") == "来源"  # Simplified before English
    assert prompts.text("offline", "zh-hant") != prompts.text("offline", "zh")


async def test_german_emergency_and_crisis_texts_have_no_english(nih_only):
    engine = _engine(nih_only)
    chest = await engine.answer("Ich habe starke Schmerzen in der Brust und kann nicht atmen")
    crisis = await engine.answer("Ich will nicht mehr leben, ich will mich umbringen")
    assert chest.triage == crisis.triage == "emergency" and crisis.category == "suicide_self_harm"
    for answer in (chest, crisis):
        assert answer.language == "de" and "112" in answer.text
        for english in ("Europe", "countries", "US and Canada", "Taiwan", "Japan", "crisis line",
                        "your local", "UK and Ireland"):
            assert english not in answer.text, english
    assert "TelefonSeelsorge 0800 111 0 111" in crisis.text and "142 (Österreich)" in crisis.text


def test_every_language_names_its_own_numbers_in_its_own_words():
    prompts = Prompts.load(load_settings())
    for language in (*LANGUAGES, "zh-hant"):
        numbers = NUMBERS[language]
        emergency, crisis = prompts.text("emergency", language), prompts.text("crisis", language)
        assert numbers["emergency_number"] in emergency, language
        assert numbers["emergency_number"] in crisis and numbers["crisis_line"] in crisis, language
        if language != "en":
            assert not any(english in emergency + crisis for english in ENGLISH_NUMBERS), language


async def test_the_operators_numbers_still_win_in_every_language(nih_only):
    settings = load_settings(emergency_number="999", crisis_line="0800 123 456")
    prompts = Prompts.load(settings)
    for language in (*LANGUAGES, "zh-hant"):
        for name in NUMBERED:
            text = prompts.text(name, language)
            assert "999" in text, (name, language)
            assert NUMBERS[language]["emergency_number"] not in text, (name, language)
        assert "0800 123 456" in prompts.text("crisis", language), language
    engine = _engine(nih_only)
    engine.prompts = prompts
    answer = await engine.answer("Ich will nicht mehr leben, ich will mich umbringen")
    assert "0800 123 456" in answer.text and "999" in answer.text and "112" not in answer.text


def test_a_numbers_table_without_both_numbers_is_refused(tmp_path):
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS, folder)
    (folder / "numbers.toml").write_text('[en]\nemergency_number = "112"\n', encoding="utf-8")
    with pytest.raises(PromptError, match="numbers.toml"):
        Prompts.load(load_settings(prompts_dir=folder))


@pytest.mark.parametrize(("message", "language"), [
    ("hi", "en"), ("Hallo!", "de"), ("你好", "zh"),
    ("write me a python function that reverses a string", "en"),
    ("Schreib mir ein Gedicht über den Winter", "de")])
async def test_greeting_and_off_topic_say_what_a_medquad_only_index_holds(nih_only, message,
                                                                         language):
    engine = _engine(nih_only)
    engine.warm_up()  # as the bot does at start: it learns what the index holds
    answer = await engine.answer(message)
    labels = engine.prompts.labels(language)
    assert answer.mode in ("greeting", "off_topic") and engine.holds == "reference"
    assert labels("knowledge_reference") in answer.body
    assert labels("knowledge_doctors") not in answer.body
    for doctors in ("doctor", "Ärzt", "医生"):
        assert doctors not in answer.body, doctors


async def test_telegram_greeting_over_medquad_only_says_reference_texts(nih_only, api, tmp_path):
    async with running_bot(nih_only, api, db_path=tmp_path / "db", relevance_floor=0.1) as bot:
        [hello] = await bot.ask(USER, "hi")
        [thanks] = await bot.ask(USER, TRADITIONAL_THANKS)
    assert "my knowledge base (health reference texts)" in hello.plain_text
    assert "doctors replied" not in hello.plain_text and "doctors'" not in hello.plain_text
    prompts = bot.services.engine.prompts
    assert thanks.plain_text.startswith(prompts.text("greeting.thanks", "zh-hant"))
    assert _in_one_script(thanks.plain_text, "zh-hant")
