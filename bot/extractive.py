"""The offline answer: a phone-sized quote of the best one or two sources, in whole cleaned
sentences, calm and useful ones first, attributed in the person's language."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answer import Source
from bot.keyword_index import tokenize
from bot.provenance import Labels, attribution, english
from bot.records import Record
from bot.text_cleanup import TERMINAL, sentences

BODY_CHARS = 700  # the whole offline body (intro, attributions, quotes): about a phone screen
PASSAGE_CHARS = 500  # a source's passage under the Sources button
MAX_SOURCES = 2
PER_SOURCE = 3
MAX_SENTENCES = 4
MAX_SENTENCE_CHARS = 400
MIN_SENTENCE_CHARS = 25
SECOND_SOURCE_WEIGHT = 0.8
FIRST_SOURCE_MIN_SCORE = 1.5  # the best source's further sentences must earn their place

# A doctor's conclusion and advice are what a worried person needs most.
_ADVICE = re.compile(
    r"\b(recommend|suggest|advis|should|see (?:a|your)|visit|consult|seek|call|talk to|"
    r"emergency|right away|as soon as|unlikely|not the|no need|is not|are not|don't|do not|"
    r"health care provider)|建議|應該|就醫|門診|不是|不需要|"
    r"\b(recomiendo|recomendable|debe|consulte|acuda|no es)\b", re.I)
# When to get help: the sentence a worried person must not miss.
_WARNING = re.compile(
    r"\b(call (?:your|a|the|911|112|999)|emergency|seek (?:medical |immediate )?(?:care|help|"
    r"attention|treatment)|see (?:a|your) (?:doctor|health care provider|dentist)|right away|"
    r"immediately|urgent(?:ly)?|get medical|contact (?:a|your) (?:doctor|health)|"
    r"recommend (?:visiting|seeing|consulting|that you see)|"
    r"visit(?:ing)? (?:a|your) (?:doctor|clinic|\w+ clinic|specialist|\w+ist))", re.I)
# Out of its context "This disorder…" or "It…" means little.
_ANAPHORA = re.compile(r"^(?:this|these|that|those|it|its|they|their|such|also|however|but|"
                       r"in addition|for example|other|another|both)\b", re.I)
_CALM = re.compile(
    r"\b(usually|often|common|commonly|most people|mostly|benign|harmless|not serious|"
    r"treatable|can be treated|can relieve|goes away|go away|improve|manage|helps?)\b", re.I)
# A doctor's reassuring conclusion: the sentence an anxious person came for.
_REASSURES = re.compile(
    r"\b(not the (?:primary|main|most likely|likely)|unlikely|no need to|nothing to worry|"
    r"not (?:dangerous|serious|harmful|a sign of)|benign|harmless)\b", re.I)
_DEFINES = re.compile(r"^[^,;:]{3,80}?\b(?:is|are) (?:a|an|the|one|not|usually|often)\b", re.I)
# A rare bad outcome is no first thing to show a worried person who did not ask about it.
_FEAR = re.compile(
    r"\b(death|deaths|die|dies|died|dying|fatal|lethal|deadly|life-threatening|survive|"
    r"survival|mortality|coma|terminal(?:ly)?)\b", re.I)
_ASKS_FEAR = re.compile(
    r"\b(die|death|dying|fatal|deadly|lethal|survive|survival|mortality|life expectancy|"
    r"prognosis|outlook|kill)|muerte|mortal|morir|tödlich|sterben|mortel|mourir|morte|morrer|"
    r"chết|死|致命|смерт|умр|ölüm|meninggal|موت|وفاة|मृत्यु|사망|죽", re.I)
# Upstream boilerplate that means nothing inside a quote.
_BOILERPLATE = re.compile(
    r"table below|the following list|Human Phenotype Ontology|\bHPO\b|Orphanet|Medical "
    r"Dictionary|click here|this (?:page|website|web site|section|fact sheet|topic)|"
    r"(?:more|additional) information (?:about|on|is)|\bvisit (?:the|our|www)|www\.|https?://|"
    r"\bmission of the\b|supports and conducts|conducts research|supports research|"
    r"GeneReviews|Medscape|eMedicine|PubMed|ClinicalTrials\.gov", re.I)
_GREETING = re.compile(
    r"^(?:hello|hi|dear|thank you|thanks|wishing you|best wishes|best regards|sincerely|"
    r"good luck|feel free)\b|^(?:你好|您好|謝謝|感謝|祝)", re.I)
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class _Sentence:
    source: int  # index among the quoted sources
    position: int  # order in its answer
    text: str
    score: float
    overlap: int  # words shared with the question


def _quotable(text: str) -> bool:
    return (MIN_SENTENCE_CHARS <= len(text) <= MAX_SENTENCE_CHARS
            and not text.endswith((":", "?", "？")) and not _GREETING.match(text)
            and not _BOILERPLATE.search(text) and any(c.isalpha() for c in text))


def _score(text: str, position: int, overlap: int, fear_ok: bool) -> float:
    score = float(overlap)
    score += 1.5 if _ADVICE.search(text) else 0.0
    score += 2.0 if _WARNING.search(text) else 0.0
    score -= 1.0 if _ANAPHORA.match(text) else 0.0
    score -= max(0, len(text) - 200) / 200  # a long list eats the screen
    score += 1.0 if _CALM.search(text) else 0.0
    score += 1.5 if _REASSURES.search(text) else 0.0
    score += 1.0 if position < 3 and _DEFINES.match(text) else 0.0
    score += 0.5 if position == 0 else 0.0
    score -= 0.0 if fear_ok or not _FEAR.search(text) else 3.0
    return score


def _candidates(answer: str, query: str, source: int) -> list[_Sentence]:
    """The answer's quotable sentences, scored; list items without a full stop only when it
    has no sentence at all."""
    wanted, fear_ok = set(tokenize(query)), bool(_ASKS_FEAR.search(query))
    weight = SECOND_SOURCE_WEIGHT if source else 1.0
    found = []
    for position, text in enumerate(sentences(answer)):
        if _quotable(text):
            overlap = len(wanted & set(tokenize(text)))
            score = _score(text, position, overlap, fear_ok) * weight
            found.append(_Sentence(source, position, text, score, overlap))
    closed = [s for s in found if s.text.endswith(TERMINAL)]
    return closed or found


def _words(text: str) -> set[str]:
    return set(_TOKEN.findall(text.lower()))


def _same(words: set[str], theirs: set[str], overlap: float = 0.7, inside: float = 0.9) -> bool:
    """Nearly the same words: most of all of them shared, or one nearly inside the other."""
    shared = len(words & theirs)
    return bool(shared) and (shared / len(words | theirs) >= overlap
                             or shared / min(len(words), len(theirs)) >= inside)


def _repeats(text: str, chosen: list[_Sentence]) -> bool:
    """The same or nearly the same sentence is already chosen (from this or another source)."""
    words = _words(text)
    return any(_same(words, _words(other.text)) for other in chosen)


def _pick(pools: list[list[_Sentence]], budget: int, overhead: list[int]) -> list[_Sentence]:
    """The best source's best sentences while they fit (its best one always), then what the
    next source adds."""
    chosen: list[_Sentence] = []
    used = 0
    ranked = [sorted(pool, key=lambda s: (-s.score, s.position)) for pool in pools]
    queue = ranked[0][:1] + [s for s in ranked[0][1:] if s.score >= FIRST_SOURCE_MIN_SCORE]
    queue += [s for pool in ranked[1:] for s in pool]
    for sentence in queue:
        if sentence in chosen or len(chosen) >= MAX_SENTENCES:
            continue
        mine = [c for c in chosen if c.source == sentence.source]
        # a second source adds only what is about the question itself
        if len(mine) >= PER_SOURCE or (sentence.source and not sentence.overlap):
            continue
        cost = len(sentence.text) + (3 if mine else overhead[sentence.source])
        if used + cost > budget or _repeats(sentence.text, chosen):
            continue
        chosen.append(sentence)
        used += cost
    return chosen


def _passage(picked: list[_Sentence]) -> str:
    """In the answer's own order, a gap marked "…", calm sentences before frightening ones."""
    picked = sorted(picked, key=lambda s: s.position)
    calm = [s for s in picked if not _FEAR.search(s.text)]
    if calm and _FEAR.search(picked[0].text):
        picked = calm + [s for s in picked if s not in calm]
    pieces: list[str] = []
    for i, sentence in enumerate(picked):
        if i and sentence.position != picked[i - 1].position + 1:
            pieces.append("…")
        pieces.append(sentence.text)
    return " ".join(pieces)


def _fallback(answer: str, limit: int) -> str:
    """Nothing is quotable on its own (one run-on list): its opening, cut at a clause."""
    text = " ".join(sentences(answer)) or answer.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for mark in ("; ", ", ", " "):
        if mark in cut:
            return cut.rsplit(mark, 1)[0] + " …"
    return cut + " …"


def best_passage(answer: str, query: str, limit: int = PASSAGE_CHARS) -> str:
    """The sentences of one answer that matter most for the query, whole, within `limit`."""
    pool = _candidates(answer, query, 0)
    if not pool:
        return _fallback(answer, limit) if answer.strip() else ""
    return _passage(_pick([pool], limit, [0]))


def _original(records: list[Record], language: str) -> bool:
    """A quote is in another language than the person's (unknown counts as English)."""
    return any((r.language or "en") != (language or "en") for r in records)


def extractive_body(sources: list[Source], records: dict[str, Record], query: str,
                    intro: str, labels: Labels | None = None, language: str = "en") -> str:
    """The intro, then quotes from the best one or two sources, each attributed and cited;
    about BODY_CHARS in all."""
    labels = labels or english()
    quoted: list[Source] = []
    for candidate in sources:  # the same text under two names is one source to quote
        words = _words(records[candidate.id].answer)
        if not sentences(records[candidate.id].answer):
            continue  # only boilerplate (a phenotype table, a list of links): nothing to quote
        if words and not any(_same(words, _words(records[q.id].answer), 0.9, 1.0)
                             for q in quoted):
            quoted.append(candidate)
    quoted = quoted[:MAX_SOURCES]
    if not quoted:
        return intro.strip()
    lines = {s.number: f"[{s.number}] {attribution(s, labels)}" for s in quoted}
    head = intro.strip()
    pools = [_candidates(records[s.id].answer, query, i) for i, s in enumerate(quoted)]
    overhead = [len(lines[s.number]) + 6 for s in quoted]  # "\n\n", "\n“", "”"
    budget = BODY_CHARS - len(head) - len(labels("original_language")) - 1
    picked = _pick(pools, budget, overhead) if pools[0] else []
    if not picked:
        top = quoted[0]
        passage = _fallback(records[top.id].answer, max(120, budget - overhead[0]))
        blocks = {0: passage}
    else:
        blocks = {i: _passage([p for p in picked if p.source == i])
                  for i in sorted({p.source for p in picked})}
    used = [records[quoted[i].id] for i in blocks]
    if _original(used, language):
        note = labels("original_language")
        head = f"{note}{'' if note[-1:] in '。！？' else ' '}{head}"
    parts = [head]
    for i, passage in blocks.items():
        source, record = quoted[i], records[quoted[i].id]
        if (record.extra or {}).get("truncated") and not passage.endswith("…"):
            passage += " …"  # the corpus itself cut this excerpt short
        parts.append(f"{lines[source.number]}\n“{passage}”")
    return "\n\n".join(parts)
