"""The 1:N gallery: every enrolled template in one float32 matrix, searched with one matrix-vector product.

Templates are unit vectors, so ``||a - b||^2 = 2 - 2 a.b``: the nearest template is the largest dot product, and
a single BLAS call over the whole matrix scores every template at once (100,000 templates in a few ms).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from hub.exceptions import InvalidInputError
from hub.faces.models import TEMPLATE_DIMENSIONS, FloatArray, SearchResult

_INITIAL_CAPACITY = 64


def normalise(templates: npt.ArrayLike) -> FloatArray:
    """Rows scaled to unit length (float32); rejects wrong shapes, non-finite values and zero vectors."""
    array = np.asarray(templates, dtype=np.float32)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[1] != TEMPLATE_DIMENSIONS:
        raise InvalidInputError(f"templates must have {TEMPLATE_DIMENSIONS} values each, got shape {array.shape}")
    if not bool(np.isfinite(array).all()):
        raise InvalidInputError("templates contain NaN or infinite values")
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    if bool((norms == 0).any()):
        raise InvalidInputError("a template is all zeros")
    return np.ascontiguousarray(array / norms, dtype=np.float32)


def _distance(similarity: float) -> float:
    # Clamp: rounding can push a.b a hair above 1 for identical vectors.
    return float(np.sqrt(max(0.0, 2.0 - 2.0 * similarity)))


class Matcher:
    """Enrolled templates of many people; thread-safe (searches and edits may come from executor threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matrix: FloatArray = np.zeros((_INITIAL_CAPACITY, TEMPLATE_DIMENSIONS), dtype=np.float32)
        self._owners: npt.NDArray[np.int64] = np.zeros(_INITIAL_CAPACITY, dtype=np.int64)
        self._count = 0
        self._codes: dict[str, int] = {}
        self._people: list[str | None] = []  # code -> person id; None once removed (codes are never reused)

    @classmethod
    def from_arrays(cls, person_ids: Sequence[str], templates: npt.ArrayLike) -> Matcher:
        """A matcher from row-aligned arrays, e.g. the registry's decrypted ``FaceGallery``."""
        matcher = cls()
        if len(person_ids):
            matcher.add_rows(person_ids, templates)
        return matcher

    def __len__(self) -> int:
        """How many templates are enrolled."""
        return self._count

    @property
    def person_count(self) -> int:
        return len(self._codes)

    @property
    def nbytes(self) -> int:
        """Memory held by the template matrix and owner index."""
        return int(self._matrix.nbytes + self._owners.nbytes)

    def __contains__(self, person_id: object) -> bool:
        return person_id in self._codes

    def people(self) -> list[str]:
        return sorted(self._codes)

    def add(self, person_id: str, templates: npt.ArrayLike) -> None:
        """Add one or more templates (shape (128,) or (k, 128)) to a person, enrolling them if new."""
        if not isinstance(person_id, str) or not person_id:
            raise InvalidInputError("person_id must be a non-empty string")
        rows = normalise(templates)
        with self._lock:
            self._add_locked(person_id, rows)

    def _add_locked(self, person_id: str, rows: FloatArray) -> None:
        code = self._codes.get(person_id)
        if code is None:
            code = len(self._people)
            self._codes[person_id] = code
            self._people.append(person_id)
        self._reserve(self._count + len(rows))
        self._matrix[self._count : self._count + len(rows)] = rows
        self._owners[self._count : self._count + len(rows)] = code
        self._count += len(rows)

    def add_many(self, items: Iterable[tuple[str, npt.ArrayLike]]) -> None:
        for person_id, templates in items:
            self.add(person_id, templates)

    def add_rows(self, person_ids: Sequence[str], templates: npt.ArrayLike) -> None:
        """Bulk load: row ``i`` of ``templates`` belongs to ``person_ids[i]`` (one copy, no per-person loop)."""
        rows = normalise(templates)
        if rows.shape[0] != len(person_ids):
            raise InvalidInputError(f"{len(person_ids)} person ids for {rows.shape[0]} templates")
        if not all(isinstance(p, str) and p for p in person_ids):
            raise InvalidInputError("person ids must be non-empty strings")
        with self._lock:
            codes = np.empty(len(person_ids), dtype=np.int64)
            for i, person_id in enumerate(person_ids):
                code = self._codes.get(person_id)
                if code is None:
                    code = len(self._people)
                    self._codes[person_id] = code
                    self._people.append(person_id)
                codes[i] = code
            self._reserve(self._count + len(rows))
            self._matrix[self._count : self._count + len(rows)] = rows
            self._owners[self._count : self._count + len(rows)] = codes
            self._count += len(rows)

    def remove(self, person_id: str) -> int:
        """Remove every template of a person; returns how many were removed (0 if not enrolled)."""
        with self._lock:
            return self._remove_locked(person_id)

    def _remove_locked(self, person_id: str) -> int:
        code = self._codes.pop(person_id, None)
        if code is None:
            return 0
        self._people[code] = None
        # Swap-remove: the person's rows are filled with rows from the end, so a removal moves a few rows, not
        # the whole matrix (row order means nothing to a search).
        gone = np.flatnonzero(self._owners[: self._count] == code)
        kept = self._count - len(gone)
        holes = gone[gone < kept]
        tail = np.arange(kept, self._count)
        movers = tail[self._owners[kept : self._count] != code]
        self._matrix[holes] = self._matrix[movers]
        self._owners[holes] = self._owners[movers]
        self._count = kept
        return len(gone)

    def replace(self, person_id: str, templates: npt.ArrayLike) -> None:
        """Make ``templates`` (possibly none) the person's whole set, in one step: a search sees the old set or
        the new one, never a mix."""
        rows = normalise(templates) if len(np.asarray(templates)) else None
        with self._lock:
            self._remove_locked(person_id)
            if rows is not None:
                self._add_locked(person_id, rows)

    def templates_of(self, person_id: str) -> FloatArray:
        with self._lock:
            code = self._codes.get(person_id)
            if code is None:
                return np.zeros((0, TEMPLATE_DIMENSIONS), dtype=np.float32)
            rows: FloatArray = self._matrix[: self._count][self._owners[: self._count] == code].copy()
            return rows

    def search(self, probe: npt.ArrayLike) -> SearchResult:
        """The nearest person and the nearest other person to one probe template."""
        return self.search_many(probe)[0]

    def search_many(self, probes: npt.ArrayLike, *, exclude: str | None = None) -> list[SearchResult]:
        """:meth:`search` for several probes (e.g. the frames of a burst) in one matrix product.

        ``exclude``: search as if that person were not enrolled (enrolment asks who *else* a new photo is near).
        """
        queries = normalise(probes)
        with self._lock:
            count = self._count
            matrix = self._matrix[:count]
            owners = self._owners[:count]
            excluded = self._codes.get(exclude) if exclude is not None else None
            if excluded is not None:
                kept = owners != excluded
                matrix, owners = matrix[kept], owners[kept]
            if len(owners) == 0:
                return [SearchResult(None, float("inf"), None, float("inf")) for _ in range(len(queries))]
            # (count, 128) @ (128, k): every template against every probe in one BLAS call.
            similarities = matrix @ queries.T
            return [self._best_two(similarities[:, j], owners) for j in range(len(queries))]

    def _best_two(self, similarities: FloatArray, owners: npt.NDArray[np.int64]) -> SearchResult:
        best = int(np.argmax(similarities))
        best_code = int(owners[best])
        # The runner-up must be another person: a person's own second template says nothing about ambiguity.
        others = np.where(owners == best_code, np.float32(-np.inf), similarities)
        second = int(np.argmax(others))
        best_person = self._people[best_code]
        if not np.isfinite(others[second]):
            return SearchResult(best_person, _distance(float(similarities[best])), None, float("inf"))
        return SearchResult(
            best_person,
            _distance(float(similarities[best])),
            self._people[int(owners[second])],
            _distance(float(others[second])),
        )

    def _reserve(self, needed: int) -> None:
        capacity = len(self._matrix)
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        matrix = np.zeros((capacity, TEMPLATE_DIMENSIONS), dtype=np.float32)
        matrix[: self._count] = self._matrix[: self._count]
        owners = np.zeros(capacity, dtype=np.int64)
        owners[: self._count] = self._owners[: self._count]
        self._matrix, self._owners = matrix, owners
