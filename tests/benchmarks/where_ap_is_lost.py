"""Where a model's keypoint AP is lost: each labelled person's best OKS, grouped by what the labels show.

Reads a COCO keypoint file and the poses `main.py eval --out` wrote for it (COCO results JSON), matches each
labelled person to the pose with the highest OKS in its image (an upper bound on what the AP matching gives
it), and prints: mean OKS and the share at OKS >= 0.5 for persons by labelled keypoint count and with or
without a labelled hip, knee or ankle; the mean OKS term of each keypoint; and the share of persons whose OKS
rises by more than 0.05 with the pose's left and right swapped. Not collected by pytest.

    python main.py eval --ann ANN --images IMAGES --model edite_hrnet_s --out poses.json
    python tests/benchmarks/where_ap_is_lost.py ANN poses.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from pose.evaluation.annotations import load_coco_annotations, read_json  # noqa: E402  (needs the root on sys.path)
from pose.geometry import keypoint_similarity  # noqa: E402
from pose.skeleton import COCO  # noqa: E402

SWAP_GAIN = 0.05
"""A person counts as left/right-swapped when the swapped pose scores this much more OKS."""
LEGS = slice(11, 17)
"""COCO's hips, knees and ankles."""
NO_POSE = np.full((17, 2), np.inf)
"""The pose of a person whose image has none: every OKS term 0."""


def best_matches(annotations: dict, poses: list[dict]) -> list[tuple[dict, np.ndarray]]:
    """``(annotation, (17, 2) pose)`` for every labelled, non-crowd person: its image's best-OKS pose
    (:data:`NO_POSE` where the image has none)."""
    by_image: dict[int, list[np.ndarray]] = {}
    for pose in poses:
        by_image.setdefault(pose["image_id"], []).append(np.reshape(pose["keypoints"], (17, 3))[:, :2])
    matches = []
    for annotation in annotations["annotations"]:
        if annotation.get("iscrowd", 0) or not annotation.get("num_keypoints", 0):
            continue
        candidates = by_image.get(annotation["image_id"], [NO_POSE])
        matches.append((annotation, max(candidates, key=lambda pose: person_oks(annotation, pose))))
    return matches


def keypoint_terms(annotation: dict, pose: np.ndarray) -> np.ndarray:
    """``(17,)`` OKS terms of ``pose`` against the person's labels (NaN where unlabelled)."""
    labels = np.reshape(annotation["keypoints"], (17, 3)).astype(np.float64)
    terms = keypoint_similarity(pose, labels[:, :2], np.float64(annotation["area"]), COCO.oks_sigmas)
    return np.where(labels[:, 2] > 0, terms, np.nan)


def person_oks(annotation: dict, pose: np.ndarray) -> float:
    """OKS of ``pose`` against the person's labels (COCO's, without its score-ranked matching)."""
    return float(np.nanmean(keypoint_terms(annotation, pose)))


def report(matches: list[tuple[dict, np.ndarray]]) -> list[str]:
    """The table's lines."""
    oks = np.array([person_oks(annotation, pose) for annotation, pose in matches])
    labelled = np.array([annotation["num_keypoints"] for annotation, _ in matches])
    legs = np.array([bool(np.any(np.reshape(a["keypoints"], (17, 3))[LEGS, 2] > 0)) for a, _ in matches])
    groups = {
        "all": np.ones(len(oks), bool),
        "<= 6 keypoints labelled": labelled <= 6,
        "7-12 keypoints labelled": (labelled > 6) & (labelled <= 12),
        ">= 13 keypoints labelled": labelled >= 13,
        "no leg keypoint labelled": ~legs,
        "a leg keypoint labelled": legs,
    }
    lines = [f"{'persons':26s} {'n':>4s} {'mean OKS':>9s} {'OKS >= 0.5':>11s}"]
    for name, chosen in groups.items():
        if chosen.any():
            lines.append(f"{name:26s} {chosen.sum():4d} {oks[chosen].mean():9.2f} "
                         f"{np.mean(oks[chosen] >= 0.5):11.2f}")
    terms = np.array([keypoint_terms(annotation, pose) for annotation, pose in matches])
    lines.append("mean OKS term per keypoint (labelled persons): " + ", ".join(
        f"{name} {np.nanmean(terms[:, k]):.2f}" for k, name in enumerate(COCO.keypoints)
        if not np.isnan(terms[:, k]).all()))
    permutation = list(COCO.flip_permutation())
    swapped = np.array([person_oks(annotation, pose[permutation]) > person_oks(annotation, pose) + SWAP_GAIN
                        for annotation, pose in matches])
    lines.append(f"better with left and right swapped (OKS +{SWAP_GAIN}): {swapped.sum()} of {len(swapped)} "
                 f"persons ({100 * swapped.mean():.1f} %)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("annotations", type=Path, help="COCO keypoint file with the human labels")
    parser.add_argument("poses", type=Path, help="COCO results JSON written by main.py eval --out")
    args = parser.parse_args()
    try:
        annotations = load_coco_annotations(args.annotations)
        poses = read_json(args.poses, "poses file (main.py eval --out)")
    except (FileNotFoundError, ValueError) as error:
        sys.exit(f"error: {error}")
    print("\n".join(report(best_matches(annotations, poses))))


if __name__ == "__main__":
    main()
