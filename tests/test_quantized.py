"""The int8 first pass of exact search: it may keep extra rows, never drop one of the top k."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bot.quantized import MIN_ROWS, Int8Rows
from bot.vector_index import ExactIndex


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def clustered(seed: int, rows: int = 6000, dim: int = 64) -> np.ndarray:
    """Rows crowded around 30 topics (many near-equal cosines), some stored twice over."""
    rng = np.random.default_rng(seed)
    topics = unit(rng.normal(size=(30, dim)))
    matrix = unit(topics[rng.integers(0, 30, rows)] + 0.12 * rng.normal(size=(rows, dim)))
    matrix[1000:1008] = matrix[7]  # one question worded eight ways that embed the same
    return matrix


def queries(matrix: np.ndarray, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    near = [unit(matrix[n] + 0.05 * rng.normal(size=matrix.shape[1])) for n in (3, 7, 2500)]
    return [matrix[7], matrix[4321], *near, unit(rng.normal(size=matrix.shape[1]))]


def full_product(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """MKL's product over every row (what exact search did before the first pass)."""
    return torch.mv(torch.from_numpy(matrix), torch.from_numpy(query)).numpy()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_row_of_the_exact_top_k_is_a_candidate(seed: int) -> None:
    matrix = clustered(seed)
    first = Int8Rows.of(matrix)
    assert first is not None
    for query in queries(matrix, seed):
        sims = full_product(matrix, query)
        for k in (1, 12, 100, 300):
            kth = np.sort(sims)[-k]
            rows = first.candidates(query, k)
            assert rows is not None and len(rows) < len(matrix) // 2
            assert set(np.flatnonzero(sims >= kth)) <= set(rows.tolist())


def test_exact_search_finds_what_the_full_product_finds() -> None:
    matrix = clustered(3)
    keys = [f"key{n}" for n in range(len(matrix))]
    index = ExactIndex(keys, matrix)
    for query in queries(matrix, 3):
        sims = np.einsum("ij,j->i", matrix, query)  # the same arithmetic, over every row
        exact = matrix.astype(np.float64) @ query.astype(np.float64)
        for k in (12, 300):
            found = index.search(query, k)
            expected = sorted(range(len(keys)), key=lambda n: (-sims[n], n))[:k]
            assert found == [(keys[n], float(sims[n])) for n in expected]
            assert np.allclose([s for _, s in found], exact[expected], rtol=0, atol=1e-6)


def test_rows_embedded_alike_come_out_in_stored_order() -> None:
    matrix = clustered(4)
    keys = [f"key{n}" for n in range(len(matrix))]
    found = [key for key, _ in ExactIndex(keys, matrix).search(matrix[7], 9)]
    assert found == ["key7"] + [f"key{n}" for n in range(1000, 1008)]


def test_a_small_matrix_is_searched_without_a_first_pass() -> None:
    matrix = clustered(5, rows=MIN_ROWS - 1)
    assert Int8Rows.of(matrix) is None
    keys = [f"key{n}" for n in range(len(matrix))]
    assert ExactIndex(keys, matrix).search(matrix[42], 1)[0][0] == "key42"
