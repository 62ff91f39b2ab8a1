"""The query glossary: a message in one of the bot's languages yields the English terms MedQuAD
uses, the longest phrase first, without false matches inside other words."""

from __future__ import annotations

import functools
import re
import timeit
import unicodedata

import pytest

from bot.glossary import GLOSSARY_DIR, GlossaryError, english_terms, glossaries, load, search_text
from bot.prompts import LANGUAGES

NON_ENGLISH = [code for code in LANGUAGES if code != "en"]

# A message as people write it, and English terms its search text must carry.
MESSAGES = [
    ("es", "Me duele la cabeza y tengo fiebre desde ayer", ["headache", "fever"]),
    ("es", "¿El hipotiroidismo es hereditario?", ["hypothyroidism", "inherited genetic"]),
    ("es", "Tomo paracetamol y tengo piedras en el riñón", ["acetaminophen", "kidney stones"]),
    ("fr", "J'ai mal à la tête et des nausées", ["headache", "nausea"]),
    ("fr", "Est-ce que la sclérose en plaques est héréditaire ?", ["multiple sclerosis"]),
    ("de", "Seit Tagen habe ich Kopfschmerzen und Durchfall", ["headache", "diarrhea"]),
    ("de", "Mein Augenlid zuckt, ist das ALS?", ["eyelid twitch"]),
    ("de", "Ich habe Nierensteine und nehme Ibuprofen", ["kidney stones", "ibuprofen"]),
    ("pt", "Estou com dor de cabeça e tontura", ["headache", "dizziness"]),
    ("pt", "Minha mãe tem pressão alta e diabetes", ["high blood pressure", "diabetes"]),
    ("it", "Ho mal di testa e la febbre", ["headache", "fever"]),
    ("it", "Quali sono i sintomi della celiachia?", ["symptoms", "celiac disease"]),
    ("ru", "У меня головная боль и кашель", ["headache", "cough"]),
    ("ru", "Камни в почках: какие симптомы?", ["kidney stones", "symptoms"]),
    ("ru", "Дергается глаз уже неделю", ["eyelid twitch"]),
    ("tr", "Başım ağrıyor ve öksürüyorum", ["headache", "cough"]),
    ("tr", "bas agrisi ve mide bulantisi", ["headache", "nausea"]),
    ("tr", "Şeker hastalığı kalıtsal mı?", ["diabetes", "inherited genetic"]),
    ("id", "Saya sakit kepala dan batuk", ["headache", "cough"]),
    ("id", "Kepalaku pusing dan mual", ["dizziness headache", "nausea"]),
    ("vi", "Tôi bị đau đầu và ho", ["headache", "cough"]),
    ("vi", "toi bi dau dau va chong mat", ["headache", "dizziness"]),
    ("hi", "मुझे सिर में दर्द और खांसी है", ["headache", "cough"]),
    ("hi", "क्या डायबिटीज़ आनुवंशिक है?", ["diabetes", "inherited genetic"]),
    ("ar", "عندي صداع وسعال", ["headache", "cough"]),
    ("ar", "أعاني من ألم في معدتي", ["stomach ache"]),
    ("ar", "هل السكري وراثي؟", ["diabetes", "inherited genetic"]),
    ("zh", "我头痛，还咳嗽", ["headache", "cough"]),
    ("zh", "我頭痛，還咳嗽", ["headache", "cough"]),
    ("zh", "甲减会遗传吗？", ["hypothyroidism", "inherited genetic"]),
    ("zh", "最近眼皮一直跳，是漸凍症嗎？", ["eyelid twitch", "amyotrophic lateral sclerosis ALS"]),
    ("ja", "頭が痛くて咳が出ます", ["headache", "cough"]),
    ("ja", "腎臓結石の症状は？", ["kidney stones", "symptoms"]),
    ("ko", "머리가 아프고 기침이 나요", ["headache", "cough"]),
    ("ko", "눈떨림이 계속돼요. 루게릭병인가요?",
     ["eyelid twitch", "amyotrophic lateral sclerosis ALS"]),
]


@pytest.mark.parametrize(("language", "message", "expected"), MESSAGES)
def test_messages_map_to_the_english_terms(language: str, message: str, expected: list[str]):
    terms = english_terms(message, language)
    assert [t for t in expected if t not in terms] == [], terms
    assert search_text(message, language).split("\n") == [message, " ".join(terms)]


@pytest.mark.parametrize(("language", "message", "expected"), [
    ("es", "tengo dolor de cabeza", ["headache"]),  # not "pain" and "head"
    ("fr", "un mal de gorge", ["sore throat"]),
    ("de", "starke Bauchschmerzen", ["abdominal pain"]),
    ("ru", "сильная головная боль", ["headache"]),
    ("tr", "karın ağrısı", ["abdominal pain"]),
    ("zh", "偏头痛", ["migraine"]),  # not "headache" or "pain"
    ("ja", "偏頭痛", ["migraine"]),
    ("ko", "편두통", ["migraine"]),
])
def test_the_longest_phrase_wins(language: str, message: str, expected: list[str]):
    assert english_terms(message, language) == expected


@pytest.mark.parametrize(("language", "message"), [
    ("es", "Una vez al año fui con mi mamá a la colonia"),  # uña, ano, mama, colon
    ("es", "me hicieron una pielografía"),  # piel
    ("de", "Das war mehr als ausschlaggebend"),  # ALS, Ausschlag
    ("ru", "Больше всего мне помогло руководство"),  # боль, рука
    ("tr", "Başka bir şey eklemek istiyorum"),  # baş, eklem
    ("id", "Hati-hati di jalan"),  # hati
    ("vi", "Đầu tiên, môi trường rất phù hợp"),  # đầu, môi, phù
    ("ar", "في سن الأربعين رحمه الله"),  # سن, رحم
    ("zh", "我的手机和电脑都坏了"),  # 手, 脑
    ("ja", "入口で手紙を書いた"),  # 口, 手
    ("ko", "시간이 없어서 기술을 배웠어요"),  # 간, 술
])
def test_no_matches_inside_other_words(language: str, message: str):
    assert english_terms(message, language) == []


def test_a_message_without_terms_or_in_english_is_searched_as_it_is():
    assert search_text("me duele la cabeza y tengo fiebre", "es") == (
        "me duele la cabeza y tengo fiebre\nheadache fever")
    assert search_text("¿Dónde está la estación?", "es") == "¿Dónde está la estación?"
    assert search_text("I have a headache", "en") == "I have a headache"
    assert search_text("dolor de cabeza", "") == "dolor de cabeza"
    assert english_terms("", "es") == []


def test_every_language_has_a_glossary_of_its_own():
    assert sorted(glossaries()) == sorted(NON_ENGLISH)
    assert glossaries() is glossaries()  # compiled once
    small = {code: g.size for code, g in glossaries().items() if g.size < 300}
    assert small == {}


# The letters a language's keys are written in; mixed keys such as "维生素D" or "비타민d" may add
# Latin letters to the native ones.
SCRIPTS = {"zh": ("CJK",), "ja": ("CJK", "HIRAGANA", "KATAKANA"), "ko": ("HANGUL",),
           "ru": ("CYRILLIC",), "ar": ("ARABIC",), "hi": ("DEVANAGARI",)}


def _tomls():
    import tomllib

    for code in NON_ENGLISH:
        data = tomllib.loads((GLOSSARY_DIR / f"{code}.toml").read_text(encoding="utf-8"))
        data.pop("language")
        yield code, [(k, v) for section in data.values() for k, v in section.items()]


@pytest.mark.parametrize(("code", "entries"), list(_tomls()), ids=NON_ENGLISH)
def test_keys_are_in_the_languages_script_and_values_in_english(code: str, entries: list):
    native = SCRIPTS.get(code, ("LATIN",))
    wrong_script, not_english = [], []
    for key, value in entries:
        letters = [unicodedata.name(c, "") for c in key if c.isalpha()]
        ok = [any(s in n for s in native) for n in letters]
        latin_mix = native != ("LATIN",) and any(ok) and all(
            good or "LATIN" in n for good, n in zip(ok, letters, strict=True))
        if not (all(ok) or latin_mix):
            wrong_script.append(key)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 '\-]*", value):
            not_english.append(value)
    assert wrong_script == []
    assert not_english == []


def test_chinese_has_simplified_and_traditional_spellings():
    keys = {key for key, _ in dict(_tomls())["zh"]}
    pairs = [("头痛", "頭痛"), ("高血压", "高血壓"), ("肾结石", "腎結石"), ("糖尿病", "糖尿病"),
             ("湿疹", "濕疹"), ("甲状腺功能减退", "甲狀腺功能減退"), ("渐冻症", "漸凍症"),
             ("对乙酰氨基酚", "對乙酰氨基酚"), ("副作用", "副作用"), ("遗传", "遺傳")]
    assert [p for p in pairs if not set(p) <= keys] == []


@pytest.mark.parametrize(("text", "message"), [
    ('[language]\ncode = "xx"\n\n[body]\n"cabeza" = "head"\n"cabeza = "head"\n',
     "line 6"),  # a TOML syntax error, with tomllib's position
    ('[language]\ncode = "xx"\nfold_accents = true\n\n[body]\n"corazón" = "heart"\n'
     '"corazon" = "heart"\n', "line 7"),  # the same key once accents are dropped
    ('[language]\ncode = "xx"\n\n[body]\n"cabeza" = 3\n', "line 5"),
    ('[language]\ncode = "xx"\n\n[body]\n"pie" = "pie"\n"ab*" = "foot"\n', "line 6"),
    ('[language]\ncode = "xx"\n\n[body]\n"cabeza" = "cabeza ñ"\n', "line 5"),
    ('[language]\ncode = "yy"\n\n[body]\n"cabeza" = "head"\n', "line 1"),
])
def test_a_malformed_glossary_fails_at_load_saying_where(tmp_path, text: str, message: str):
    path = tmp_path / "xx.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GlossaryError) as error:
        load(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_a_long_message_takes_well_under_a_millisecond():
    messages = {
        "es": "Desde hace una semana me duele la cabeza, tengo fiebre, mareos y náuseas. ",
        "ru": "Уже неделю у меня болит голова, температура и головокружение, тошнит. ",
        "ar": "منذ أسبوع أعاني من صداع وحمى ودوخة وغثيان، والدتي مصابة بالسكري. ",
        "zh": "我这一周一直头痛、发烧、头晕，还有点恶心。我妈妈有二型糖尿病。",
        "vi": "Một tuần nay tôi bị đau đầu, sốt, chóng mặt và buồn nôn. ",
    }
    glossaries()
    for language, sentence in messages.items():
        text = (sentence * 40)[:1000]
        run = functools.partial(english_terms, text, language)
        best = min(timeit.repeat(run, number=20, repeat=5)) / 20
        assert best < 0.002, (language, best)  # measured 0.2-0.6 ms; the bound leaves room
