"""Parse an "ask a doctor" Q&A page (plain text) into de-identified records."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.corpus.limits import SourceFile, as_source, nul_note
from bot.corpus.text import (
    DecodeError,
    Scrubber,
    clean_newlines,
    decode_without_nul,
    detect_language,
    name_tokens,
    normalise_date,
    normalise_whitespace,
    strip_salutation,
)
from bot.records import ParsedFile, Record, Rejection

NOT_A_PAGE = "not a Q&A page (no 'Dr. … reply' line)"
MAX_PAGE_LINES = 50_000  # a real page has about a hundred
_DOCTOR = r"(?:醫師|医师|醫生|医生)"
_HEADER_EN = re.compile(r"^Dr\.?\s+(?P<name>\S.{0,50}?)\s+repl(?:y|ied)\b(?P<dept>.*)$", re.I)
_HEADER_ZH = re.compile(
    rf"^(?P<name>[\u4e00-\u9fff·]{{2,4}}|[A-Za-z][\w .'-]{{1,40}}?)\s*{_DOCTOR}\s*(?:回覆|回复)"
    r"(?P<dept>[^，。,！？!?]*)$"
)
# Markers are searched for and the text around them cut with str methods: patterns that
# start or end with \s* take quadratic time (or worse) on a line with a long run of spaces.
_ASK_MARK = re.compile(r"(?:Ask\s+Date|提問日期|提问日期)\s*[:：]", re.I)
_REPLY_DATE = re.compile(r"^(?:Reply\s+Date|回覆日期|回复日期)\s*[:：]\s*(?P<date>.*)$", re.I)
_SIGNATURE = re.compile(
    rf"^(?:(?:Dr\.?|{_DOCTOR})\s*)?(?P<name>[^,，]{{1,40}})[,，]\s*(?P<hosp>.{{2,80}})$"
)
_SIGN_WORD = re.compile(rf"^(?:Dr\.?|{_DOCTOR})$", re.I)
_READ_MORE = re.compile(r"\[(?:Read\s+More|閱讀更多|阅读更多|看更多)\]", re.I)
_SECTION_TITLES = {
    "article": "more info|更多資訊|更多信息",
    "similar": "similar q&a|相似問答|相似问答",
    "related": "related faq|相關問答|相关问答",
}
_SECTIONS = {t: kind for kind, titles in _SECTION_TITLES.items() for t in titles.split("|")}
_LINK_WORDS = frozenset({"and", "of", "&", "the", "for", "y", "de"})
_SEX = re.compile(r"\b(female|male)\b|([女男])", re.I)
_AGE = re.compile(r"\d+\s*(?:[~～\-–]\s*\d+|\+)?")


@dataclass
class _Draft:
    """A record before de-identification."""

    suffix: str
    kind: str
    title: str
    question: str
    answer: str
    doctor: str = ""
    department: str = ""
    hospital: str = ""
    asked: str = ""
    replied: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def parse_page_bytes(data: bytes, rel: str) -> SourceFile:
    """Decode and parse one page file; NUL bytes are removed, with a warning naming the first."""
    try:
        text, nuls, first = decode_without_nul(data)
    except DecodeError as exc:
        return SourceFile(rel, rejections=[Rejection(rel, str(exc))], fatal=True)
    parsed = as_source(parse_page(text, rel))
    if nuls:
        parsed.warnings.append(Rejection(rel, nul_note(nuls), element=f"offset {first}"))
    return parsed


def parse_page(text: str, rel: str) -> ParsedFile:
    """Parse page text; rel is the file's relative path (used for ids)."""
    text = clean_newlines(text)
    if text.count("\n") >= MAX_PAGE_LINES:
        reason = f"more than {MAX_PAGE_LINES:,} lines (not a Q&A page)"
        return ParsedFile(rel, rejections=[Rejection(rel, reason)], fatal=True)
    lines = [line.strip() for line in text.split("\n")]
    sections = _split_sections(lines)
    main, similar = sections["main"], sections["similar"]
    if not any(_header(ln) or _asker(ln) for ln in main + similar):
        return ParsedFile(rel, rejections=[Rejection(rel, NOT_A_PAGE)], fatal=True)
    rejections: list[Rejection] = []
    drafts, title, names = _main_drafts(main, rel, rejections)
    article = normalise_whitespace("\n".join(sections["article"]))
    if article:
        drafts.append(_Draft("article", "article", f"More Info: {title}".strip(), title, article))
    drafts += _excerpts(similar, rel, rejections)
    return ParsedFile(rel, _finish(drafts, rel, names), rejections)


def _split_sections(lines: list[str]) -> dict[str, list[str]]:
    """Lines of the main part and of each titled section."""
    out: dict[str, list[str]] = {"main": [], "article": [], "similar": [], "related": []}
    current = "main"
    for line in lines:
        kind = _SECTIONS.get(line.lower().rstrip(":：")) if len(line) < 20 else None
        if kind:
            current = kind
        else:
            out[current].append(line)
    return out


def _asker(line: str) -> tuple[str, str] | None:
    """(who, date) of an asker line ('<name>, <age> <sex>. Ask Date: <date>')."""
    m = _ASK_MARK.search(line)
    return (line[: m.start()].rstrip(), line[m.end() :].lstrip()) if m else None


def _read_more(line: str) -> tuple[int, str] | None:
    """(where a '...[Read More] <title>' tail starts, the title) when the line has one."""
    m = _READ_MORE.search(line)
    if not m:
        return None
    head = line[: m.start()].rstrip()
    head = head.removesuffix("...") if head.endswith("...") else head.removesuffix("…")
    return len(head.rstrip()), line[m.end() :].strip()


def _cut_ellipsis(text: str) -> str:
    """Text without a trailing '...' or '…' and the spaces before it."""
    for mark in ("...", "…"):
        if text.endswith(mark):
            return text[: -len(mark)].rstrip()
    return text


def _header(line: str) -> tuple[str, str] | None:
    """(doctor, department) when the line is a 'Dr. X reply Dept' header."""
    m = _HEADER_EN.match(line)
    if m and any(w[0].islower() and w not in _LINK_WORDS for w in m["dept"].split()):
        return None  # "Dr. X replied to my email": prose, not a header
    m = m or _HEADER_ZH.match(line)
    if not m:
        return None
    name, dept = m["name"].strip(), m["dept"].strip(" :：")
    if len(name.split()) > 4 or len(dept) > 60 or len(dept.split()) > 6 or dept.endswith("."):
        return None
    return name, dept


def _main_drafts(
    main: list[str], rel: str, rejections: list[Rejection]
) -> tuple[list[_Draft], str, set[str]]:
    """The page's replies (or its bare question), its title and the asker's name tokens."""
    asker = next((i for i, ln in enumerate(main) if _asker(ln)), None)
    heads = [i for i, ln in enumerate(main) if _header(ln) and (asker is None or i > asker)]
    end = asker if asker is not None else (heads[0] if heads else len(main))
    text = [ln for ln in main[:end] if ln]
    title = text[0] if text else ""
    question = normalise_whitespace("\n".join(text[1:])) or title
    asked, names, extra = "", set(), {}
    if asker is not None:
        who, date = _asker(main[asker])
        asked = normalise_date(date)
        names, extra = _asker_info(who)
    drafts = []
    for k, h in enumerate(heads, 1):
        stop = heads[k] if k < len(heads) else len(main)
        doctor, dept = _header(main[h])
        answer, hospital, replied = _reply(main[h + 1 : stop], doctor)
        if not answer:
            rejections.append(Rejection(rel, "reply has no text", element=f"reply #{k}"))
            continue
        signed = (doctor, dept, hospital, asked, replied, dict(extra))
        drafts.append(_Draft(f"reply{k}", "doctor_reply", title, question, answer, *signed))
    if not heads and question:
        drafts.append(
            _Draft("question", "question_only", title, question, "", asked=asked, extra=dict(extra))
        )
    return drafts, title, names


def _asker_info(who: str) -> tuple[set[str], dict[str, str]]:
    """Name tokens and the non-identifying parts (age band, sex) of the asker line."""
    who = who.strip(" .。")
    parts = re.split(r"[,，]", who, maxsplit=1)
    if len(parts) == 2:
        name, info = parts
    elif _SEX.search(who) or re.search(r"\d", who):
        name, info = "", who
    else:
        name, info = who, ""
    extra: dict[str, str] = {}
    if sex := _SEX.search(info):
        extra["sex"] = "female" if (sex.group(0).lower() in ("female", "女")) else "male"
    if age := _AGE.search(info):
        extra["age_band"] = re.sub(r"\s+", "", age.group(0))
    return name_tokens(name), extra


def _reply(block: list[str], doctor: str) -> tuple[str, str, str]:
    """(reply text without signature, hospital, reply date) of one reply block."""
    replied = ""
    for i, line in enumerate(block):
        if m := _REPLY_DATE.match(line):
            replied, block = normalise_date(m["date"]), block[:i]
            break
    body = list(block)
    hospital = ""
    if (last := _pop_blank(body)) and (m := _SIGNATURE.match(last)):
        before = [ln for ln in body[:-1] if ln][-1:]
        if _same_name(m["name"], doctor) or (before and _SIGN_WORD.match(before[0])):
            hospital = m["hosp"].strip()
            body.pop()
    elif last and _same_name(last.removeprefix("Dr.").strip(), doctor):
        body.pop()
    if (last := _pop_blank(body)) and _SIGN_WORD.match(last):
        body.pop()
    return normalise_whitespace("\n".join(body)), hospital, replied


def _pop_blank(lines: list[str]) -> str:
    """Drop trailing blank lines; return the last line left ('' if none)."""
    while lines and not lines[-1]:
        lines.pop()
    return lines[-1] if lines else ""


def _same_name(a: str, b: str) -> bool:
    """Names equal ignoring case, spaces and a 'Dr.' prefix."""

    def key(s: str) -> str:
        return re.sub(r"\s+|^dr\.?", "", s.lower())

    return bool(a) and key(a) == key(b)


def _excerpts(seg: list[str], rel: str, rejections: list[Rejection]) -> list[_Draft]:
    """One excerpt per 'Similar Q&A' item: title, question snippet, header, reply snippet."""
    heads = [i for i, ln in enumerate(seg) if _header(ln)]
    drafts, start = [], 0
    for k, h in enumerate(heads, 1):
        stop = heads[k] if k < len(heads) else len(seg)
        tail = next((j for j in range(h + 1, stop) if _READ_MORE.search(seg[j])), None)
        if tail is None and k < len(heads):  # no [Read More]: the next item's title + question
            nxt = [j for j in range(h + 1, stop) if seg[j]]
            tail = nxt[-3] if len(nxt) >= 3 else h
        end = stop if tail is None else tail + 1
        pre = [ln for ln in seg[start:h] if ln]
        body = [ln for ln in seg[h + 1 : end] if ln]
        start = end
        read_more = _read_more(body[-1]) if body else None
        if read_more:
            body[-1] = body[-1][: read_more[0]]
        answer = normalise_whitespace("\n".join(body))
        title = pre[0] if pre else (read_more[1] if read_more else "")
        question = normalise_whitespace("\n".join(pre[1:]))
        if not answer or not (question or title):
            what = "reply" if not answer else "question"
            rejections.append(Rejection(rel, f"no {what} text", element=f"Similar Q&A #{k}"))
            continue
        cut = bool(read_more) or _cut_ellipsis(question) != question
        doctor, dept = _header(seg[h])
        extra = {"truncated": "true"} if cut else {}
        snippets = (_cut_ellipsis(question) or title, _cut_ellipsis(answer))
        drafts.append(_Draft(f"excerpt{k}", "excerpt", title, *snippets, doctor, dept, extra=extra))
    return drafts


def _finish(drafts: list[_Draft], rel: str, names: set[str]) -> list[Record]:
    """Strip named salutations, scrub every patient name, build the records."""
    for d in drafts:
        for attr in ("question", "answer"):
            cleaned, found = strip_salutation(getattr(d, attr), names)
            setattr(d, attr, cleaned)
            names |= found
    scrub = Scrubber(names)
    base = rel[:-4] if rel.lower().endswith(".txt") else rel
    records = []
    for d in drafts:
        fields = vars(d) | {key: scrub(getattr(d, key)) for key in ("title", "question", "answer")}
        fields["extra"] = {k: scrub(v) for k, v in d.extra.items()}
        fields["language"] = detect_language(f"{fields['question']}\n{fields['answer']}")
        suffix = fields.pop("suffix")
        records.append(Record(id=f"page:{base}#{suffix}", source_file=rel, **fields))
    return records
