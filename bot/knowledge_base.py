"""The serving side of the index: the active version, followed as reloads switch it."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from bot.chroma_store import open_client, vector_collection
from bot.embeddings import Embedder, make_embedder
from bot.index_store import IndexRoot, IndexUnusable, IndexVersion
from bot.settings import Settings
from bot.vector_index import VectorIndex, open_index

log = logging.getLogger(__name__)


class KnowledgeBase:
    """Hands out the active IndexVersion; a query keeps the version it started with."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, client=None) -> None:  # noqa: ANN001
        self.settings = settings
        self.root = IndexRoot(settings.data_dir)
        self._embedder = embedder
        self._client = client
        self._collections: dict[tuple[str, str], object] = {}
        self._indexes: dict[tuple[str, str], VectorIndex] = {}
        self._version: IndexVersion | None = None
        self._stamp: tuple | None = None
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        """The query embedder (the same model the index was built with)."""
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    def _pointer_stamp(self) -> tuple | None:
        try:
            info = self.root.active_file.stat()
        except FileNotFoundError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def current(self) -> IndexVersion | None:
        """The active version (None when nothing was ingested); checks for a switch each call."""
        stamp = self._pointer_stamp()
        if stamp == self._stamp:
            return self._version
        with self._lock:
            if stamp != self._stamp:
                pointer = self.root.pointer()
                version = self.root.open(pointer["version"]) if pointer.get("version") else None
                if version is not None:
                    self._check_model(version)
                    version.load_keyword_indexes()  # before it serves, not on a query
                    # Queries still running on the outgoing version keep its indexes.
                    serving = {version.name, self._version.name if self._version else ""}
                    self._indexes = {key: index for key, index in self._indexes.items()
                                     if key[0] in serving}
                    for role in ("q", "t"):
                        self.vector_index(version, role)
                    # The re-rank's and the lists' maps, not on a first question.
                    _ = version.title_vector_keys, version.search_maps
                old, self._version, self._stamp = self._version, version, stamp
                if old is not None and version is not None and old.name != version.name:
                    log.info("knowledge base switched from %s to %s", old.name, version.name)
        return self._version

    def _check_model(self, version: IndexVersion) -> None:
        wanted = self.settings.embedding_model_name
        if version.manifest.model != wanted:
            raise IndexUnusable(
                f"the index {version.name} was built with the embedding model "
                f"{version.manifest.model!r} ({version.manifest.dimension} dimensions) but "
                f"{wanted!r} is configured: run `symptom-bot ingest` to re-embed the knowledge base"
            )

    def collection(self, version: IndexVersion, role: str = "q"):  # noqa: ANN201
        """The Chroma collection holding one role ('q', 't', 'a') of a version's vectors."""
        slot = (version.manifest.collection, role)
        if slot not in self._collections:
            self._client = self._client or open_client(self.settings)
            self._collections[slot] = vector_collection(
                self._client, version.manifest.model, version.manifest.dimension, role
            )
        return self._collections[slot]

    def vector_index(self, version: IndexVersion, role: str = "q") -> VectorIndex:
        """Nearest-vector search over one role of a version (see bot/vector_index.py)."""
        slot = (version.name, role)
        if slot not in self._indexes:
            keys = version.vector_keys.get(role, [])
            self._indexes[slot] = open_index(self.collection(version, role), keys,
                                             self.settings.exact_search_max_vectors,
                                             folder=version.folder, role=role)
        return self._indexes[slot]


def status(settings: Settings) -> dict:
    """What `symptom-bot status` reports."""
    root = IndexRoot(settings.data_dir)
    pointer = root.pointer()
    store = (
        f"chroma server {settings.chroma_host}:{settings.chroma_port}"
        if settings.chroma_host
        else str(Path(settings.data_dir) / "chroma")
    )
    base = {"version": None, "previous": None, "records": 0, "kinds": {}, "files": {},
            "embedding_model": None, "dimension": None, "built": None, "chunks": 0,
            "index_path": str(root.path), "vector_store": store}
    if not pointer.get("version"):
        return base
    version = root.open(pointer["version"])
    m = version.manifest
    base.update(version=m.version, previous=pointer.get("previous"), records=m.records,
                kinds=m.kinds, files=m.by_file, embedding_model=m.model, dimension=m.dimension,
                built=m.created, chunks=m.chunks, collection=m.collection,
                available_versions=root.versions())
    version.close()
    return base


def rollback(settings: Settings) -> tuple[str, str]:
    """Make the previous version active again; returns (now active, now previous)."""
    root = IndexRoot(settings.data_dir)
    pointer = root.pointer()
    previous = pointer.get("previous")
    if not previous or previous not in root.versions():
        raise IndexUnusable("there is no previous version to roll back to")
    root.open(previous).close()
    root.switch(previous, pointer["version"])
    return previous, pointer["version"]
