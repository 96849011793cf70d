"""Overfitting real images: training from scratch drives validation AP (GT boxes, flip test) above 0.9.

The full version (5 people, 100 steps, Dite-HRNet-18) is tests/pose/train/overfit_coco_tiny.toml, run with
``main.py train``. This default-suite variant keeps 2 of the people (one large, one small, both with 17
keypoints) so each step is cheap, and trains for 50 steps with the same settings except a 5-step warm-up.
Dite-HRNet-18 is the smallest registered model that gets there in so few steps: edite_hrnet_tiny has 8
channels at the heatmap resolution and plateaus near AP 0.65.
"""

from __future__ import annotations

import json
from pathlib import Path

from support import REPO_ROOT

from pose.train.config import load_config
from pose.train.engine import RunOptions, train

TINY = REPO_ROOT / "tests" / "data" / "coco_tiny"
CONFIG = Path(__file__).with_name("overfit_coco_tiny.toml")
KEPT_PEOPLE = {1, 4}  # annotation ids: the footballer (messi5.jpg) and the left runner (sports2d frame)


def _two_people(folder: Path) -> Path:
    dataset = json.loads((TINY / "person_keypoints.json").read_text(encoding="utf-8"))
    dataset["annotations"] = [a for a in dataset["annotations"] if a["id"] in KEPT_PEOPLE]
    images = {a["image_id"] for a in dataset["annotations"]}
    dataset["images"] = [image for image in dataset["images"] if image["id"] in images]
    path = folder / "two_people.json"
    path.write_text(json.dumps(dataset), encoding="utf-8")
    return path


def test_two_real_people_are_learned_to_ap_above_0_9_in_50_steps(tmp_path):
    annotations = _two_people(tmp_path)
    config = load_config(CONFIG, {
        "data.root": str(TINY), "data.train_annotations": str(annotations),
        "data.val_annotations": str(annotations), "train.batch_size": 2, "optim.warmup_iters": 5,
        "optim.epochs": 50, "train.val_interval": 0,
    })
    result = train(config, RunOptions(tmp_path / "run", device="cpu", progress=False, tensorboard=False))
    assert result.iteration == 50
    assert result.metrics["AP"] > 90.0, result.metrics
