"""The bundled model, run with transformers directly, gives sentence-transformers' vectors."""

from __future__ import annotations

import numpy as np
import pytest

from bot.embeddings import LocalEmbedder

# First six dimensions of all-MiniLM-L6-v2 through sentence-transformers 6.2 (mean pooling,
# normalised), recorded once; the index's stored vectors were made that way.
REFERENCE = {
    "my muscles twitch and I read it could be ALS":
        [-0.016453, -0.120108, 0.005881, 0.035919, -0.023348, -0.028472],
    "What is (are) Dementia ?": [0.031039, 0.072426, -0.085313, 0.044914, -0.058636, 0.071436],
    "": [-0.118838, 0.048299, -0.002548, -0.011011, 0.051951, 0.010292],
}


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


def test_the_local_model_reproduces_sentence_transformers(embedder: LocalEmbedder) -> None:
    vectors = embedder.embed(list(REFERENCE))
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for vector, expected in zip(vectors, REFERENCE.values(), strict=True):
        assert np.allclose(vector[:6], expected, atol=2e-5)


def test_batches_and_order_do_not_change_a_vector(embedder: LocalEmbedder) -> None:
    long = "twitching " * 400  # cut at the model's 256 tokens
    alone = embedder.embed(["What is (are) Dementia ?"])[0]
    mixed = embedder.embed([long, "What is (are) Dementia ?", "x"] * 15)
    assert np.allclose(mixed[1], alone, atol=1e-5) and np.allclose(mixed[-2], alone, atol=1e-5)
    assert np.allclose(mixed[0], embedder.embed([long + " more words"])[0], atol=1e-5)
