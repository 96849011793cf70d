"""Runtimes (pose.runtime): torch and ONNX Runtime compute the reference model's function; crop workers,
specialised sessions and the estimator contract."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from random_models import RELATIVE_TOLERANCE, reference_outputs, relative_error
from torch import nn

from pose.estimator import TopDownEstimator
from pose.runtime import OnnxForward, build_forward, cached_export_path, resolve_runtime


@pytest.fixture(scope="module")
def reference() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    return reference_outputs()


def test_runtime_names() -> None:
    cpu = torch.device("cpu")
    assert resolve_runtime("auto", cpu) == "onnx"
    assert resolve_runtime("eager", cpu) == "eager"
    with pytest.raises(ValueError, match="unknown runtime"):
        resolve_runtime("tensorrt", cpu)
    with pytest.raises(ValueError, match="CPU only"):
        resolve_runtime("onnx", torch.device("cuda"))


def test_onnx_runtime_equals_reference_for_any_batch(reference, tmp_path) -> None:
    model, inputs, expected = reference
    with OnnxForward(model, threads=1, cache=tmp_path, specialise=False) as forward:
        assert relative_error(forward(inputs.numpy()), expected) < RELATIVE_TOLERANCE
        assert relative_error(forward(inputs[:1].numpy()), expected[:1]) < RELATIVE_TOLERANCE
    cached = list(tmp_path.glob("*.onnx"))
    assert len(cached) == 1
    with OnnxForward(model, threads=1, cache=tmp_path, specialise=False) as again:  # the cached export
        assert relative_error(again(inputs.numpy()), expected) < RELATIVE_TOLERANCE


@pytest.mark.parametrize("workers", [2, 5])
def test_onnx_crops_shared_over_workers_keep_their_order(reference, tmp_path, workers: int) -> None:
    model, inputs, expected = reference  # 3 crops: shares of 2 + 1 (2 workers), 1 + 1 + 1 (5 workers)
    with OnnxForward(model, threads=workers, cache=tmp_path, specialise=False) as forward:
        assert relative_error(forward(inputs.numpy()), expected) < RELATIVE_TOLERANCE
        assert forward(np.zeros((0, 3, *model.spec.input_size), np.float32)).shape[0] == 0


def test_onnx_specialised_sessions_take_over_once_built(reference, tmp_path) -> None:
    model, inputs, expected = reference
    with OnnxForward(model, threads=1, cache=tmp_path) as forward:
        first = forward(inputs[:2].numpy())  # the generic session runs while the size-2 one is built
        specialised = forward._building[2].result(timeout=120)  # wait for the background build
        assert forward(inputs[:2].numpy()) is not None and forward._specialised[2] is specialised
        np.testing.assert_allclose(forward(inputs[:2].numpy()), first, rtol=1e-4, atol=1e-5)
        assert relative_error(first, expected[:2]) < RELATIVE_TOLERANCE
        large = OnnxForward.SPECIALISED_UP_TO + 1
        forward(np.repeat(inputs[:1].numpy(), large, axis=0))
        assert large not in forward._building  # larger shares stay on the generic session


def test_torch_runtime_follows_the_estimator_contract(reference) -> None:
    model, inputs, expected = reference
    with build_forward(model, "torch", torch.device("cpu"), torch.float32) as forward:
        assert relative_error(forward(inputs.numpy()), expected) < RELATIVE_TOLERANCE
    with pytest.raises(RuntimeError, match="TorchForward is closed"):
        forward(inputs.numpy())


def test_estimator_keypoints_agree_across_runtimes(reference, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDITE_POSE_CACHE", str(tmp_path))
    model, _, _ = reference
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (180, 240, 3), dtype=np.uint8)
    boxes = np.array([[10.0, 20.0, 90.0, 170.0], [120.0, 5.0, 230.0, 175.0]])
    results = {}
    for runtime in ("eager", "torch", "onnx"):
        with TopDownEstimator(model, device="cpu", runtime=runtime) as estimator:
            results[runtime] = estimator(image, boxes)
    for runtime in ("torch", "onnx"):
        np.testing.assert_allclose(results[runtime].scores, results["eager"].scores, rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(results[runtime].keypoints, results["eager"].keypoints, atol=1e-3)


def test_onnx_prepare_builds_the_sessions_a_batch_will_use(reference, tmp_path) -> None:
    model, inputs, expected = reference
    with OnnxForward(model, threads=2, cache=tmp_path) as forward:
        forward.prepare(3)  # shares of 2 and 1 crops
        assert set(forward._specialised) == {1, 2}
        assert relative_error(forward(inputs.numpy()), expected) < RELATIVE_TOLERANCE


def test_estimator_warm_up_leaves_results_unchanged(reference, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDITE_POSE_CACHE", str(tmp_path))
    model, _, _ = reference
    image = np.random.default_rng(3).integers(0, 256, (180, 240, 3), dtype=np.uint8)
    boxes = np.array([[10.0, 20.0, 90.0, 170.0]])
    with TopDownEstimator(model, device="cpu", runtime="onnx") as estimator:
        before = estimator(image, boxes)
        estimator.warm_up(2)
        after = estimator(image, boxes)
    np.testing.assert_allclose(after.keypoints, before.keypoints, atol=1e-3)


def _new_threads(before: set[threading.Thread], prefix: str) -> list[threading.Thread]:
    """Threads named ``prefix...`` started since ``before`` was taken."""
    return [thread for thread in set(threading.enumerate()) - before if thread.name.startswith(prefix)]


def test_closing_onnx_forward_stops_its_threads(reference, tmp_path) -> None:
    model, inputs, _ = reference
    before = set(threading.enumerate())
    forward = OnnxForward(model, threads=2, cache=tmp_path)
    forward(inputs.numpy())  # 3 crops: shares of 2 and 1 on two crop workers, two specialised builds
    started = _new_threads(before, "onnx-")
    assert {thread.name.rsplit("_", 1)[0] for thread in started} == {"onnx-crops", "onnx-specialise"}
    forward.close()
    assert not any(thread.is_alive() for thread in started)
    forward.close()  # idempotent
    with pytest.raises(RuntimeError, match="OnnxForward is closed"):
        forward(inputs.numpy())
    with pytest.raises(RuntimeError, match="OnnxForward is closed"):
        forward.prepare(1)


def test_an_estimator_closes_its_runtime_when_a_with_block_fails(reference, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDITE_POSE_CACHE", str(tmp_path))
    model, _, _ = reference
    image = np.zeros((64, 64, 3), np.uint8)
    before = set(threading.enumerate())
    with pytest.raises(KeyError), TopDownEstimator(model, device="cpu", runtime="onnx") as estimator:
        estimator(image, np.array([[0.0, 0.0, 30.0, 60.0], [20.0, 0.0, 50.0, 60.0]]))
        started = _new_threads(before, "onnx-")
        raise KeyError("boom")
    assert started and not any(thread.is_alive() for thread in started)


def test_two_threads_exporting_the_same_model_at_once_both_get_it(reference, tmp_path) -> None:
    """The background runtime trials export while the app builds its first runtime: torch's exporter keeps
    global state, so concurrent exports failed ("GLOBALS.in_onnx_export must be False")."""
    model, _, _ = reference
    start, results, errors = threading.Barrier(2), [], []

    def export() -> None:
        start.wait()
        try:
            results.append(cached_export_path(model, tmp_path))
        except Exception as error:  # recorded for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=export) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and len(set(results)) == 1 and len(list(tmp_path.glob("*.onnx"))) == 1
