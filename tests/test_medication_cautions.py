"""The medication cautions: the well-established "no"s (NSAIDs with a blood thinner, Imodium for
a toddler, St John's wort with sertraline…) recognised in the person's words and language,
never on a close neighbour, and placed by the engine right after the safety line, before the
sources or the LLM's answer, offline, with an LLM and in Telegram."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bot.answer import Answer
from bot.chinese_script import chinese
from bot.engine import Engine
from bot.intent.cautions import Cautions, cautions_for, load_default
from bot.prompts import LANGUAGES
from tests.fakes.openai_server import FakeOpenAI
from tests.telegram_helpers import build_index, build_records_index, running_bot, settings_for
from tests.telegram_helpers import engine_for as engine_on

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
DEV = Path(__file__).resolve().parents[1] / "bench" / "intent_data" / "dev.jsonl"
WARFARIN = "I'm on warfarin, can I take ibuprofen for my knee?"
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture(scope="module")
def cautions() -> Cautions:
    return load_default()


# Each caution in English and in at least two other languages (two other scripts), as typed.
@pytest.mark.parametrize(("text", "caution"), [
    ("I'm on warfarin, can I take ibuprofen for my back pain?", "nsaid_anticoagulant"),
    ("我在吃华法林，可以吃布洛芬吗？", "nsaid_anticoagulant"),
    ("Я принимаю Ксарелто, можно ли выпить нурофен от головной боли?", "nsaid_anticoagulant"),
    ("أتناول الوارفارين، هل يمكنني تناول بروفين للصداع؟", "nsaid_anticoagulant"),
    ("Tomo Sintrom, ¿puedo tomar ibuprofeno para el dolor de muelas?", "nsaid_anticoagulant"),
    ("ワーファリンを飲んでいますが、ロキソニンを飲んでもいいですか？", "nsaid_anticoagulant"),
    ("Can I take ibuprofen with my daily low-dose aspirin?", "nsaid_low_dose_aspirin"),
    ("Пью кардиомагнил, можно ли ибупрофен?", "nsaid_low_dose_aspirin"),
    ("Ich nehme ASS 100, darf ich Ibuprofen nehmen?", "nsaid_low_dose_aspirin"),
    ("每天吃拜阿司匹林，能吃布洛芬吗", "nsaid_low_dose_aspirin"),
    ("is ibuprofen OK at 30 weeks pregnant", "nsaid_pregnancy"),
    ("I'm in my third trimester, can I take naproxen?", "nsaid_pregnancy"),
    ("怀孕30周可以吃布洛芬吗", "nsaid_pregnancy"),
    ("Je suis enceinte de 7 mois, puis-je prendre de l'ibuprofène ?", "nsaid_pregnancy"),
    ("أنا حامل في الشهر السابع، هل يمكنني تناول الإيبوبروفين؟", "nsaid_pregnancy"),
    ("임신 28주인데 이부프로펜 먹어도 되나요?", "nsaid_pregnancy"),
    ("I have gastritis, is ibuprofen ok for a headache?", "nsaid_stomach"),
    ("Tengo gastritis, ¿puedo tomar ibuprofeno?", "nsaid_stomach"),
    ("У меня язва желудка, можно ли пить диклофенак?", "nsaid_stomach"),
    ("मुझे पेट में अल्सर है, क्या मैं आइबुप्रोफेन ले सकता हूँ?", "nsaid_stomach"),
    ("I have chronic kidney disease, can I take naproxen?", "nsaid_kidney"),
    ("Ich habe eine Niereninsuffizienz, darf ich Ibuprofen nehmen?", "nsaid_kidney"),
    ("我有肾病，能吃布洛芬吗", "nsaid_kidney"),
    ("Böbrek yetmezliğim var, ibuprofen alabilir miyim?", "nsaid_kidney"),
    ("can I give aspirin to my 5 year old for fever", "aspirin_child"),
    ("孩子5岁发烧可以吃阿司匹林吗", "aspirin_child"),
    ("Можно ли дать аспирин ребёнку 7 лет от температуры?", "aspirin_child"),
    ("Posso dar aspirina para meu filho de 8 anos com febre?", "aspirin_child"),
    ("هل يمكن إعطاء الأسبرين لطفلي عمره 6 سنوات؟", "aspirin_child"),
    ("my 14 year old has period pain, can she have aspirin?", "aspirin_child"),
    ("Can I give Imodium to my 18-month-old?", "loperamide_child"),
    ("¿Puedo darle Imodium a mi bebé de 18 meses?", "loperamide_child"),
    ("我家宝宝18个月，拉肚子能吃易蒙停吗", "loperamide_child"),
    ("ابني عمره سنتين عنده إسهال، هل أعطيه إيموديوم؟", "loperamide_child"),
    ("2歳の子どもにロペミンを飲ませてもいいですか", "loperamide_child"),
    ("I take sertraline, is St John's wort ok?", "st_johns_wort_antidepressant"),
    ("Kann ich Johanniskraut zusammen mit Sertralin nehmen?", "st_johns_wort_antidepressant"),
    ("Принимаю флуоксетин, можно ли пить зверобой?", "st_johns_wort_antidepressant"),
    ("我在吃舍曲林，可以同时吃圣约翰草吗？", "st_johns_wort_antidepressant"),
    ("Does St. John's wort interact with the pill?", "st_johns_wort_pill_anticoagulant"),
    ("Je prends la pilule, puis-je prendre du millepertuis ?",
     "st_johns_wort_pill_anticoagulant"),
    ("피임약 먹는데 세인트존스워트 같이 먹어도 돼요?", "st_johns_wort_pill_anticoagulant"),
    ("هل يمكن تناول نبتة سانت جون مع الوارفارين؟", "st_johns_wort_pill_anticoagulant"),
    ("can I have a beer with metronidazole", "metronidazole_alcohol"),
    ("Можно ли пить алкоголь с метронидазолом?", "metronidazole_alcohol"),
    ("هل يمكنني شرب الكحول مع فلاجيل؟", "metronidazole_alcohol"),
    ("Posso beber cerveja tomando metronidazol?", "metronidazole_alcohol"),
    ("Can I give my 6 year old cough syrup with codeine?", "opioid_child"),
    ("Posso dare la codeina a mio figlio di 8 anni?", "opioid_child"),
    ("8岁的孩子可以吃可待因吗", "opioid_child"),
    ("7 yaşındaki çocuğuma tramadol verebilir miyim?", "opioid_child"),
    ("I'm breastfeeding, can I take co-codamol?", "opioid_breastfeeding"),
    ("Estoy dando el pecho, ¿puedo tomar tramadol?", "opioid_breastfeeding"),
    ("授乳中ですがコデイン入りの咳止めを飲んでもいいですか", "opioid_breastfeeding"),
    ("Đang cho con bú có uống được codein không?", "opioid_breastfeeding"),
])
def test_each_caution_is_recognised_as_people_write(cautions, text, caution) -> None:
    assert cautions.matching(text) == [caution]


# Close neighbours that need no "no": alcohol with amoxicillin is no real interaction, an adult
# may take aspirin or ibuprofen, paracetamol is the usual choice, kidney stones are treated
# with NSAIDs, early pregnancy is not the 20 weeks of the warning, and an older child may.
@pytest.mark.parametrize("text", [
    "can I drink alcohol on amoxicillin?",
    "is it ok to have a glass of wine with amoxicillin",
    "Можно ли пить пиво с амоксициллином?",
    "喝酒可以吃阿莫西林吗",
    "can I take ibuprofen for my headache",
    "¿Puedo tomar ibuprofeno para el dolor de cabeza?",
    "布洛芬一次吃几片",
    "can I take aspirin for my headache",
    "I'm 35 years old, can I take aspirin for a migraine?",
    "Since childhood I get migraines; can I take aspirin?",
    "I take baby aspirin every day, is that still needed?",
    "how much paracetamol for my 3 year old",
    "3岁宝宝发烧可以吃对乙酰氨基酚吗",
    "Можно ли дать парацетамол ребёнку 3 лет?",
    "Can I take paracetamol with warfarin?",
    "هل يمكنني تناول الباراسيتامول مع الوارفارين؟",
    "kidney stone pain, can I take ibuprofen?",
    "I'm 8 weeks pregnant, can I take ibuprofen?",
    "I'm not pregnant, can I take ibuprofen for period pain?",
    "My 14 year old has diarrhoea, can she take Imodium?",
    "Can I take Imodium for traveller's diarrhoea?",
    "can I drink coffee with metronidazole",
    "I take sertraline, can I have a glass of wine?",
    "Je prends la pilule, puis-je prendre de l'ibuprofène ?",
    "Ich hatte einen kleinen Kopfschmerz und nahm Aspirin.",
])
def test_close_neighbours_get_no_caution(cautions, text) -> None:
    assert cautions.matching(text) == []


def test_the_five_review_questions_in_all_fifteen_languages(cautions) -> None:
    """bench/intent_data's medication questions: each of the review's five gets its "no" in
    every language, and no other medication question gets one."""
    expected = {"child_dose": "loperamide_child", "pregnancy": "nsaid_pregnancy",
                "breastfeeding": "opioid_breastfeeding"}
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()]
    seen: dict[str, set[str]] = {}
    for row in (r for r in rows if r["label"] == "medication"):
        found = cautions.matching(row["text"])
        if row["kind"] == "interaction" and found:
            assert found in (["nsaid_anticoagulant"], ["st_johns_wort_antidepressant"]), row
        elif row["kind"] in expected and found:
            assert found == [expected[row["kind"]]], row
        else:
            assert not found, row
        seen.setdefault(row["lang"], set()).update(found)
    assert set(seen) == set(LANGUAGES)
    assert all(len(found) == 5 for found in seen.values()), seen


def test_a_follow_up_may_name_the_other_half(cautions) -> None:
    assert cautions.matching("can I take ibuprofen for my knee?", "I take warfarin daily.") == [
        "nsaid_anticoagulant"]
    # the earlier message alone does not bring its caution back
    assert cautions.matching("and what about paracetamol?",
                             "I'm on warfarin, can I take ibuprofen?") == []


def test_every_language_has_its_own_text(cautions) -> None:
    english = cautions.texts["en"]
    for code in (*LANGUAGES, "zh-hant"):
        texts = cautions.texts[code]
        assert set(texts) == set(english)
        for key, text in texts.items():
            assert text.startswith("⚠️ ") and len(text) < 500, (code, key)
            if code != "en":
                assert text != english[key]
                # no English sentence left in another language's text
                assert not re.search(r"\b(?:do not|doctor|unless|the|with)\b", text), (code, key)


def test_the_text_follows_the_language_and_the_chinese_script() -> None:
    simplified, traditional = "我在吃华法林，可以吃布洛芬吗？", "我在吃華法林，可以吃布洛芬嗎？"
    [hans] = cautions_for(simplified, chinese(simplified))
    [hant] = cautions_for(traditional, chinese(traditional))
    assert "医生" in hans and "醫師" in hant
    [spanish] = cautions_for("Tomo Sintrom, ¿puedo tomar ibuprofeno?", "es")
    assert spanish.startswith("⚠️ No tome ibuprofeno")
    [fallback] = cautions_for(WARFARIN, "xx")  # a language without texts gets English
    assert fallback.startswith("⚠️ Do not take ibuprofen")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("metronidazole_alcohol =", "metronidazole_drink =", 1),
     "exactly the ids"),
    (lambda t: t.replace("kidney = [", "kidneys = [", 1), "[patterns] of the groups"),
    (lambda t: t.replace("'ckd'", "'ckd('", 1), "bad pattern"),
    (lambda t: t.replace("'aged? \\d+'", "'aged'", 1), "needs a \\d"),
])
def test_a_broken_file_is_refused_with_its_name(tmp_path, edit, message) -> None:
    folder = tmp_path / "medication_cautions"
    shutil.copytree(PROMPTS / "medication_cautions", folder)
    path = folder / "en.toml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        Cautions.load(PROMPTS / "medication_cautions.toml", folder)
    assert str(path) in str(raised.value)


RECORDS = [
    {"id": "warfarin-ibuprofen",
     "question": "I take warfarin for atrial fibrillation. Can I take ibuprofen for knee pain?",
     "answer": "Ibuprofen and other anti-inflammatory painkillers raise the bleeding risk with "
               "warfarin. Paracetamol is the usual choice; check with your anticoagulation "
               "clinic.", "doctor": "Dr. Ana Costa", "department": "Cardiology"},
    {"id": "loperamide-toddler", "question": "Can I give Imodium to my toddler with diarrhoea?",
     "answer": "Loperamide (Imodium) is not for young children without a doctor's advice. Give "
               "plenty of fluids and oral rehydration solution.", "doctor": "Dr. Omar Haddad",
     "department": "Paediatrics"},
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_records_index(tmp_path_factory.mktemp("cautions-engine"), RECORDS)


def engine_for(index_dir: Path, llm: FakeOpenAI | None = None) -> Engine:
    return engine_on(settings_for(index_dir, llm))


def caution_text(name: str, language: str) -> str:
    return load_default().texts[language][name]


def assert_in_order(text: str, *parts: str) -> None:
    at = [text.index(part) for part in parts]
    assert at == sorted(at), at


async def test_offline_the_no_comes_after_the_safety_line_and_before_the_sources(
        index_dir) -> None:
    engine = engine_for(index_dir)
    answer = await engine.answer(WARFARIN)
    line = engine.prompts.text("medication_safety.interaction", "en")
    no = caution_text("nsaid_anticoagulant", "en")
    assert answer.mode == "extractive" and answer.sources[0].id == "warfarin-ibuprofen"
    assert answer.notice == f"{line}\n\n{no}"
    assert_in_order(answer.text, line, no, answer.body, "Sources:")
    assert answer.text.count("⚠️") == 1 and answer.text.endswith(engine.disclaimer("en"))


@pytest.mark.parametrize(("message", "language", "caution"), [
    ("我在吃华法林，可以吃布洛芬吗？", "zh", "nsaid_anticoagulant"),
    ("Можно ли дать имодиум ребенку 1,5 года?", "ru", "loperamide_child"),
    ("¿Puedo darle Imodium a mi bebé de 18 meses?", "es", "loperamide_child"),
])
async def test_offline_the_no_is_in_the_persons_language(index_dir, message, language,
                                                         caution) -> None:
    engine = engine_for(index_dir)
    answer = await engine.answer(message)
    assert answer.language == language and answer.intent.startswith("medication")
    line, no = answer.notice.split("\n\n")[0], caution_text(caution, language)
    assert line.startswith("💊") and answer.notice == f"{line}\n\n{no}"
    assert_in_order(answer.text, line, no, answer.body)
    assert caution_text(caution, "en") not in answer.text


async def test_a_question_without_a_known_no_gets_only_the_safety_line(index_dir) -> None:
    answer = await engine_for(index_dir).answer("can I drink a glass of wine on amoxicillin?")
    assert answer.intent == "medication.interaction" and "⚠️" not in answer.text


async def test_the_earlier_message_of_the_conversation_counts(index_dir) -> None:
    history = [("user", "I take warfarin every day for my heart."),
               ("assistant", "Thank you, what would you like to know?")]
    answer = await engine_for(index_dir).answer("can I take ibuprofen for my knee?", history)
    assert caution_text("nsaid_anticoagulant", "en") in answer.notice


async def test_with_an_llm_the_no_streams_first_and_precedes_its_answer(index_dir) -> None:
    reply = "Ibuprofen is not a good idea with warfarin [1]; paracetamol is usually used."
    async with FakeOpenAI(reply, chunk_delay=0.01) as llm:
        engine = engine_for(index_dir, llm)
        events = [e async for e in engine.stream(WARFARIN)]
    answer, no = events[-1], caution_text("nsaid_anticoagulant", "en")
    line = engine.prompts.text("medication_safety.interaction", "en")
    assert isinstance(answer, Answer) and answer.mode == "llm"
    assert events[0] == f"{line}\n\n{no}\n\n"  # shown before the answer starts to grow
    assert_in_order(answer.text, line, no, "Ibuprofen is not a good idea", "Sources:")


async def test_telegram_shows_the_no_above_the_streamed_answer(tmp_path_factory, api) -> None:
    root = build_index(tmp_path_factory.mktemp("cautions-telegram"))
    reply = "Rest the knee and use ice after running [1]."
    async with FakeOpenAI(reply, chunk_delay=0.01) as llm, running_bot(root, api, llm) as bot:
        *_, final = await bot.answer(5151, WARFARIN)
    shown, no = final.plain_text, caution_text("nsaid_anticoagulant", "en")
    assert shown.startswith("💊") and final.callback_data
    assert_in_order(shown, "💊", no, "Rest the knee and use ice")
