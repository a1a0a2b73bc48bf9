"""Before a set of photos is enrolled for a resident: is it one person, and is that person someone else already?

Two checks on the templates of a set's accepted photos, with the product's own thresholds (no number of this
module's own):

* **one person**: two photos show the same person when one's probe is nearer to the other's template than the
  1:1 same-person distance (:attr:`DecisionRule.max_distance`, beyond which the gates never accept). Photos that
  are the same person form groups (linked through any chain of such pairs); the resident's templates already enrolled
  say which group is the resident, otherwise the largest group does. Every photo outside that group is flagged
  with the photos it does not match. When the largest groups tie (two photos of two people, say) nobody can
  tell which is the resident, so every photo outside a single group is flagged.
* **someone else**: each photo, encoded as a gate frame is, is searched in the community's gallery *without*
  this resident, and flagged as close to another resident when the gates' 1:N accept rule
  (:meth:`DecisionRule.accepts`: the same-person distance and the margin to the runner-up) would let this face in
  as them. The 1:1 distance alone is not used here: against a gallery it flags many strangers (on lfw-dev, 16 of
  81 strangers were within it of one of 18 residents, and the 1:N rule accepted none; see
  docs/face-verification.md). The manager chooses: enrol anyway (audited) or drop the photo.

Photos are compared as the gates compare: a photo's probe (encoded as a camera frame, no jitter) with enrolled
templates (jittered), the pairing the thresholds were measured on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hub.faces.decision import DecisionRule
from hub.faces.matcher import Matcher, normalise
from hub.faces.models import FloatArray


@dataclass(frozen=True)
class PhotoReview:
    """One photo of the set (``index`` into the templates reviewed)."""

    index: int
    odd_one: bool = False
    """Not the same person as the rest of the set (or as the resident's enrolled templates)."""
    not_matching: tuple[int, ...] = ()
    """When ``odd_one``: the other photos of the set (indices) it does not show the same person as."""
    not_matching_enrolled: bool = False
    """When ``odd_one``: it does not match the resident's templates already enrolled either."""
    close_to: str | None = None
    """Another resident the gates' 1:N rule would accept this face as."""
    close_distance: float | None = None
    gate_would_accept: bool = False
    """The gates' 1:N rule would accept this face as ``close_to`` (always, when ``close_to`` is set)."""

    @property
    def flagged(self) -> bool:
        return self.odd_one or self.close_to is not None


@dataclass(frozen=True)
class SetReview:
    """The set's photos, each with its flags; ``undecided`` when the set splits into equal groups."""

    photos: tuple[PhotoReview, ...]
    undecided: bool = False

    @property
    def odd_ones(self) -> list[int]:
        return [p.index for p in self.photos if p.odd_one]

    @property
    def close(self) -> list[PhotoReview]:
        return [p for p in self.photos if p.close_to is not None]


def _distances(a: FloatArray, b: FloatArray) -> npt.NDArray[np.float64]:
    similarity = np.asarray(a @ b.T, dtype=np.float64)
    distances: npt.NDArray[np.float64] = np.sqrt(np.maximum(0.0, 2.0 - 2.0 * similarity))
    return distances


def _groups(linked: npt.NDArray[np.bool_]) -> list[int]:
    """Connected components of a symmetric adjacency matrix: the component label of each node."""
    count = len(linked)
    label = list(range(count))

    def root(i: int) -> int:
        while label[i] != i:
            label[i] = label[label[i]]
            i = label[i]
        return i

    for i in range(count):
        for j in range(i + 1, count):
            if linked[i, j]:
                label[root(i)] = root(j)
    return [root(i) for i in range(count)]


def review_set(
    templates: Sequence[FloatArray] | FloatArray,
    probes: Sequence[FloatArray] | FloatArray,
    resident_id: str,
    gallery: Matcher,
    rule: DecisionRule,
) -> SetReview:
    """Flag the photos of a set that are not the resident, or that are another resident (see the module).

    ``templates``: one enrolment template per accepted photo, in the set's order; ``probes``: the same photos
    encoded as a gate frame is. Photos are compared as the gates compare (a probe with enrolled templates): photo
    ``i`` and ``j`` are the same person when ``i``'s probe is near ``j``'s template or ``j``'s probe near ``i``'s.
    ``gallery``: the community's enrolled templates (the resident's own, if any, say who the resident is).
    """
    count = len(templates)
    if count == 0:
        return SetReview(())
    rows = normalise(np.asarray(templates, dtype=np.float32))
    seen = normalise(np.asarray(probes, dtype=np.float32))
    if seen.shape != rows.shape:
        raise ValueError("one probe per template")
    same = rule.max_distance
    enrolled = gallery.templates_of(resident_id)
    cross = _distances(seen, rows)  # [i, j]: photo i as the gate sees it, against photo j as enrolled
    linked = np.minimum(cross, cross.T) < same
    if len(enrolled):
        # The resident's enrolled templates are one node: photo i is linked to it when the gate would see
        # photo i as near one of them.
        to_resident = _distances(seen, enrolled).min(axis=1) < same
        linked = np.block([[linked, to_resident[:, None]], [to_resident[None, :], np.ones((1, 1), dtype=bool)]])
    labels = _groups(linked)
    photo_labels = labels[:count]

    undecided = False
    if len(enrolled):
        resident_groups = {labels[count]}
    else:
        sizes: dict[int, int] = {}
        for label in photo_labels:
            sizes[label] = sizes.get(label, 0) + 1
        largest = max(sizes.values())
        biggest = [label for label, size in sizes.items() if size == largest]
        if len(biggest) == 1:
            resident_groups = set(biggest)
        else:
            resident_groups = set()  # equal groups: which one is the resident is not known
            undecided = True

    # Who else the gates would see: each probe searched among the other residents' templates.
    close = gallery.search_many(seen, exclude=resident_id) if len(gallery) else []
    reviews = []
    for i in range(count):
        if undecided:
            odd = True
            others = tuple(j for j in range(count) if photo_labels[j] != photo_labels[i])
        else:
            odd = photo_labels[i] not in resident_groups
            others = tuple(j for j in range(count) if photo_labels[j] in resident_groups) if odd else ()
        near = close[i] if close else None
        is_close = near is not None and near.person_id is not None and rule.accepts(near)
        reviews.append(
            PhotoReview(
                index=i,
                odd_one=odd,
                not_matching=others,
                not_matching_enrolled=odd and len(enrolled) > 0,
                close_to=near.person_id if is_close and near is not None else None,
                close_distance=round(near.distance, 3) if is_close and near is not None else None,
                gate_would_accept=bool(is_close and near is not None and rule.accepts(near)),
            )
        )
    return SetReview(tuple(reviews), undecided)
