"""The intent step on its own: medication-safety questions, off-topic messages and greetings in
the person's language, and health questions never refused."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.intent import KINDS, Intent, IntentClassifier, load_default
from bot.intent.cues import CueSet
from bot.prompts import INTENT_TEXTS, LANGUAGES, Prompts
from bot.settings import load_settings

DEV = Path(__file__).resolve().parents[1] / "bench" / "intent_data" / "dev.jsonl"


@pytest.fixture(scope="module")
def intents() -> IntentClassifier:
    return load_default()


@pytest.mark.parametrize(("text", "name"), [
    ("Can I give my 18-month-old Imodium?", "medication.child_dose"),
    ("warfarin + ibuprofen + fish oil ok?", "medication.interaction"),
    ("is ibuprofen OK at 30 weeks pregnant", "medication.pregnancy"),
    ("can I take St John's wort with sertraline", "medication.interaction"),
    ("breastfeeding and codeine", "medication.breastfeeding"),
    ("how many paracetamol can I take in a day?", "medication.dose"),
    ("¿Puedo darle Imodium a mi bebé de 18 meses?", "medication.child_dose"),
    ("¿es seguro el ibuprofeno a las 30 semanas de embarazo?", "medication.pregnancy"),
    ("lactancia y codeína", "medication.breastfeeding"),
    ("我家宝宝18个月，可以吃易蒙停吗？", "medication.child_dose"),
    ("华法林加布洛芬加鱼油一起吃可以吗？", "medication.interaction"),
    ("哺乳期可以吃可待因吗", "medication.breastfeeding"),
    ("Est-ce que je peux donner de l'Imodium à mon bébé de 18 mois ?", "medication.child_dose"),
    ("je peux prendre du millepertuis avec la sertraline ?", "medication.interaction"),
    ("Ist Ibuprofen in der 30. Schwangerschaftswoche in Ordnung?", "medication.pregnancy"),
    ("Kann ich Johanniskraut zusammen mit Sertralin nehmen?", "medication.interaction"),
    ("授乳中にコデインを飲んでも大丈夫ですか", "medication.breastfeeding"),
    ("임신 30주에 이부프로펜 먹어도 되나요", "medication.pregnancy"),
    ("هل يمكن أخذ نبتة سانت جون مع سيرترالين؟", "medication.interaction"),
    ("क्या मैं अपने 18 महीने के बच्चे को इमोडियम दे सकती हूँ?", "medication.child_dose"),
    ("можно ли принимать зверобой вместе с сертралином?", "medication.interaction"),
    ("18 aylık bebeğime Imodium verebilir miyim?", "medication.child_dose"),
    ("menyusui dan kodein", "medication.breastfeeding"),
    ("mang thai 30 tuần uống ibuprofen được không", "medication.pregnancy"),
    ("posso tomar erva-de-são-joão com sertralina?", "medication.interaction"),
    ("Posso dare l'Imodium al mio bambino di 18 mesi?", "medication.child_dose"),
])
def test_medication_safety_questions_are_recognised(intents, text, name) -> None:
    assert intents.classify(text).name == name


def test_the_five_medication_questions_in_all_fifteen_languages(intents) -> None:
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()]
    asked = [r for r in rows if r["label"] == "medication"
             and r["kind"] in ("child_dose", "interaction", "pregnancy", "breastfeeding")]
    assert {r["lang"] for r in asked} == set(LANGUAGES)
    wrong = [(r["lang"], r["text"]) for r in asked
             if intents.classify(r["text"]).name != f"medication.{r['kind']}"]
    assert wrong == []


@pytest.mark.parametrize("text", [
    "is coffee bad for my reflux",
    "recipe for a low-salt diet for my blood pressure",
    "my knee swells after football training, is it the meniscus?",
    "been coding 10 hours a day and now my wrists tingle at night",
    "I pulled a muscle playing tennis yesterday, ice or heat?",
    "in the film the hero gets bitten by a snake and dies in minutes, is that realistic?",
    "receta para una dieta baja en sal, tengo la tensión alta",
    "dopo la partita di calcio mi fa male il ginocchio",
    "踢足球后膝盖肿了，是半月板受伤吗？",
    "Nach dem Fußballtraining schmerzt mein Knie",
    "高血圧なので減塩レシピを教えてください",
    "시험 때문에 죽겠다 ㅋㅋ 카페인 하루에 얼마까지 괜찮아요?",
    "na novela a personagem teve um infarto com 25 anos, isso acontece mesmo?",
    "what are the side effects of metformin",
])
def test_health_questions_about_food_sport_or_code_are_not_refused(intents, text) -> None:
    assert intents.classify(text).label == "health"


@pytest.mark.parametrize("text", [
    "what's a good recipe for banana bread",
    "who won the Champions League final last night?",
    "write me a python function that reverses a string",
    "write a short poem about autumn",
    "can you help with my maths homework: solve 3x + 5 = 20",
    "tell me a joke",
    "receta de tortilla de patatas",
    "Schreib mir ein Gedicht über den Winter",
    "昨晚的NBA比赛谁赢了？",
    "напиши стихотворение про зиму",
    "dün Galatasaray maçını kim kazandı?",
    "my maths homework: the derivative of x squared?",  # Turkish 'deri' (skin) once vetoed it
    "新宿でおすすめのラーメン屋さん教えて",
])
def test_off_topic_requests_are_recognised(intents, text) -> None:
    assert intents.classify(text).name == "off_topic"


@pytest.mark.parametrize(("text", "kind"), [
    ("hi", "hello"), ("Hello doctor!", "hello"), ("good morning 🌞", "hello"),
    ("what can you do?", "hello"), ("thanks a lot, that helped", "thanks"),
    ("ok thank you, bye", "thanks"), ("hola", "hello"), ("muchas gracias, muy amable", "thanks"),
    ("你好", "hello"), ("谢谢医生！", "thanks"), ("ciao!", "hello"), ("नमस्ते", "hello"),
    ("बहुत धन्यवाद", "thanks"), ("спасибо большое!", "thanks"), ("감사합니다!", "thanks"),
    ("👍", "thanks"), ("🙏🙏", "thanks"), ("?", "hello"), ("ok thik hai, thanks", "thanks"),
    ("ok cam on", "thanks"), ("prova 1 2 3", "hello"), ("Is this thing on?", "hello"),
])
def test_greetings_and_thanks(intents, text, kind) -> None:
    assert intents.classify(text).name == f"greeting.{kind}"


@pytest.mark.parametrize("text", ["hi, my chest has hurt since this morning",
                                  "thanks, but the rash is spreading now",
                                  "hola, me duele la muela"])
def test_a_greeting_with_a_question_in_it_is_a_health_question(intents, text) -> None:
    assert intents.classify(text).label == "health"


def test_an_urgent_message_is_never_refused_or_greeted(intents) -> None:
    assert intents.classify("write me a poem", level="urgent").label == "health"
    assert intents.classify("thanks", level="urgent").label == "health"
    assert intents.classify("can I take ibuprofen with warfarin", level="urgent").name == \
        "medication.interaction"


def test_a_follow_up_names_the_medicine_in_the_message_before(intents) -> None:
    assert intents.classify("is it safe while breastfeeding?").label == "health"
    follow_up = intents.classify("is it safe while breastfeeding?",
                                 context="can I take cetirizine for hay fever")
    assert follow_up.name == "medication.breastfeeding"


def test_words_in_separate_sentences_are_no_medication_question(intents) -> None:
    story = ("The kids fought over the tablet the whole way. We took the back roads for two "
             "hours. Anyway, just needed to tell someone.")
    assert intents.classify(story).label != "medication"
    assert intents.classify("I'm 30 weeks pregnant. Is paracetamol ok?").name == \
        "medication.pregnancy"


def test_short_messages_get_the_language_of_their_cue_words(intents) -> None:
    # the detector reads these as Turkish, Vietnamese and Indonesian
    assert intents.classify("hola", language="tr").language == "es"
    assert intents.classify("ciao!", language="vi").language == "it"
    assert intents.classify("warfarin + ibuprofen + fish oil ok?", language="id").language == "en"
    # a longer message keeps the detector's language unless its words clearly say otherwise
    assert intents.classify("escríbeme un poema sobre el mar, por favor", language="es"
                            ).language in ("", "es")


def test_every_language_has_each_intent_text() -> None:
    prompts = Prompts.load(load_settings())
    for language in LANGUAGES:
        for name in INTENT_TEXTS:
            text = prompts.text(name, language)
            if name == "medication_rule":
                assert text  # the LLM's rule is English for every language
                continue
            assert text and (language == "en" or text != prompts.text(name, "en")), (name,
                                                                                   language)
    for kind in KINDS["medication"]:
        assert Intent("medication", kind).text in INTENT_TEXTS


def test_a_bad_cue_file_is_refused_with_its_name(tmp_path) -> None:
    (tmp_path / "xx.toml").write_text('[language]\ncode = "xx"\n[cues]\nhello = ["Hi"]\n',
                                      encoding="utf-8")
    with pytest.raises(ValueError, match=r"xx\.toml.*lower case"):
        CueSet.from_dir(tmp_path)
    (tmp_path / "xx.toml").write_text('[language]\ncode = "xx"\n[cues]\nhellos = ["hi"]\n',
                                      encoding="utf-8")
    with pytest.raises(ValueError, match=r"xx\.toml.*unknown keys"):
        CueSet.from_dir(tmp_path)


def test_a_long_message_is_classified_in_milliseconds(intents) -> None:
    message = ("My knee has been swollen since the football match on Sunday and it hurts when "
               "I climb stairs, especially in the morning. ") * 30  # about 3,500 characters
    intents.classify(message)
    started = time.perf_counter()
    for _ in range(5):
        assert intents.classify(message).label == "health"
    assert (time.perf_counter() - started) / 5 < 0.05
