"""The semantic triage through its real parts: the bundled encoder, the shipped model, the
language detector, and the verdict the engine turns into the emergency text."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.prompts import Prompts
from bot.settings import load_settings
from bot.triage import Flag, RuleTriage, TriageResult, load_default, load_rules
from bot.triage.clauses import sentences
from bot.triage.encoder import ENCODER_NAME, E5Encoder
from bot.triage.language import LANGUAGES, detect
from bot.triage.semantic import MODEL_FILE, ModelError, SemanticTriage, TriageModel
from bot.triage.verdict import most_serious

REPO = Path(__file__).resolve().parents[1]

# Written for these tests (not in any training file): wording the rules do not know.
MODEL_ONLY_EMERGENCIES = [
    "there's a grey shadow coming down over the top half of my right eye like a blind, started "
    "an hour ago, lots of floaters too",
    "ada bayangan gelap seperti tirai turun menutupi mata kiri saya sejak tadi pagi",
    "妻が急に片側の口が下がって、言葉がうまく出てこない",
    "my 2 year old swallowed one of those flat round batteries from the remote about 20 min ago, "
    "she seems totally fine",
    "the whole family has had pounding headaches all week and we feel better when we're out, "
    "the gas heater is old",
    "peed on a stick, it's positive, and now sharp pain low on the left side and i feel faint",
    "my baby's tummy and the skin between her ribs suck in every time she breathes, she's "
    "grunting",
]
ROUTINE = [
    "what does a heart attack feel like? asking because we're doing first aid at work",
    "my grandfather had a stroke in 1998, does that make me more likely to have one?",
    "this week at work is killing me, I need a holiday",
]


@pytest.fixture(scope="module")
def triage():
    return load_default()


def test_encoder_and_model_load_offline_from_the_packages() -> None:
    encoder = E5Encoder()
    vectors = encoder.encode(["chest pain", "dolor de pecho", "头痛"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])  # meaning, not script
    model = TriageModel.load()
    assert model.encoder == ENCODER_NAME == encoder.name
    assert MODEL_FILE.stat().st_size < 1_500_000  # a small file in the repo


@pytest.mark.parametrize("text", MODEL_ONLY_EMERGENCIES)
def test_the_semantic_layer_finds_what_the_rules_miss(triage, text: str) -> None:
    assert load_rules().classify(text).level != "emergency"  # the rules alone miss it
    assert load_default(semantic=False).classify(text).level != "emergency"
    verdict = triage.classify(text)
    assert verdict.level == "emergency", verdict
    assert any(f.layer == "model" for f in verdict.flags)


@pytest.mark.parametrize("text", ROUTINE)
def test_hard_negatives_stay_below_emergency(triage, text: str) -> None:
    assert triage.classify(text).level != "emergency"


def test_an_emergency_buried_in_a_long_story_is_found(triage) -> None:
    story = (
        "Sorry for the long message. We moved house last month and the kids started a new "
        "school, which has been a lot. My husband has been working late every night and we "
        "barely see each other. The weekend was fine, we had a barbecue with the neighbours. "
        "Tonight he has crushing pressure in the middle of his chest going into his jaw, he is "
        "pale grey and drenched in sweat, he says it's just indigestion from dinner. Anyway, "
        "I also wanted to ask about my daughter's eczema, which flares up in winter.")
    verdict = triage.classify(story)
    assert verdict.level == "emergency"
    assert any("chest" in f.words or "sweat" in f.words for f in verdict.flags)


def test_negation_clears_only_the_symptom_it_negates(triage) -> None:
    text = ("no chest pain at all, but for the last hour my left arm has gone heavy and numb, "
            "I'm sweating buckets and feel sick")
    assert triage.classify(text).level == "emergency"


def test_minimising_words_never_lower_the_level(triage) -> None:
    base = "my husband's face is drooping on one side and his speech is slurred"
    assert triage.classify(base).level == "emergency"
    for tail in (", probably nothing", ". my wife says it's just tiredness",
                 ", he refuses to go to hospital"):
        assert triage.classify(base + tail).level == "emergency", tail


def test_rules_emergencies_do_not_wait_for_the_model() -> None:
    class Exploding:
        name = ENCODER_NAME

        def encode(self, texts):  # noqa: ANN001, ANN202
            raise AssertionError("the encoder was called")

    from bot.triage import Triage

    triage = Triage(load_rules(), SemanticTriage(TriageModel.load(), Exploding()))
    verdict = triage.classify("crushing chest pain and I can't breathe")
    assert verdict.level == "emergency" and verdict.flags[0].layer == "rules"


def test_verdict_names_its_flags_and_logs_carry_no_words(triage) -> None:
    verdict = triage.classify(MODEL_ONLY_EMERGENCIES[0])
    flag = next(f for f in verdict.flags if f.layer == "model")
    assert flag.category and flag.words and flag.score is not None
    assert flag.words.rstrip("…") in MODEL_ONLY_EMERGENCIES[0]
    assert "shadow" not in flag.loggable() and flag.loggable().startswith("model:")


def test_most_serious_wins_and_rules_lead_at_equal_level() -> None:
    flags = [Flag("model", "model.dvt", "dvt", "urgent", "calf", 0.9),
             Flag("rules", "en.stroke.face", "stroke", "emergency", "face droop"),
             Flag("model", "model.stroke_tia", "stroke_tia", "emergency", "face", 0.8)]
    verdict = most_serious(flags, "en")
    assert verdict.level == "emergency" and verdict.matched == "en.stroke.face"
    assert most_serious([], "fr") == TriageResult("routine", "", "", (), "fr")


def test_a_model_for_another_encoder_is_refused(tmp_path: Path) -> None:
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    data["encoder"] = "some/other-model"
    (tmp_path / "m.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="trained on some/other-model"):
        SemanticTriage(TriageModel.load(tmp_path / "m.json"), E5Encoder())
    del data["thresholds"]
    (tmp_path / "m.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="m.json"):
        TriageModel.load(tmp_path / "m.json")


def test_sentences_keep_numbers_and_join_fragments() -> None:
    assert sentences("Temp is 38.5 today. ok. He is floppy and won't feed.") == [
        "Temp is 38.5 today. ok.", "He is floppy and won't feed."]
    assert len(sentences("word " * 200)) > 1  # a run-on message is cut into pieces
    assert sentences("   ") == []


EMERGENCY_BY_LANGUAGE = {
    "en": "my chest is crushing and I can't breathe",
    "es": "me duele muchísimo el pecho y no puedo respirar",
    "zh": "我胸口很痛，喘不过气，全身冒冷汗",
    "fr": "j'ai une douleur écrasante dans la poitrine et je n'arrive plus à respirer",
    "de": "ich habe starke Schmerzen in der Brust und bekomme keine Luft mehr",
    "pt": "estou com uma dor muito forte no peito e não consigo respirar",
    "it": "ho un dolore fortissimo al petto e non riesco a respirare",
    "vi": "tôi bị đau ngực dữ dội và không thở được",
    "ja": "胸がすごく痛くて息ができません",
    "ko": "가슴이 너무 아프고 숨을 쉴 수가 없어요",
    "ar": "عندي ألم شديد في صدري ولا أستطيع التنفس",
    "hi": "मेरे सीने में बहुत तेज़ दर्द है और सांस नहीं आ रही",
    "ru": "у меня сильная давящая боль в груди и я не могу дышать",
    "tr": "göğsümde çok şiddetli bir ağrı var ve nefes alamıyorum",
    "id": "dada saya sakit sekali seperti ditekan dan saya tidak bisa bernapas",
}


def test_every_safety_language_has_its_texts_and_a_case() -> None:
    assert set(EMERGENCY_BY_LANGUAGE) == set(LANGUAGES)
    prompts = Prompts.load(load_settings())
    for language in LANGUAGES:
        for name in ("emergency", "crisis", "urgent", "reason"):
            text = prompts.text(name, language)
            assert text and (language == "en" or text != getattr(prompts, name)), (name, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_emergency_text_in_the_persons_language(triage, language: str) -> None:
    from bot.engine import Engine

    message = EMERGENCY_BY_LANGUAGE[language]
    assert detect(message) == language
    verdict = triage.classify(message)
    assert verdict.level == "emergency" and verdict.language == language
    settings = load_settings(emergency_number="112")
    engine = Engine(settings, triage=triage)
    answer = engine.emergency(verdict)
    emergency_text = engine.prompts.text("emergency", language)
    assert emergency_text in answer.text and "112" in answer.text
    assert answer.text.endswith(engine.disclaimer(language))  # the disclaimer speaks it too
    assert language == "en" or not answer.text.endswith(engine.prompts.disclaimer)
    reason = engine.prompts.text("reason", language).split("{flags}")[0]
    assert answer.text.startswith(reason)  # "You mention «…»" in the person's language


def test_short_messages_get_their_language() -> None:
    for text, language in (("help", "en"), ("ayuda", "es"), ("hilfe", "de"), ("aiuto", "it"),
                           ("au secours", "fr"), ("socorro", "pt"), ("tolong", "id"),
                           ("помогите", "ru"), ("救命", "zh"), ("助けて", "ja")):
        assert detect(text) == language, text


def test_cli_triage_file_gives_level_category_and_flags(tmp_path: Path) -> None:
    lines = [{"id": "a", "text": MODEL_ONLY_EMERGENCIES[1]}, {"id": "b", "text": ROUTINE[2]},
             {"id": "c", "text": "crushing chest pain and I can't breathe"}]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "triage", "--file", str(source)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert [o["level"] for o in out] == ["emergency", "routine", "emergency"]
    assert out[0]["category"] != "none" and out[0]["flags"][0]["layer"] == "model"
    assert out[1]["category"] == "none" and out[2]["flags"][0]["layer"] == "rules"
    assert set(out[0]) >= {"id", "level", "category", "flags"}


def test_rule_layer_is_the_same_class_the_rule_tests_use() -> None:
    assert isinstance(load_default().rules, RuleTriage)


def test_emergency_log_names_flags_not_words(triage, caplog) -> None:
    from bot.engine import Engine

    engine = Engine(load_settings(), triage=triage)
    with caplog.at_level(logging.INFO, logger="bot.engine"):
        engine.emergency(triage.classify(MODEL_ONLY_EMERGENCIES[3]))
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "emergency triage" in logged and "model:" in logged
    assert "batteries" not in logged and "remote" not in logged


@pytest.mark.parametrize("text", [
    # A context sentence scored 0.80 "suicidal intent" before w13's routine context sentences.
    "can I have a few beers while I'm on amoxicillin? it's my brother's wedding saturday",
    "my mum's knees are stiff in the mornings. she's 74. he lives with my mum",
    # A late contraceptive pill scored 0.33 "overdose" before w13's late-pill rows.
    "I forgot my birth control pill yesterday and took it this morning, about 12 hours late. "
    "am I still protected?",
])
def test_a_benign_context_sentence_raises_no_emergency_and_no_crisis_line(triage, text) -> None:
    result = triage.classify(text)
    assert result.level != "emergency" and not result.crisis, result.flags


def test_a_confused_old_man_is_urgent_without_a_crisis_line(triage) -> None:
    result = triage.classify(
        "my dad is 80 and for the last two days he's been confused, doesn't know what day it "
        "is and sometimes talks nonsense. he was totally fine last week. no fever that we "
        "noticed. he lives with my mum")
    assert result.level in ("urgent", "emergency") and not result.crisis, result.flags
