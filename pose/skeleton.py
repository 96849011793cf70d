"""Keypoint sets: names, left/right flip pairs, limbs and OKS sigmas. Data only.

Every consumer (codec flip-back, drawing, CSV columns, evaluation, training) takes its keypoint facts
from a :class:`Skeleton`, so the order of keypoints is defined in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Skeleton:
    """A keypoint set.

    Attributes:
        name: short identifier, e.g. ``"coco"``.
        keypoints: keypoint names in channel order.
        flip_pairs: (left, right) index pairs swapped by a horizontal flip.
        limbs: (a, b) index pairs joined by a line when drawing.
        oks_sigmas: per-keypoint OKS falloff constants (COCO convention), same order as ``keypoints``.
    """

    name: str
    keypoints: tuple[str, ...]
    flip_pairs: tuple[tuple[int, int], ...]
    limbs: tuple[tuple[int, int], ...]
    oks_sigmas: tuple[float, ...]

    def __post_init__(self) -> None:
        count = len(self.keypoints)
        if len(self.oks_sigmas) != count:
            raise ValueError(
                f"skeleton {self.name!r}: {len(self.oks_sigmas)} OKS sigmas for {count} keypoints"
            )
        for a, b in (*self.flip_pairs, *self.limbs):
            if not (0 <= a < count and 0 <= b < count):
                raise ValueError(
                    f"skeleton {self.name!r}: pair ({a}, {b}) is out of range for {count} keypoints"
                )

    @property
    def num_keypoints(self) -> int:
        return len(self.keypoints)

    def flip_permutation(self) -> tuple[int, ...]:
        """Channel order after a horizontal flip: ``flipped[k] = original[perm[k]]``."""
        perm = list(range(self.num_keypoints))
        for left, right in self.flip_pairs:
            perm[left], perm[right] = right, left
        return tuple(perm)


COCO = Skeleton(
    name="coco",
    keypoints=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
        "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    flip_pairs=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
    limbs=(
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 12),
        (5, 11), (6, 12), (5, 6), (5, 7), (6, 8), (7, 9), (8, 10),
        (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
    ),
    oks_sigmas=(
        0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
        0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
    ),
)
"""COCO-17, the keypoint set of every shipped model (order as in person_keypoints annotations)."""

CROWDPOSE = Skeleton(
    name="crowdpose",
    keypoints=(
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
        "top_head", "neck",
    ),
    flip_pairs=((0, 1), (2, 3), (4, 5), (6, 7), (8, 9), (10, 11)),
    limbs=(
        (10, 8), (8, 6), (11, 9), (9, 7), (6, 7), (0, 6), (1, 7), (0, 1),
        (0, 2), (1, 3), (2, 4), (3, 5), (12, 13), (1, 13), (0, 13),
    ),
    oks_sigmas=(
        0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089, 0.079, 0.079,
    ),
)
"""CrowdPose-14 (order of the CrowdPose annotation files; sigmas of the CrowdPose evaluation API)."""

MPII = Skeleton(
    name="mpii",
    keypoints=(
        "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
        "pelvis", "thorax", "upper_neck", "head_top",
        "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    ),
    flip_pairs=((0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13)),
    limbs=(
        (0, 1), (1, 2), (2, 6), (6, 3), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9),
        (8, 12), (12, 11), (11, 10), (8, 13), (13, 14), (14, 15),
    ),
    # MPII is scored with PCKh, which uses no OKS sigmas. These are mmpose's placeholder values
    # ("adapted from COCO"), kept only so that OKS-based code (NMS, a COCO-style AP) runs on MPII data.
    oks_sigmas=(
        0.089, 0.083, 0.107, 0.107, 0.083, 0.089, 0.026, 0.026, 0.026, 0.026,
        0.062, 0.072, 0.179, 0.179, 0.072, 0.062,
    ),
)
"""MPII-16 (order of the MPII / mmpose annotation files). Its OKS sigmas are placeholders: see comment."""

SKELETONS: dict[str, Skeleton] = {COCO.name: COCO, CROWDPOSE.name: CROWDPOSE, MPII.name: MPII}
"""Keypoint sets by name; datasets and models refer to them by these names."""
