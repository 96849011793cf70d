"""``main.py eval`` end to end on the hand-labelled coco_tiny set, with a model that sees the ground truth."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from fake_pose_models import coco_file_oracle
from support import REPO_ROOT

import main
from pose.models import registry
from pose.models.spec import ModelSpec

TINY = REPO_ROOT / "tests" / "data" / "coco_tiny"
TINY_ANN = TINY / "person_keypoints.json"
COCO_KEYS = {"AP", "AP50", "AP75", "APM", "APL", "AR"}


@pytest.fixture
def oracle_models(monkeypatch):
    """``create_model("oracle")`` sees the ground truth; ``"oracle_off"`` sees it 8 px down-right."""
    real_create_model = registry.create_model

    def create_model(name, weights=None, device=None, input_size=None):
        offsets = {"oracle": (0.0, 0.0), "oracle_off": (8.0, 8.0)}
        if name not in offsets:
            return real_create_model(name, weights=weights, device=device, input_size=input_size)
        return coco_file_oracle(ModelSpec(name=name), TINY_ANN, TINY, offsets[name])

    monkeypatch.setattr(registry, "create_model", create_model)


def _eval(capsys, *extra: str, ann=TINY_ANN, images=TINY) -> tuple[int, str, str]:
    code = main.main(["eval", "--ann", str(ann), "--images", str(images), "--device", "cpu", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.usefixtures("oracle_models")
def test_perfect_model_scores_ap_one_with_a_table_and_a_json_last_line(capsys):
    code, out, err = _eval(capsys, "--model", "oracle", "--json")
    assert code == 0, err
    summary = _last_json(out)
    assert summary.keys() >= COCO_KEYS
    assert summary["AP"] == summary["AP50"] == summary["AP75"] == summary["AR"] == 1.0
    assert summary["images"] == 3 and summary["instances"] == 5 and summary["flip"] is True
    assert any(line.split() == ["AP75", "100.0"] for line in out.splitlines())  # the table, in percent
    assert "3/3" in err  # the progress bar ran over the three images


@pytest.mark.usefixtures("oracle_models")
@pytest.mark.parametrize("flip_flag", [(), ("--no-flip",)])
def test_an_imperfect_model_scores_lower(capsys, flip_flag):
    code, out, _ = _eval(capsys, "--model", "oracle_off", "--json", "--no-progress", *flip_flag)
    assert code == 0
    summary = _last_json(out)
    assert 0.0 < summary["AP"] < 0.9
    assert summary["flip"] is (not flip_flag)


@pytest.mark.usefixtures("oracle_models")
def test_detections_file_and_results_output(capsys, tmp_path):
    detections = [
        {"image_id": a["image_id"], "category_id": 1, "bbox": a["bbox"], "score": 0.9}
        for a in json.loads(TINY_ANN.read_text())["annotations"]
    ]
    boxes = tmp_path / "dets.json"
    boxes.write_text(json.dumps(detections))
    out_file = tmp_path / "results.json"
    code, out, err = _eval(capsys, "--model", "oracle", "--boxes", str(boxes), "--out", str(out_file),
                           "--json")
    assert code == 0, err
    assert _last_json(out)["AP"] == 1.0
    results = json.loads(out_file.read_text())
    assert len(results) == 5
    assert {"image_id", "category_id", "keypoints", "score"} <= results[0].keys()
    assert len(results[0]["keypoints"]) == 51


@pytest.mark.usefixtures("oracle_models")
def test_pckh_metric(capsys, tmp_path):
    dataset = json.loads(TINY_ANN.read_text())
    for annotation in dataset["annotations"]:
        labels = np.array(annotation["keypoints"], dtype=float).reshape(-1, 3)[:5]
        face = labels[labels[:, 2] > 0, :2]
        annotation["head_box"] = [*(face.min(axis=0) - 30).tolist(), *(face.max(axis=0) + 30).tolist()]
    ann = tmp_path / "mpii_style.json"
    ann.write_text(json.dumps(dataset))
    code, out, err = _eval(capsys, "--model", "oracle", "--metric", "pckh", "--json", ann=ann)
    assert code == 0, err
    assert _last_json(out)["PCKh"] == 1.0


@pytest.mark.usefixtures("oracle_models")
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing_ann", "annotation file"),
        ("malformed_ann", "not valid JSON"),
        ("missing_images_dir", "images directory"),
        ("missing_image", "messi5.jpg"),
    ],
)
def test_unusable_inputs_exit_2_with_one_line(capsys, tmp_path, case, message):
    ann, images = TINY_ANN, TINY
    if case == "missing_ann":
        ann = tmp_path / "nope.json"
    elif case == "malformed_ann":
        ann = tmp_path / "broken.json"
        ann.write_text('{"images": [')
    elif case == "missing_images_dir":
        images = tmp_path / "no_such_dir"
    else:
        images = tmp_path
    code, _, err = _eval(capsys, "--model", "oracle", "--no-progress", ann=ann, images=images)
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("edite-pose eval:")]
    assert len(lines) == 1 and message in lines[0]


@pytest.mark.usefixtures("oracle_models")
def test_out_is_never_an_input_and_must_be_a_writable_json_file(capsys, tmp_path):
    ann = tmp_path / "labels.json"
    ann.write_text(TINY_ANN.read_text())
    before = ann.read_bytes()
    for out, said in ((ann, "it is the input"), (tmp_path / "poses.txt", "unknown file type"),
                      (tmp_path / "no_dir" / "poses.json", "no_dir")):
        code, _, err = _eval(capsys, "--model", "oracle", "--no-progress", "--out", str(out), ann=ann)
        assert code == 2 and "--out" in err and said in err and len(err.strip().splitlines()) == 1
    assert ann.read_bytes() == before


def test_unknown_model_exits_2_naming_it():
    result = subprocess.run(
        [sys.executable, "main.py", "eval", "--ann", str(TINY_ANN), "--images", str(TINY),
         "--model", "no_such_net"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("edite-pose eval: unknown model 'no_such_net'")


def test_a_set_with_no_labelled_person_says_so_instead_of_ap_zero(tmp_path, capsys):
    dataset = json.loads(TINY_ANN.read_text())
    for annotation in dataset["annotations"]:
        annotation["keypoints"] = [0] * len(annotation["keypoints"])
        annotation["num_keypoints"] = 0
    ann = tmp_path / "unlabelled.json"
    ann.write_text(json.dumps(dataset))
    code, out, err = _eval(capsys, "--model", "edite_hrnet_tiny", ann=ann)
    assert code != 0 and out == ""
    expected = (f"edite-pose eval: no persons to score: no person in '{ann}' has a labelled keypoint outside "
                "crowd regions")
    assert err.strip() == expected
    crowds = json.loads(TINY_ANN.read_text())  # labelled, but crowd regions: COCO never scores them
    for annotation in crowds["annotations"]:
        annotation["iscrowd"] = 1
    ann.write_text(json.dumps(crowds))
    code, out, err = _eval(capsys, "--model", "edite_hrnet_tiny", ann=ann)
    assert code != 0 and out == "" and "no persons to score" in err


@pytest.mark.usefixtures("oracle_models")
def test_eval_closes_the_estimator_it_built(capsys, monkeypatch):
    import pose.estimator

    built = []

    class Recorded(pose.estimator.TopDownEstimator):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(pose.estimator, "TopDownEstimator", Recorded)
    code, _, err = _eval(capsys, "--model", "oracle")
    assert code == 0, err
    assert len(built) == 1 and built[0].closed
