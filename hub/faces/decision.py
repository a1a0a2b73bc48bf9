"""The accept rule: who a probe is, or nobody. Built to keep strangers out first and let residents in second.

One frame's score is ``d1 - margin_weight * (min(d2, second_cap) - d1)``: the distance to the nearest
resident, made worse when the second-nearest resident is almost as near. A stranger who happens to sit close
to one resident usually sits close to others too, so the margin term removes most of the near-miss strangers
that a plain distance threshold lets in (measured on LFW: docs/face-verification.md). ``second_cap`` keeps the
rule meaningful in a small gallery, where the runner-up is far away for everyone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hub.exceptions import InvalidInputError
from hub.faces.models import FaceOutcome, SearchResult

OPERATING_FPIR = 5e-4
"""The stranger accept rate the operating threshold is set for: half the FPIR 1e-3 target, a margin for the
estimate of a tail that a few thousand strangers only just reach."""
TAIL_FRACTION = 0.02  # the lowest 2% of the strangers' scores (at least TAIL_MIN) describe the tail
TAIL_MIN = 10


def operating_threshold(stranger_scores: npt.ArrayLike, fpir: float = OPERATING_FPIR) -> float:
    """The rule's ``max_score`` for a stranger accept rate of ``fpir``, from strangers' scores.

    A few thousand strangers say little about one in a thousand or less: the empirical quantile there is one or
    two faces. So the lower tail is modelled as exponential, from the lowest ``TAIL_FRACTION`` of the scores
    (the gaps to the largest of them estimate its scale), and the threshold is where that tail reaches ``fpir``.
    This is how ``DecisionRule.max_score`` is set; ``bench faces`` applies it k-fold over the people, so the
    threshold is always judged on strangers it was not set on.
    """
    everyone = np.asarray(stranger_scores, dtype=np.float64)
    # Strangers beyond the rule's distance limit score +inf: they count in the population, not in the tail.
    scores = np.sort(everyone[np.isfinite(everyone)])
    if len(scores) < 2 or not 0 < fpir < 1:
        raise InvalidInputError("need at least 2 finite stranger scores and 0 < fpir < 1")
    m = min(len(scores), max(TAIL_MIN, int(TAIL_FRACTION * len(everyone))))
    edge = float(scores[m - 1])
    scale = float(np.mean(edge - scores[: m - 1]))
    return edge - scale * float(np.log(m / (len(everyone) * fpir)))


@dataclass(frozen=True)
class DecisionRule:
    """Thresholds of the accept rule. ``max_score`` is what :func:`operating_threshold` gives on lfw-dev's
    strangers (0.202, kept at 0.20); ``bench faces`` judges that procedure k-fold over people it was not set on."""

    max_score: float = 0.20
    margin_weight: float = 1.0
    second_cap: float = 0.60
    # Never accept a nearest distance beyond the 1:1 same-person threshold (about 0.40 on unit templates).
    max_distance: float = 0.42
    # A burst is accepted only if this many frames accept the same resident (fewer frames: all of them).
    min_agreeing_frames: int = 2

    def score(self, result: SearchResult) -> float:
        second = min(result.second_distance, self.second_cap)
        return result.distance - self.margin_weight * (second - result.distance)

    def accepts(self, result: SearchResult) -> bool:
        return (
            result.person_id is not None
            and result.distance < self.max_distance
            and self.score(result) < self.max_score
        )

    def outcome(self, result: SearchResult) -> FaceOutcome:
        """ACCEPTED, or why not: UNKNOWN_FACE (nobody near) or AMBIGUOUS (near, but so is someone else)."""
        if result.person_id is None:
            return FaceOutcome.EMPTY_GALLERY
        if self.accepts(result):
            return FaceOutcome.ACCEPTED
        alone = SearchResult(result.person_id, result.distance, None, float("inf"))
        return FaceOutcome.AMBIGUOUS if self.accepts(alone) else FaceOutcome.UNKNOWN_FACE


@dataclass(frozen=True)
class BurstDecision:
    """The burst's verdict before liveness: the resident (if any) and the evidence."""

    outcome: FaceOutcome
    person_id: str | None
    best: SearchResult | None
    agreeing_frames: int


def decide_burst(results: Sequence[SearchResult], rule: DecisionRule) -> BurstDecision:
    """Accept a resident only if enough frames accept them and no frame accepts anyone else."""
    if not results:
        return BurstDecision(FaceOutcome.NO_FACE, None, None, 0)
    accepted = [r for r in results if rule.accepts(r)]
    best_frame = min(results, key=rule.score)
    if not accepted:
        return BurstDecision(rule.outcome(best_frame), None, best_frame, 0)
    votes = Counter(r.person_id for r in accepted)
    if len(votes) > 1:
        return BurstDecision(FaceOutcome.FRAMES_DISAGREE, None, best_frame, 0)
    person_id, count = votes.most_common(1)[0]
    needed = min(rule.min_agreeing_frames, len(results))
    best = min(accepted, key=rule.score)
    if count < needed:
        return BurstDecision(FaceOutcome.FRAMES_DISAGREE, None, best, count)
    return BurstDecision(FaceOutcome.ACCEPTED, person_id, best, count)
