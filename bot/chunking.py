"""What is embedded for a record: its question, and its answer in window-sized chunks."""

from __future__ import annotations

import hashlib
import re

from bot.records import Record

# all-MiniLM-L6-v2 reads 256 word pieces; ~700 characters of English stay well inside that.
CHUNK_CHARS = 700
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


def question_text(record: Record) -> str:
    """The question as embedded: the title adds the topic when the question omits it."""
    question = record.question.strip()
    title = record.title.strip()
    if title and title.lower() not in question.lower():
        return f"{title}. {question}" if question else title
    return question or title


def split_chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """Split text at sentence ends into pieces of at most about `size` characters."""
    pieces = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        while len(piece) > size:  # one very long sentence: cut at a space
            cut = piece.rfind(" ", 0, size)
            cut = cut if cut > size // 2 else size
            if current:
                chunks.append(current)
                current = ""
            chunks.append(piece[:cut].strip())
            piece = piece[cut:].strip()
        if current and len(current) + 1 + len(piece) > size:
            chunks.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip()
    if current:
        chunks.append(current)
    return chunks


def record_chunks(record: Record, max_answer_chunks: int) -> list[tuple[str, str]]:
    """(part, text) pairs to embed: 'q' the question, 't' the title (the focus, shared by the
    records of one document), 'a0', 'a1', ... the answer."""
    parts = [("q", question_text(record))]
    if record.title.strip():
        parts.append(("t", record.title.strip()))
    if record.answer.strip() and max_answer_chunks > 0:
        for n, chunk in enumerate(split_chunks(record.answer)[:max_answer_chunks]):
            parts.append((f"a{n}", chunk))
    return [(part, text) for part, text in parts if text]


def text_key(model: str, text: str) -> str:
    """The id of a text's vector: the same text under the same model is embedded once."""
    return hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()[:32]
