"""Answers in the person's language: every fixed text in all 15 languages, the offline frame
and disclaimer in the person's language around a quote in its own, the LLM told the language,
the disclaimer saying what the index holds, and Telegram's folded sources list."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.ingest import ingest
from bot.prompts import KNOWLEDGE, LANGUAGES, LOCALIZED, PromptError, Prompts, placeholders
from bot.provenance import SHIPPED_LABELS, read_labels
from bot.settings import load_settings
from bot.text_cleanup import sentences
from bot.triage.language import LANGUAGES as TRIAGE_LANGUAGES
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.openai_server import FakeOpenAI
from tests.shared_paths import MEDQUAD, SAMPLE_PAGE
from tests.telegram_helpers import engine_for as engine_on
from tests.telegram_helpers import running_bot, settings_for

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
HEPATITIS = [f"NIDDK_0000194_Sec{n}.txt" for n in range(1, 9)]
OTHERS = ["MPlusHealthTopics_0000854_Sec1.txt", "NIDDK_0000089_Sec1.txt",
          "CancerGov_0000001_1_Sec1.txt", "GARD_0001663_Sec2.txt"]
SPANISH = "Hola, ¿cuáles son los síntomas de la hepatitis A y cuándo debo ir al médico?"
CHINESE = "你好，请问 hepatitis A 有哪些症状？什么时候应该去看医生？"  # Simplified: "zh" texts
USER = 5151


def _rows() -> dict[str, dict]:
    with open(MEDQUAD / "medquad.jsonl", encoding="utf-8") as lines:
        return {row["id"]: row for row in map(json.loads, lines)
                if row["id"] in HEPATITIS + OTHERS}


def assert_quoted_as_written(text: str, source_id: str) -> None:
    """The first quote is English text of that source, as it stands there once cleaned (whole
    sentences)."""
    quote = re.findall(r"“(.*?)”", text, re.S)[0]
    answer = " ".join(sentences(_rows()[source_id]["answer"]))
    for run in quote.split(" … "):
        assert run in answer and run.isascii() and run.endswith("."), run


def _file(name: str, language: str) -> Path:
    return PROMPTS / (f"{name}.md" if language == "en" else f"{name}.{language}.md")


def test_every_language_has_every_text_with_the_same_placeholders():
    assert set(LANGUAGES) == set(TRIAGE_LANGUAGES) and len(LANGUAGES) == 15
    english_labels = read_labels(SHIPPED_LABELS)
    for language in LANGUAGES:
        for name in LOCALIZED:
            text = _file(name, language).read_text(encoding="utf-8").strip()
            english = _file(name, "en").read_text(encoding="utf-8").strip()
            assert text, (name, language)
            assert placeholders(text) == placeholders(english), (name, language)
            assert language == "en" or text != english, (name, language)  # translated
        if language == "en":
            continue
        labels = read_labels(PROMPTS / f"labels.{language}.toml")
        assert labels.keys() == english_labels.keys(), language
        for key, text in labels.items():
            assert text.strip() and placeholders(text) == placeholders(english_labels[key]), \
                (language, key)
        for key in ("knowledge_both", "said_nih", "original_language", "sources_title"):
            assert labels[key] != english_labels[key], (language, key)


def test_prompts_fall_back_to_english_and_reject_a_wrong_placeholder(tmp_path):
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS, folder)
    (folder / "offline.es.md").unlink()
    (folder / "labels.es.toml").unlink()
    prompts = Prompts.load(load_settings(prompts_dir=folder))
    assert prompts.text("offline", "es") == prompts.offline
    assert prompts.labels("es")("sources") == "Sources"
    assert prompts.text("disclaimer", "xx") == prompts.disclaimer  # unknown language: English
    assert "{knowledge}" not in prompts.disclaimer and "{knowledge}" not in prompts.no_match
    for name in KNOWLEDGE:
        assert prompts.labels("de")("knowledge_reference") in prompts.text(name, "de",
                                                                            "reference")
    (folder / "no_match.fr.md").write_text("Rien trouvé ({wissen}).", encoding="utf-8")
    with pytest.raises(PromptError, match="no_match.fr.md"):
        Prompts.load(load_settings(prompts_dir=folder))


def _write_corpus(folder: Path, ids: list[str], doctors: bool) -> None:
    folder.mkdir(parents=True)
    wanted = set(ids)
    with open(MEDQUAD / "medquad.jsonl", encoding="utf-8") as lines:
        rows = [line for line in lines if json.loads(line)["id"] in wanted]
    (folder / "medquad-pick.jsonl").write_text("".join(rows), encoding="utf-8")
    if doctors:
        (folder / "twitching.txt").write_bytes(SAMPLE_PAGE.read_bytes())


def _index(root: Path, doctors: bool) -> Path:
    _write_corpus(root / "knowledge", HEPATITIS + OTHERS, doctors)
    settings = load_settings(data_dir=root / "data", knowledge_dir=root / "knowledge")
    assert ingest(settings, embedder=FakeEmbedder()).exit_code == 0
    return root


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MedQuAD's hepatitis A pairs and a few others, with the sample doctor's page."""
    return _index(tmp_path_factory.mktemp("mixed"), doctors=True)


@pytest.fixture(scope="module")
def nih_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same MedQuAD pairs without any doctor's reply."""
    return _index(tmp_path_factory.mktemp("nih"), doctors=False)


def _engine(root: Path, llm: FakeOpenAI | None = None) -> Engine:
    return engine_on(settings_for(root, llm, relevance_floor=0.1))


@pytest.mark.parametrize(("message", "language"), [(SPANISH, "es"), (CHINESE, "zh")])
async def test_offline_frame_and_disclaimer_in_the_persons_language(mixed, message, language):
    engine = _engine(mixed)
    answer = await engine.answer(message)
    prompts = engine.prompts
    labels = prompts.labels(language)
    assert answer.mode == "extractive" and answer.language == language
    assert answer.body.startswith(labels("original_language"))
    assert prompts.text("offline", language) in answer.body
    assert answer.sources[0].id in HEPATITIS
    assert_quoted_as_written(answer.body, answer.sources[0].id)  # in its own language
    assert f"[1] {labels('said_nih', origin='NIDDK')}" in answer.body
    assert "replied to a similar question" not in answer.body and "says:" not in answer.body
    assert f"\n\n{labels('sources')}{labels('colon').rstrip()}\n[1] " in answer.text
    assert labels("nih_answer", origin="NIDDK") in answer.text
    disclaimer = prompts.text("disclaimer", language, "both")
    assert answer.disclaimer == disclaimer and answer.text.endswith(disclaimer)
    assert labels("knowledge_both") in disclaimer and disclaimer != prompts.disclaimer
    assert len(answer.body) <= 700


async def test_the_llm_is_told_the_persons_language(mixed):
    async with FakeOpenAI("Consulte a un médico pronto si tiene ictericia [1].") as llm:
        engine = _engine(mixed, llm)
        answer = await engine.answer(SPANISH)
    assert answer.mode == "llm"
    prompt = llm.last_messages()[-1]["content"]
    assert "The person writes in Spanish. Answer the person in Spanish" in prompt
    assert "(NIH reference answer from NIDDK)" in prompt and "Dr." not in prompt
    assert answer.text.endswith(engine.prompts.text("disclaimer", "es", "both"))
    data = answer.to_json()
    assert {"answer", "triage", "mode", "sources", "standalone_question", "index_version",
            "language"} <= data.keys() and data["language"] == "es"
    assert {"kind", "title", "doctor", "similarity"} <= data["sources"][0].keys()
    assert data["sources"][0]["kind"] == "qa" and data["sources"][0]["doctor"] == ""


async def test_the_disclaimer_and_no_match_say_what_the_index_holds(nih_only):
    engine = _engine(nih_only)
    answer = await engine.answer("What are the symptoms of hepatitis A, and when should I see "
                                 "a doctor about them?")
    assert answer.language == "en" and engine.holds == "reference"
    assert "(health reference texts)" in answer.disclaimer
    assert "doctor" not in answer.disclaimer.split("(")[1].split(")")[0]
    engine.settings = load_settings(data_dir=nih_only / "data", relevance_floor=0.99,
                                    knowledge_dir=nih_only / "knowledge")
    nothing = await engine.answer("qwerty zxcvb asdfg")
    assert nothing.mode == "no_match"
    assert "my knowledge base (health reference texts)" in nothing.body


async def test_telegram_folds_the_sources_and_speaks_the_persons_language(nih_only, api, tmp_path):
    root = nih_only
    async with running_bot(root, api, db_path=tmp_path / "db", relevance_floor=0.1) as bot:
        [start] = await bot.ask(USER, "/start")
        [help_] = await bot.ask(USER, "/help")
        [answer] = await bot.answer(USER, SPANISH)
        api.press_button(USER, answer.message_id, answer.callback_data[2])
        detail = (await api.wait_for_messages(USER, 4))[-1]
        stored = bot.services.store.answer_sources(answer.callback_data[2].split(":")[1])
    labels = bot.services.engine.prompts.labels("es")
    assert "(health reference texts)" in start.plain_text
    assert "doctors' replies" not in start.plain_text.split("What I am not")[0]
    assert "(health reference texts)" in help_.plain_text
    text = answer.plain_text
    heading = text.index("Fuentes\n[1] ")
    folded = [e for e in answer.entities if e["type"] == "expandable_blockquote"]
    assert len(folded) == 1 and folded[0]["offset"] == heading + len("Fuentes\n")
    listed = text[folded[0]["offset"]:folded[0]["offset"] + folded[0]["length"]]
    assert listed.startswith("[1] " + labels("nih_answer", origin="NIDDK"))
    assert {"type": "bold", "offset": heading, "length": len("Fuentes")} in answer.entities
    assert text.endswith(bot.services.engine.prompts.text("disclaimer", "es", "reference"))
    assert labels("said_nih", origin="NIDDK") in text
    assert_quoted_as_written(text, stored[0]["id"])
    assert stored[0]["answer_language"] == "es"
    assert answer.buttons[2]["text"] == "📚 Fuentes"
    assert detail.plain_text.startswith(labels("sources_title"))
    assert labels("nih_answer", origin="NIDDK") in detail.plain_text
    assert "Doctor reply" not in detail.plain_text and "Dr." not in detail.plain_text
