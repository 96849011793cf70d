"""Human labels first, a teacher's confident keypoints for the rest: the rules, as pure functions.

A labelled set (e.g. LSPET: 12 human-labelled limb joints, no face) keeps every human label; a keypoint the
human left unlabelled (``v = 0``) takes the teacher's prediction only where the teacher's keypoint score
reaches a threshold, and only inside the image. Images without human labels take the teacher's people
whose box score and number of confident keypoints are high enough, and so do the people a labelled set
left out (LSPET labels one athlete a photo, not the spectators and other competitors around them). The
threshold is chosen on a set with complete human labels (:func:`choose_threshold`): the lowest score at
which the teacher's keypoints are right (per-keypoint OKS >= 0.5) at least a given fraction of the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from pose.geometry import iou_matrix

CORRECT_OKS = 0.5
"""A predicted keypoint is right when its own OKS term ``exp(-d^2 / (2 s^2 (2 sigma)^2))`` reaches this."""


@dataclass(frozen=True)
class FillConfig:
    """How teacher keypoints join human labels.

    Attributes:
        keypoint_threshold: teacher keypoint score from which a keypoint is trusted (see
            :func:`choose_threshold`).
        match_iou: a teacher person belongs to a human-labelled person when their boxes overlap this much.
        min_box_score: teacher-only persons (nobody's human label) need this person score...
        min_keypoints: ...and this many trusted keypoints.
        same_person_inside: an unmatched teacher person is still a labelled person when this fraction of
            its keypoints lies inside that person's box (:func:`unlabelled_people`).
    """

    keypoint_threshold: float = 0.5
    match_iou: float = 0.5
    min_box_score: float = 0.5
    min_keypoints: int = 8
    same_person_inside: float = 0.5


def match_people(human_boxes: np.ndarray, teacher_boxes: np.ndarray, min_iou: float) -> list[tuple[int, int]]:
    """Pairs ``(human index, teacher index)``, greedily by decreasing IoU, each index used once.

    Args:
        human_boxes: ``(M, 4)`` and teacher_boxes: ``(N, 4)``, ``(x1, y1, x2, y2)`` pixels.
        min_iou: pairs overlapping less are never made.
    """
    overlaps = iou_matrix(human_boxes, teacher_boxes)
    candidates = sorted(((overlaps[h, t], h, t) for h, t in np.ndindex(overlaps.shape)), reverse=True)
    pairs, used_h, used_t = [], set(), set()
    for iou, h, t in candidates:
        if iou < min_iou:
            break
        if h not in used_h and t not in used_t:
            pairs.append((h, t))
            used_h.add(h)
            used_t.add(t)
    return pairs


def unlabelled_people(human_boxes: np.ndarray, teacher_boxes: np.ndarray, teacher_xy: np.ndarray,
                      config: FillConfig) -> np.ndarray:
    """``(N,)`` bool: the teacher persons who are none of the human-labelled persons in the image.

    A teacher person is a labelled person when their boxes overlap by ``config.match_iou`` or more, or when
    at least ``config.same_person_inside`` of its keypoints lie inside that person's box: a second reading
    of the labelled person (an upside-down gymnast read upright, a box around the apparatus too) must never
    become a second, conflicting skeleton on the same pixels. The price: real people standing behind a
    labelled one (on LSPET, about half of the people this rule drops).

    Args:
        human_boxes: ``(M, 4)``; teacher_boxes: ``(N, 4)``, both ``(x1, y1, x2, y2)`` pixels.
        teacher_xy: ``(N, K, 2)`` pixels, whatever their scores.
    """
    overlapping = iou_matrix(human_boxes, teacher_boxes) >= config.match_iou  # (M, N)
    low, high = human_boxes[:, None, None, :2], human_boxes[:, None, None, 2:]
    inside_box = np.all((teacher_xy[None] >= low) & (teacher_xy[None] <= high), axis=-1)  # (M, N, K)
    within = inside_box.mean(axis=-1) >= config.same_person_inside
    return ~(overlapping | within).any(axis=0)


def inside(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(K,)`` bool: ``(K, 2)`` pixel points within ``[0, width) x [0, height)``."""
    return (points[:, 0] >= 0) & (points[:, 1] >= 0) & (points[:, 0] < width) & (points[:, 1] < height)


def fill_keypoints(
    human: np.ndarray, teacher_xy: np.ndarray, teacher_scores: np.ndarray, threshold: float,
    width: int, height: int,
) -> np.ndarray:
    """Human keypoints with the unlabelled ones taken from the teacher where it is confident.

    Args:
        human: ``(K, 3)`` ``(x, y, v)``; ``v > 0`` is a human label and is never changed.
        teacher_xy: ``(K, 2)`` pixels; teacher_scores: ``(K,)``.
        threshold: teacher score from which a keypoint is trusted.
        width, height: image size; teacher keypoints outside it are not used.

    Returns:
        ``(K, 3)`` float32, teacher-filled keypoints with ``v = 2``.
    """
    merged = np.asarray(human, dtype=np.float32).copy()
    take = (merged[:, 2] <= 0) & (teacher_scores >= threshold) & inside(teacher_xy, width, height)
    merged[take, :2] = teacher_xy[take]
    merged[take, 2] = 2
    return merged


def teacher_keypoints(
    teacher_xy: np.ndarray, teacher_scores: np.ndarray, threshold: float, width: int, height: int
) -> np.ndarray:
    """``(K, 3)`` float32 ``(x, y, v)`` of a teacher-only person: trusted keypoints ``v = 2``, others 0."""
    empty = np.zeros((len(teacher_xy), 3), np.float32)
    return fill_keypoints(empty, teacher_xy, teacher_scores, threshold, width, height)


@dataclass(frozen=True)
class ThresholdChoice:
    """The chosen threshold and how the teacher's keypoints fare at it.

    Attributes:
        threshold: the lowest score on the grid whose trusted keypoints reach the precision asked for.
        precision: fraction of trusted keypoints that are right (OKS term >= :data:`CORRECT_OKS`).
        coverage: fraction of all scored keypoints that are trusted.
        table: ``(threshold, precision, coverage)`` rows for the whole grid (precision 1 where nothing is
            trusted).
    """

    threshold: float
    precision: float
    coverage: float
    table: tuple[tuple[float, float, float], ...]


def choose_threshold(
    scores: np.ndarray, correct: np.ndarray, min_precision: float, grid: Iterable[float] | None = None
) -> ThresholdChoice:
    """The lowest teacher score at which its keypoints are right at least ``min_precision`` of the time.

    Args:
        scores: ``(n,)`` teacher keypoint scores of keypoints with a human label to check against.
        correct: ``(n,)`` bool, the keypoint is right.
        min_precision: e.g. 0.9.
        grid: thresholds to try (default 0.05 ... 0.95 in steps of 0.05).

    Raises:
        ValueError: no threshold that trusts any keypoint reaches ``min_precision``.
    """
    scores, correct = np.asarray(scores, np.float64), np.asarray(correct, bool)
    if scores.size == 0:
        raise ValueError("no teacher keypoint matches a human label: cannot choose a threshold")
    thresholds = sorted(grid) if grid is not None else [round(0.05 * i, 2) for i in range(1, 20)]
    rows = []
    for threshold in thresholds:
        trusted = scores >= threshold
        precision = float(correct[trusted].mean()) if trusted.any() else 1.0
        rows.append((float(threshold), precision, float(trusted.mean())))
    chosen = next((row for row in rows if row[1] >= min_precision and row[2] > 0), None)
    if chosen is None:
        best = max((row for row in rows if row[2] > 0), key=lambda row: row[1], default=rows[0])
        raise ValueError(f"no teacher keypoint threshold reaches {100 * min_precision:.1f} % right keypoints "
                         f"on the calibration set (best: {100 * best[1]:.1f} % at {best[0]:.2f}): lower "
                         "--min-precision")
    return ThresholdChoice(chosen[0], chosen[1], chosen[2], tuple(rows))


def duplicate_groups(pairs: Iterable[tuple[str, str]]) -> list[frozenset[str]]:
    """Connected groups of names from ``(a, b)`` "same photograph" pairs (union-find)."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        parent.setdefault(name, name)
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for a, b in pairs:
        parent[root(a)] = root(b)
    groups: dict[str, set[str]] = {}
    for name in parent:
        groups.setdefault(root(name), set()).add(name)
    return [frozenset(group) for group in groups.values()]


def split_validation(
    names: Sequence[str], groups: Iterable[frozenset[str]], count: int, seed: int = 0
) -> frozenset[str]:
    """About ``count`` names for validation, chosen at random, never splitting a group.

    Every name is a unit of its own unless it is in one of ``groups``; units are drawn in a seeded order
    until ``count`` names are reached (a last group may overshoot by its size - 1).
    """
    known = set(names)
    grouped = [sorted(group & known) for group in groups if group & known]
    in_group = {name for group in grouped for name in group}
    units = grouped + [[name] for name in sorted(known - in_group)]
    order = np.random.default_rng(seed).permutation(len(units))
    chosen: list[str] = []
    for index in order:
        if len(chosen) >= count:
            break
        chosen.extend(units[index])
    return frozenset(chosen)
