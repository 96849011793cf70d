"""OpenVinoForward's crop workers, against a stand-in ``openvino`` module that records what is compiled and
run (its numerical agreement is checked by ``tests/benchmarks/cpu_backends.py``): shares in order, one model
compiled per share size in the background while the dynamic-batch model runs, every share started at once
on its own request by the calling thread."""

from __future__ import annotations

import sys
import threading
import types
from typing import ClassVar

import numpy as np
import pytest
import torch

from pose.models.registry import create_model
from pose.runtime_openvino import OpenVinoForward


class FakeRequest:
    """Heatmaps whose every value is the crop's mean; checks that the batch has the compiled size, that a
    request is not started while it runs, and records each call with its thread in ``FakeCore.calls``."""

    def __init__(self, compiled: FakeCompiled) -> None:
        self.compiled = compiled
        self.output: np.ndarray | None = None
        self.running = False

    def start_async(self, inputs: dict[int, np.ndarray]) -> None:
        assert not self.running, "a request was started while it ran"
        FakeCore.calls.append(("start", self, threading.current_thread()))
        batch = inputs[0]
        if FakeCore.fail_on_start == len(FakeCore.calls):
            raise RuntimeError("cannot start")
        size = self.compiled.shape[0]
        assert size in (-1, len(batch)), "a share ran on a model compiled for another size"
        assert list(batch.shape[1:]) == self.compiled.shape[1:]
        self.compiled.runs.append(len(batch))
        means = batch.mean(axis=(1, 2, 3))
        out_h, out_w = self.compiled.shape[2] // 4, self.compiled.shape[3] // 4
        self.output = np.broadcast_to(means[:, None, None, None], (len(batch), 17, out_h, out_w))
        self.running = True

    def wait(self) -> None:
        FakeCore.calls.append(("wait", self, threading.current_thread()))
        self.running = False

    def get_output_tensor(self, index: int) -> types.SimpleNamespace:
        assert index == 0 and not self.running
        return types.SimpleNamespace(data=self.output)


class FakeCompiled:
    def __init__(self, shape: list[int], settings: dict) -> None:
        self.shape, self.settings, self.runs = shape, settings, []

    def create_infer_request(self) -> FakeRequest:
        return FakeRequest(self)


class FakeTensor:
    """Records each ``data`` read, with its thread, in ``FakeCore.calls``."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    @property
    def data(self) -> np.ndarray:
        FakeCore.calls.append(("data", self, threading.current_thread()))
        return self.array


class FakeNetwork:
    def reshape(self, shapes: dict[str, list[int]]) -> None:
        self.shape = shapes["x"]


class FakeCore:
    compiled: ClassVar[list[FakeCompiled]] = []
    release: ClassVar[threading.Event | None] = None
    """When set to an Event, compiles of a fixed batch size wait for it (a slow compile)."""
    calls: ClassVar[list[tuple[str, FakeRequest, threading.Thread]]] = []
    fail_on_start: ClassVar[int | None] = None
    """The request call (1-based, in ``calls``) whose ``start_async`` raises."""

    def read_model(self, path: str) -> FakeNetwork:
        assert path.endswith(".onnx")
        return FakeNetwork()

    def compile_model(self, network: FakeNetwork, device: str, settings: dict) -> FakeCompiled:
        assert device == "CPU"
        if network.shape[0] != -1 and FakeCore.release is not None:
            assert FakeCore.release.wait(60)
        FakeCore.compiled.append(FakeCompiled(network.shape, settings))
        return FakeCore.compiled[-1]


@pytest.fixture
def forward(monkeypatch, tmp_path):
    FakeCore.compiled, FakeCore.release, FakeCore.calls, FakeCore.fail_on_start = [], None, [], None
    monkeypatch.setitem(sys.modules, "openvino", types.SimpleNamespace(Core=FakeCore, Tensor=FakeTensor))
    torch.manual_seed(0)
    model = create_model("edite_hrnet_tiny", input_size=(64, 64)).eval()
    with OpenVinoForward(model, precision="bf16", threads=2, cache=tmp_path) as forward:
        yield forward


def test_crops_are_shared_over_workers_in_order(forward) -> None:
    batch = np.arange(5, dtype=np.float32)[:, None, None, None] * np.ones((5, 3, 64, 64), np.float32)
    heatmaps = forward(batch)
    assert heatmaps.shape == (5, 17, 16, 16)
    np.testing.assert_allclose(heatmaps[:, 0, 0, 0], np.arange(5))  # shares of 3 and 2, joined in order
    forward.prepare(5)
    np.testing.assert_allclose(forward(batch)[:, 0, 0, 0], np.arange(5))  # on the models of sizes 3 and 2
    assert sorted(compiled.shape[0] for compiled in FakeCore.compiled) == [-1, 2, 3]
    settings = FakeCore.compiled[0].settings
    assert settings == {"INFERENCE_PRECISION_HINT": "bf16", "NUM_STREAMS": 2, "INFERENCE_NUM_THREADS": 2}


def test_models_are_compiled_once_per_share_size(forward) -> None:
    forward.prepare(4)  # two shares of 2
    assert [compiled.shape[0] for compiled in FakeCore.compiled] == [-1, 2]
    forward(np.zeros((4, 3, 64, 64), np.float32))
    forward.prepare(1)
    forward(np.zeros((1, 3, 64, 64), np.float32))
    forward.prepare(4)
    assert [compiled.shape[0] for compiled in FakeCore.compiled] == [-1, 2, 1]
    assert FakeCore.compiled[1].runs == [2, 2] and FakeCore.compiled[2].runs == [1]


def test_a_new_share_size_runs_at_once_on_the_dynamic_model_while_its_own_compiles(forward) -> None:
    FakeCore.release = threading.Event()
    batch = np.ones((2, 3, 64, 64), np.float32)
    assert forward(batch).shape == (2, 17, 16, 16)  # shares of 1 and 1: no wait for the compile
    (generic,) = FakeCore.compiled
    assert generic.shape[0] == -1 and generic.runs == [1, 1]
    FakeCore.release.set()
    forward.prepare(2)
    forward(batch)
    assert [compiled.shape[0] for compiled in FakeCore.compiled] == [-1, 1]
    assert generic.runs == [1, 1] and FakeCore.compiled[1].runs == [1, 1]


def test_an_empty_batch_gives_no_heatmaps(forward) -> None:
    assert forward(np.zeros((0, 3, 64, 64), np.float32)).shape == (0, 17, 16, 16)
    assert [compiled.runs for compiled in FakeCore.compiled] == [[]]


def test_building_makes_openvinos_first_data_call_before_any_request(forward) -> None:
    assert [call for call, _, _ in FakeCore.calls] == ["data"]  # made by the fixture's constructor
    assert FakeCore.calls[0][2] is threading.current_thread()


def test_shares_start_together_on_their_own_requests_from_the_calling_thread(forward) -> None:
    forward.prepare(4)
    FakeCore.calls.clear()
    threads_before = set(threading.enumerate())
    forward(np.zeros((4, 3, 64, 64), np.float32))  # two shares of 2
    assert [call for call, _, _ in FakeCore.calls] == ["start", "start", "wait", "wait"]
    first, second = (request for call, request, _ in FakeCore.calls[:2])
    assert first is not second and first.compiled is second.compiled
    assert {thread for _, _, thread in FakeCore.calls} == {threading.current_thread()}
    assert set(threading.enumerate()) == threads_before  # no worker threads of ours


def test_a_share_that_cannot_start_leaves_no_request_running(forward) -> None:
    forward.prepare(4)
    FakeCore.calls.clear()
    FakeCore.fail_on_start = 2  # the second share's start_async
    with pytest.raises(RuntimeError, match="cannot start"):
        forward(np.zeros((4, 3, 64, 64), np.float32))
    assert [call for call, _, _ in FakeCore.calls] == ["start", "start", "wait"]
    FakeCore.fail_on_start = None
    np.testing.assert_allclose(forward(np.ones((4, 3, 64, 64), np.float32)), 1.0)  # both requests start again


def test_a_closed_forward_refuses_calls(forward) -> None:
    forward.close()
    with pytest.raises(RuntimeError, match="OpenVinoForward is closed"):
        forward(np.zeros((1, 3, 64, 64), np.float32))


def test_unknown_precision_is_an_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown OpenVINO precision 'int4'"):
        OpenVinoForward(create_model("edite_hrnet_tiny"), precision="int4", cache=tmp_path)
