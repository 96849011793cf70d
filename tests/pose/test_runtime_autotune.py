"""Per-machine runtime choice (pose.runtime_autotune): the pick, the accuracy guard and the cache, with
injected runtimes and a fake clock (no timing is asserted)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from pose import runtime, runtime_autotune
from pose.base import RuntimeInfo
from pose.models.registry import create_model
from pose.runtime_autotune import (
    CACHE_NAME,
    Trial,
    TuningCancelledError,
    autotune,
    cached_choice,
    calibration_crops,
    guard_error,
    pick,
)

KEYPOINTS, HEAT_H, HEAT_W = 17, 32, 24


def _peaks(count: int, seed: int = 0) -> np.ndarray:
    """(count, K, h, w) heatmaps with one Gaussian peak (height 0.9) per map, at seeded interior positions."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:HEAT_H, 0:HEAT_W]
    centres = rng.uniform((4, 4), (HEAT_H - 4, HEAT_W - 4), size=(count, KEYPOINTS, 2))
    squared = (ys - centres[..., 0, None, None]) ** 2 + (xs - centres[..., 1, None, None]) ** 2
    return (0.9 * np.exp(-squared / 8.0)).astype(np.float32)


class FakeClock:
    """perf_counter stand-in that fake forwards advance by their per-crop cost."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeRuntime:
    """Returns ``heatmaps[:len(batch)]`` (shifted right by ``shift`` pixels) and costs ``ms`` per crop."""

    def __init__(self, clock: FakeClock, heatmaps: np.ndarray, ms: float, shift: int = 0) -> None:
        self.clock, self.heatmaps, self.ms, self.shift = clock, heatmaps, ms, shift
        self.prepared: list[int] = []
        self.closed = False

    def prepare(self, size: int) -> None:
        self.prepared.append(size)

    def close(self) -> None:
        self.closed = True

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.clock.now += self.ms * len(batch) / 1000.0
        return np.roll(self.heatmaps[: len(batch)], self.shift, axis=-1)


@pytest.fixture
def tiny() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model("edite_hrnet_tiny").eval()


@pytest.fixture
def fakes(monkeypatch):
    """A builder of fake runtimes with the given (ms per crop, shift), counting how often each is built."""
    clock = FakeClock()
    monkeypatch.setattr(runtime_autotune, "_clock", clock)
    heatmaps = _peaks(6)

    def make(costs: dict[str, tuple[float, int]]):
        built: list[str] = []

        def build(model, name: str):
            built.append(name)
            ms, shift = costs.get(name, (1000.0, 0))  # the reference ("torch") unless given
            return FakeRuntime(clock, heatmaps, ms, shift)

        return build, built

    return make


CROPS = np.zeros((6, 3, 128, 96), np.float32)


def test_pick_takes_the_fastest_accepted_trial() -> None:
    trials = [Trial("onnx", 10.0, 0.0, True), Trial("openvino-bf16", 4.0, 3.0, False, "rejected"),
              Trial("openvino", 8.0, 0.0, True), Trial("torch", None, None, False, "failed: boom")]
    assert pick(trials).runtime == "openvino"
    with pytest.raises(ValueError, match=r"openvino-bf16: rejected.*torch: failed: boom.*--runtime"):
        pick([trials[1], trials[3]])


def test_autotune_picks_the_fastest_runtime_from_injected_timings(tiny, fakes, tmp_path) -> None:
    build, built = fakes({"onnx": (12.0, 0), "openvino": (7.0, 0), "openvino-bf16": (9.0, 0)})
    choice = autotune(tiny, cache=tmp_path, candidates=["onnx", "openvino-bf16", "openvino", "torch"],
                      build=build, crops=CROPS)
    assert choice.runtime == "openvino" and not choice.cached
    assert choice.ms_per_crop == pytest.approx(7.0)
    torch_trial = next(trial for trial in choice.trials if trial.runtime == "torch")
    assert not torch_trial.accepted and "not timed further" in torch_trial.note  # 1000 ms > 3x 7 ms
    assert built[0] == "torch"  # the float32 reference comes first


def test_cancelled_trials_stop_before_the_next_runtime_and_cache_nothing(tiny, fakes, tmp_path) -> None:
    build, built = fakes({"onnx": (12.0, 0), "openvino": (7.0, 0)})
    with pytest.raises(TuningCancelledError, match="stopped after 1 of 3 runtime trials"):
        autotune(tiny, cache=tmp_path, candidates=["onnx", "openvino", "torch"], build=build, crops=CROPS,
                 cancelled=lambda: len(built) >= 2)  # the reference and one trial built
    assert built == ["torch", "onnx"] and cached_choice(tiny, cache=tmp_path) is None


def test_every_runtime_built_is_closed_after_its_trial(tiny, fakes, tmp_path) -> None:
    build, _ = fakes({"onnx": (12.0, 0), "openvino": (7.0, 0)})
    made: list[FakeRuntime] = []

    def recording(model, name: str) -> FakeRuntime:
        made.append(build(model, name))
        return made[-1]

    autotune(tiny, cache=tmp_path, candidates=["onnx", "openvino", "torch"], build=recording, crops=CROPS)
    assert len(made) == 4  # the reference, then one per candidate ("torch" stops early: too slow)
    assert all(runtime.closed for runtime in made)


def test_accuracy_guard_rejects_a_fast_runtime_whose_keypoints_move(tiny, fakes, tmp_path) -> None:
    build, _ = fakes({"onnx": (12.0, 0), "openvino-bf16": (3.0, 2)})
    choice = autotune(tiny, cache=tmp_path, candidates=["onnx", "openvino-bf16"], build=build, crops=CROPS)
    assert choice.runtime == "onnx"
    rejected = next(trial for trial in choice.trials if trial.runtime == "openvino-bf16")
    assert not rejected.accepted and rejected.error > 1.0 and "accuracy guard" in rejected.note


def test_a_runtime_that_fails_to_build_is_skipped(tiny, fakes, tmp_path) -> None:
    build, _ = fakes({"onnx": (12.0, 0)})

    def failing(model, name: str):
        if name == "openvino":
            raise RuntimeError("no such plugin")
        return build(model, name)

    choice = autotune(tiny, cache=tmp_path, candidates=["openvino", "onnx"], build=failing, crops=CROPS)
    assert choice.runtime == "onnx"
    assert choice.trials[0] == Trial("openvino", None, None, False, "failed: no such plugin")


def test_the_choice_is_cached_per_machine_key(tiny, fakes, tmp_path, monkeypatch) -> None:
    build, built = fakes({"onnx": (12.0, 0), "openvino": (7.0, 0)})
    options = {"cache": tmp_path, "candidates": ["onnx", "openvino"], "build": build, "crops": CROPS}
    first = autotune(tiny, **options)
    built.clear()
    again = autotune(tiny, **options)
    assert again.cached and not built and (again.runtime, again.trials) == (first.runtime, first.trials)
    stored = json.loads((tmp_path / CACHE_NAME).read_text())["choices"]
    (entry,) = stored.values()
    assert entry["key"]["cpu"] == runtime_autotune.cpu_name()
    assert entry["key"]["input"] == "x".join(map(str, tiny.spec.input_size))

    with torch.no_grad():  # new weights: a new key, trials again
        tiny.keypoint_head.final_layer.bias.add_(1.0)
    assert not autotune(tiny, **options).cached and built
    built.clear()
    monkeypatch.setattr(runtime_autotune, "_versions", lambda: {"onnxruntime": "0.0"})  # a library update
    assert not autotune(tiny, **options).cached
    assert len(json.loads((tmp_path / CACHE_NAME).read_text())["choices"]) == 3


def test_an_unreadable_cache_is_replaced(tiny, fakes, tmp_path) -> None:
    (tmp_path / CACHE_NAME).write_text("{ not json")
    build, _ = fakes({"onnx": (12.0, 0)})
    choice = autotune(tiny, cache=tmp_path, candidates=["onnx"], build=build, crops=CROPS)
    assert not choice.cached
    assert autotune(tiny, cache=tmp_path, candidates=["onnx"], build=build, crops=CROPS).cached


def test_the_cache_keeps_only_the_newest_choices(tiny, fakes, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(runtime_autotune, "CACHE_KEEP", 2)
    build, _ = fakes({"onnx": (12.0, 0)})
    for threads in (1, 2, 3):
        monkeypatch.setattr(torch, "get_num_threads", lambda threads=threads: threads)
        autotune(tiny, cache=tmp_path, candidates=["onnx"], build=build, crops=CROPS)
    choices = json.loads((tmp_path / CACHE_NAME).read_text())["choices"].values()
    assert [entry["key"]["threads"] for entry in choices] == [2, 3]


def test_guard_error_counts_moved_confident_keypoints() -> None:
    reference = _peaks(4)
    assert guard_error(reference, reference) == 0.0
    moved = reference.copy()
    moved[0, :3] = np.roll(moved[0, :3], 1, axis=-1)  # 3 of 68 keypoints move 1 px: 4.4 % of them
    assert guard_error(reference, moved) == pytest.approx((3 / 68) / 0.05)
    moved[1, :1] = np.roll(moved[1, :1], 1, axis=-1)  # 4 of 68: 5.9 %, over the 5 % allowed
    assert guard_error(reference, moved) > 1.0


def test_guard_error_compares_heatmaps_without_confident_keypoints() -> None:
    reference = 0.01 * _peaks(2)  # scores 0.009 < 0.2
    assert guard_error(reference, reference * 1.04) < 1.0
    assert guard_error(reference, reference * 1.06) > 1.0


def test_calibration_crops_are_the_annotated_people_and_their_mirror_images(tiny, tmp_path) -> None:
    crops = calibration_crops(tiny.spec)
    annotations = runtime_autotune.CALIBRATION_SET / "person_keypoints.json"
    people = len(json.loads(annotations.read_text())["annotations"])
    assert crops.shape == (2 * people, 3, *tiny.spec.input_size) and crops.dtype == np.float32
    np.testing.assert_array_equal(crops[people:], crops[:people, :, :, ::-1])
    assert crops.std() > 0.1  # real image content, not padding
    with pytest.raises(ValueError, match="cannot read the calibration set"):
        calibration_crops(tiny.spec, tmp_path)


def test_select_runtime_autotunes_auto_on_the_cpu_only(tiny, monkeypatch) -> None:
    picked = runtime_autotune.Choice("openvino-bf16", 4.5, (), cached=True)
    monkeypatch.setattr(runtime_autotune, "autotune", lambda model: picked)
    cpu = torch.device("cpu")
    assert runtime.select_runtime(tiny, "auto", cpu) == RuntimeInfo("openvino-bf16", 4.5)
    assert runtime.select_runtime(tiny, "onnx", cpu) == RuntimeInfo("onnx")
    assert runtime.select_runtime(tiny, "eager", cpu) == RuntimeInfo("eager")


def test_openvino_runtimes_need_openvino_and_the_cpu(monkeypatch) -> None:
    from pose import runtime_openvino

    with pytest.raises(ValueError, match="CPU only"):
        runtime.resolve_runtime("openvino-bf16", torch.device("cuda"))
    monkeypatch.setattr(runtime_openvino, "openvino_available", lambda: False)
    with pytest.raises(ValueError, match=r"needs OpenVINO: pip install openvino"):
        runtime.resolve_runtime("openvino", torch.device("cpu"))
