"""Checkpoint I/O: our files and mmpose-layout files load through one strict path with clear errors."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import torch

from pose.models import (
    CheckpointError,
    CheckpointMismatchError,
    create_model,
    file_sha256,
    load_weights,
    read_checkpoint_meta,
    save_checkpoint,
    with_skeleton,
)
from pose.skeleton import MPII

NAME = "lite_hrnet_18"


def randomise(model: torch.nn.Module, seed: int) -> None:
    """Seeded values for every float tensor, so that a load that misses anything shows in the output."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                values = torch.randn(tensor.shape, generator=generator) * 0.1
                tensor.copy_(values.abs() + 0.5 if key.endswith("running_var") else values)


def image() -> torch.Tensor:
    return torch.randn(1, 3, 256, 192, generator=torch.Generator().manual_seed(1))


@pytest.fixture
def trained() -> torch.nn.Module:
    model = create_model(NAME)
    randomise(model, seed=0)
    return model


def test_save_then_load_gives_identical_outputs_and_records_the_model(trained, tmp_path: Path) -> None:
    path = save_checkpoint(trained, tmp_path / "sub" / "model.pth", meta={"epoch": 3})
    fresh = create_model(NAME)
    meta = load_weights(fresh, path)
    expected = {"model": NAME, "input_size": [256, 192], "heatmap_size": [64, 48], "num_keypoints": 17}
    assert meta == {**expected, "epoch": 3}
    with torch.no_grad():
        assert torch.equal(fresh(image()), trained(image()))
    assert not list(tmp_path.glob("**/*.partial"))


def test_create_model_loads_weights(trained, tmp_path: Path) -> None:
    path = save_checkpoint(trained, tmp_path / "model.pth")
    loaded = create_model(NAME, weights=path)
    with torch.no_grad():
        assert torch.equal(loaded(image()), trained(image()))


def test_an_mmpose_checkpoint_loads(trained, tmp_path: Path) -> None:
    """mmcv's runner writes {'meta', 'state_dict', 'optimizer'}; keys carry backbone./keypoint_head."""
    state = trained.state_dict()
    assert {key.split(".")[0] for key in state} == {"backbone", "keypoint_head"}
    path = tmp_path / "litehrnet18_coco_256x192.pth"
    torch.save(
        {
            "meta": {"mmcv_version": "1.3.8", "epoch": 210, "iter": 123_480, "config": "model = dict(...)"},
            "state_dict": dict(state),
            "optimizer": {"state": {}, "param_groups": [{"lr": 2e-5}]},
        },
        path,
    )
    fresh = create_model(NAME)
    assert load_weights(fresh, path)["epoch"] == 210
    with torch.no_grad():
        assert torch.equal(fresh(image()), trained(image()))


def test_a_bare_data_parallel_state_dict_loads(trained, tmp_path: Path) -> None:
    path = tmp_path / "bare.pth"
    torch.save({f"module.{key}": value for key, value in trained.state_dict().items()}, path)
    fresh = create_model(NAME)
    assert load_weights(fresh, path) == {}
    with torch.no_grad():
        assert torch.equal(fresh(image()), trained(image()))


def test_a_checkpoint_of_another_model_names_the_keys_and_leaves_the_model_unchanged(tmp_path: Path) -> None:
    path = save_checkpoint(create_model("dite_hrnet_18"), tmp_path / "dite.pth")
    model = create_model(NAME)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    with pytest.raises(CheckpointMismatchError) as caught:
        load_weights(model, path)
    error = caught.value
    message = str(error)
    assert str(path) in message and NAME in message
    assert "backbone.stem.expand_conv.conv.weight" in message  # a Lite key the Dite file lacks
    assert "backbone.stem.branch1.0.conv.attention.conv1.weight" in message  # a Dite key Lite lacks
    assert re.search(rf"{len(error.missing)} missing keys", message)
    assert re.search(rf"{len(error.unexpected)} unexpected keys", message)
    assert "backbone.stem.expand_conv.conv.weight" in error.missing
    assert all(torch.equal(value, before[key]) for key, value in model.state_dict().items())


def test_a_shape_mismatch_is_named_with_both_shapes(trained, tmp_path: Path) -> None:
    state = dict(trained.state_dict())
    state["keypoint_head.final_layer.weight"] = torch.zeros(16, 40, 1, 1)
    state["keypoint_head.final_layer.bias"] = torch.zeros(16)
    path = tmp_path / "mpii_head.pth"
    torch.save({"state_dict": state}, path)
    with pytest.raises(CheckpointMismatchError, match=r"2 shape mismatches") as caught:
        load_weights(create_model(NAME), path)
    expected = "keypoint_head.final_layer.weight: file [16, 40, 1, 1] vs model [17, 40, 1, 1]"
    assert expected in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_a_file_that_is_not_a_checkpoint_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "notes.pth"
    path.write_text("these are not weights\n")
    with pytest.raises(CheckpointError, match=re.escape(str(path))):
        load_weights(create_model(NAME), path)


def test_a_checkpoint_without_tensors_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "meta_only.pth"
    torch.save({"meta": {"epoch": 1}}, path)
    with pytest.raises(CheckpointError, match="expected a state dict of tensors"):
        load_weights(create_model(NAME), path)


def test_a_missing_file_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_weights(create_model(NAME), tmp_path / "absent.pth")


def test_file_sha256_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 5000)
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_checkpoint_of_another_keypoint_set_builds_its_head(tmp_path: Path):
    """``main.py train`` on MPII records ``skeleton: mpii``: eval and the app get a 16-keypoint model back."""
    trained = with_skeleton(create_model("edite_hrnet_tiny"), MPII)
    randomise(trained, seed=5)
    path = save_checkpoint(trained, tmp_path / "mpii.pt", {"skeleton": MPII.name})
    assert read_checkpoint_meta(path)["skeleton"] == "mpii"

    loaded = create_model("edite_hrnet_tiny", weights=path)
    assert loaded.spec.skeleton == MPII
    x = torch.randn(1, 3, 256, 192, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), trained.eval()(x), rtol=0, atol=0)
    assert loaded(x).shape[1] == MPII.num_keypoints


def test_an_unknown_keypoint_set_is_named(tmp_path: Path):
    path = save_checkpoint(create_model("edite_hrnet_tiny"), tmp_path / "odd.pt", {"skeleton": "horse"})
    with pytest.raises(CheckpointError, match=r"keypoint set 'horse'.*known sets: coco"):
        create_model("edite_hrnet_tiny", weights=path)
