"""The one place that talks to Chroma: embedded under DATA_DIR, or a `chroma run` server."""

from __future__ import annotations

import logging
import os
import re

from bot.settings import Settings

log = logging.getLogger(__name__)


class StoreUnavailable(Exception):
    """Chroma could not be reached or opened."""


def open_client(settings: Settings):  # noqa: ANN201 - chromadb's ClientAPI
    """A Chroma client with telemetry off; HttpClient when CHROMA_HOST is set."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
            client.heartbeat()
            return client
        path = settings.data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as error:  # chromadb raises many types; all mean "not usable"
        where = (
            f"{settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else str(settings.data_dir / "chroma")
        )
        raise StoreUnavailable(f"Chroma at {where} is not usable: {error}") from error


ROLES = {"q": "questions", "t": "titles", "a": "answers"}


def collection_prefix(model: str) -> str:
    """The prefix of one embedding model's vector collections."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", model).strip("-").lower()[:40] or "model"
    return f"vectors-{slug}"


def role_of(part: str) -> str:
    """'q', 't' or 'a' for a chunk part such as 'q', 't', 'a3'."""
    return part[0]


def vector_collection(client, model: str, dimension: int, role: str):  # noqa: ANN001, ANN201
    """Get or create one role's content-addressed vector collection for a model (cosine)."""
    return client.get_or_create_collection(
        f"{collection_prefix(model)}-{ROLES[role]}",
        embedding_function=None,  # never let Chroma's default (downloading) model run
        configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
        metadata={"model": model, "dimension": dimension},
    )
