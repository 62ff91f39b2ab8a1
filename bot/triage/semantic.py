"""The semantic layer of the triage: a linear model over sentence vectors, scored on the whole
message, on each sentence and on each pair of neighbouring sentences."""

from __future__ import annotations

import functools
import json
import math
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.triage.clauses import sentences
from bot.triage.encoder import E5Encoder, SentenceEncoder
from bot.triage.verdict import Flag

MODEL_FILE = Path(__file__).with_name("model.json")
LEVELS = ("routine", "urgent", "emergency")
MAX_SENTENCES = 48  # about 4,000 characters: the rules still read every word of longer texts


class ModelError(Exception):
    """The model file is missing, unreadable or made for another encoder."""


def unit_vectors(vectors: np.ndarray, texts: list[str]) -> tuple[np.ndarray, list[str]]:
    """The scored units and their texts: the whole message (its vector the length-weighted mean
    of its sentences'), then each sentence and each pair of neighbours when there are several.
    Training uses the same."""
    weights = np.array([len(t) for t in texts], dtype=np.float32)[:, None]
    whole = (vectors * weights).sum(axis=0, keepdims=True)
    units, names = [whole], [" ".join(texts)]
    if len(texts) > 1:
        units.append(vectors)
        names += texts
    if len(texts) > 2:
        units.append(vectors[:-1] + vectors[1:])
        names += [f"{a} {b}" for a, b in zip(texts, texts[1:], strict=False)]
    stacked = np.concatenate(units)
    return stacked / np.maximum(np.linalg.norm(stacked, axis=1, keepdims=True), 1e-9), names


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def char_text(text: str) -> str:
    """What the character model reads: NFKC, lower case, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside space-padded words (scikit-learn's char_wb analyzer)."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        for n in range(low, high + 1):
            grams += [padded[i:i + n] for i in range(max(1, len(padded) - n + 1))]
            if len(padded) <= n:  # a short word counts once
                break
    return grams


@dataclass(frozen=True)
class CharModel:
    """TF-IDF over character n-grams and a linear layer: the surface view beside the encoder's
    meaning (the two disagree on different messages, so their mean is steadier than either)."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    weights: np.ndarray  # (3, vocabulary)
    bias: np.ndarray
    ngram_range: tuple[int, int]

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """(n, 3) probabilities for raw texts."""
        logits = np.tile(self.bias, (len(texts), 1))
        for row, text in enumerate(texts):
            counts = Counter(g for g in char_ngrams(char_text(text), *self.ngram_range)
                             if g in self.vocabulary)
            if not counts:
                continue
            index = np.fromiter((self.vocabulary[g] for g in counts), dtype=np.int64)
            tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64)
            values = tf * self.idf[index]
            values /= np.linalg.norm(values)
            logits[row] += self.weights[:, index] @ values
        return _softmax(logits)


@dataclass(frozen=True)
class TriageModel:
    """The trained weights (from scripts/train_triage.py) and the thresholds chosen for recall."""

    encoder: str
    level_w: np.ndarray  # (3, dim): routine, urgent, emergency
    level_b: np.ndarray
    categories: tuple[str, ...]
    category_levels: tuple[str, ...]
    category_w: np.ndarray  # (n categories, dim)
    category_b: np.ndarray
    thresholds: dict[str, float]
    chars: CharModel | None = None

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> TriageModel:
        """Read the model file; a problem raises ModelError naming the file and the field."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ModelError(f"{path}: cannot read the triage model: {error}") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: dict, path: str = "model") -> TriageModel:
        """The model from its JSON object; a problem raises ModelError naming the field."""
        try:
            model = cls(data["encoder"], np.array(data["level_weights"], dtype=np.float32),
                        np.array(data["level_bias"], dtype=np.float32),
                        tuple(data["categories"]), tuple(data["category_levels"]),
                        np.array(data["category_weights"], dtype=np.float32),
                        np.array(data["category_bias"], dtype=np.float32),
                        {k: float(v) for k, v in data["thresholds"].items()},
                        _char_model(data["chars"]) if data.get("chars") else None)
        except (KeyError, TypeError, ValueError) as error:
            raise ModelError(f"{path}: bad triage model field: {error}") from None
        for key in ("emergency_whole", "urgent_whole", "emergency_sentence", "urgent_sentence"):
            if key not in model.thresholds:
                raise ModelError(f"{path}: thresholds lack {key!r}")
        if model.level_w.shape[0] != 3 or model.category_w.shape[0] != len(model.categories):
            raise ModelError(f"{path}: weight shapes do not match the levels and categories")
        return model

    def level_probabilities(self, units: np.ndarray, texts: list[str]) -> np.ndarray:
        """(n, 3) probabilities of routine, urgent, emergency for each unit (vector and text):
        the mean of the encoder's and the character model's."""
        meaning = _softmax(units @ self.level_w.T + self.level_b)
        if self.chars is None:
            return meaning
        return (meaning + self.chars.probabilities(texts)) / 2

    def category(self, unit: np.ndarray, level: str) -> tuple[str, float]:
        """The most likely category of `level` for one unit vector, and its probability."""
        probs = _softmax((unit @ self.category_w.T + self.category_b)[None, :])[0]
        allowed = [i for i, lv in enumerate(self.category_levels) if lv == level]
        best = max(allowed, key=lambda i: probs[i])
        return self.categories[best], float(probs[best])


class SemanticTriage:
    """Flags what the model sees in a message; pure apart from the encoder call."""

    def __init__(self, model: TriageModel, encoder: SentenceEncoder) -> None:
        if model.encoder != encoder.name:
            raise ModelError(f"the triage model was trained on {model.encoder}, "
                             f"not on {encoder.name}: run scripts/train_triage.py")
        self.model, self.encoder = model, encoder

    def flags(self, text: str) -> list[Flag]:
        """The model's red flags: at most one per level, from the unit that scored highest."""
        parts = sentences(text, MAX_SENTENCES)
        if not parts:
            return []
        units, names = unit_vectors(self.encoder.encode(parts), parts)
        probs = self.model.level_probabilities(units, names)
        t = self.model.thresholds
        emergency, serious = probs[:, 2], probs[:, 1] + probs[:, 2]
        # Unit 0 is the whole message; single sentences and pairs need more evidence.
        em_bar = np.where(np.arange(len(units)) == 0, t["emergency_whole"], t["emergency_sentence"])
        ur_bar = np.where(np.arange(len(units)) == 0, t["urgent_whole"], t["urgent_sentence"])
        out: list[Flag] = []
        for level, score, bar in (("emergency", emergency, em_bar), ("urgent", serious, ur_bar)):
            margin = score - bar
            best = int(np.argmax(margin))
            if margin[best] >= 0:
                category, _ = self.model.category(units[best], level)
                # The whole message is quoted by its most serious sentence.
                shown = best
                if best == 0 and len(parts) > 1:
                    shown = 1 + int(np.argmax(score[1:1 + len(parts)]))
                out.append(Flag("model", f"model.{category}", category, level,  # type: ignore[arg-type]
                                _shorten(names[shown]), float(score[best])))
                break  # an emergency flag makes the urgent one moot
        return out


def _char_model(data: dict) -> CharModel:
    """The character model's part of the model file."""
    return CharModel({g: i for i, g in enumerate(data["ngrams"])},
                     np.array(data["idf"], dtype=np.float64),
                     np.array(data["weights"], dtype=np.float64),
                     np.array(data["bias"], dtype=np.float64),
                     (int(data["ngram_range"][0]), int(data["ngram_range"][1])))


def _shorten(text: str, limit: int = 120) -> str:
    """The words shown as the reason: the sentence itself, cut at a word near `limit`."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut + "…"


@functools.cache
def load_semantic() -> SemanticTriage:
    """The shipped model with the bundled encoder, loaded once."""
    return SemanticTriage(TriageModel.load(), E5Encoder())
