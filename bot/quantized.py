"""A first pass over an int8 copy of a vector matrix: the rows that can be among a query's k
most similar, found with a bound on the rounding, so that the exact product over those rows alone
gives the same top k as over every row.

Over MedQuAD's 44,619 question vectors the int8 product reads 17 MB instead of 68 MB and keeps
about 1,000 rows: 1.7 ms for the pass, 2.5 ms for the whole search in a serving process, where
the float product over every row took 4.5-8 ms (bench/experiments.md §12).
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

MIN_ROWS = 4096  # below this the float product over every row is as fast
_CHUNK = 4096  # rows quantised at a time (a float copy of the whole matrix is not needed)


def _scale(absmax: np.ndarray) -> np.ndarray:
    """The step of each row's codes: its largest magnitude maps to 127 (a zero row gets 1)."""
    return np.where(absmax > 0, absmax / 127, 1).astype(np.float32)


class Int8Rows:
    """Each row as int8 codes times its own scale; candidates() is the first pass."""

    def __init__(self, matrix: np.ndarray) -> None:
        import torch

        rows, self.dim = matrix.shape
        codes = np.empty((rows, self.dim), dtype=np.int8)
        scales = np.empty(rows, dtype=np.float32)
        self._max_norm = 0.0
        for start in range(0, rows, _CHUNK):
            part = np.asarray(matrix[start : start + _CHUNK], dtype=np.float32)
            step = scales[start : start + len(part)] = _scale(np.abs(part).max(axis=1))
            codes[start : start + len(part)] = np.rint(part / step[:, None])
            self._max_norm = max(self._max_norm, float(np.linalg.norm(part, axis=1).max()))
        self._codes = torch.from_numpy(codes).t()  # (dim, rows) read column-major: the fast way
        self._scales = scales
        self._l1 = np.abs(codes).sum(axis=1, dtype=np.int64).astype(np.float32)
        torch._int_mm(torch.zeros((1, self.dim), dtype=torch.int8), self._codes[:, :1])  # probe

    @classmethod
    def of(cls, matrix: np.ndarray) -> Int8Rows | None:
        """The first pass for a matrix big enough to need one (None when torch cannot do it)."""
        if matrix.shape[0] < MIN_ROWS:
            return None
        try:
            return cls(matrix)
        except (AttributeError, RuntimeError) as error:  # a torch without int8 products
            log.warning("no int8 first pass for exact search (%s); using the float product",
                        error)
            return None

    def candidates(self, query: np.ndarray, k: int) -> np.ndarray | None:
        """Ascending row numbers that hold every row of the k best (None: as many as all)."""
        import torch

        step = float(_scale(np.abs(query).max(keepdims=True))[0])
        codes = np.rint(query / step).astype(np.int8)
        products = torch._int_mm(torch.from_numpy(codes)[None], self._codes)[0].numpy()
        # |exact - approx| <= s*t/2 * (|codes_row|_1 + |codes_query|_1 + dim/2) for row step s
        # and query step t; plus the float product's own rounding (2 * dim * 2^-23 * |q| |w|).
        # numpy from here: torch would split these small steps over threads (slower, measured).
        spread = float(np.abs(codes).sum(dtype=np.int64)) + self.dim / 2
        slack = 2 * self.dim * 2.0**-23 * float(np.linalg.norm(query)) * self._max_norm + 1e-6
        approx = products.astype(np.float32) * (self._scales * step)
        bound = self._scales * (step / 2) * (self._l1 + spread) + slack
        lower = approx - bound
        floor = np.partition(lower, len(lower) - k)[len(lower) - k]  # the k-th largest
        rows = np.flatnonzero(approx + bound >= floor)
        return None if len(rows) * 2 > len(approx) else rows
