"""``main.py info``: measured complexity beside the paper's figures, JSON last line, usage errors (issue 2).

Runs in-process (``main.main``) to avoid re-importing torch per test; one timed run with ``--threads 1``
keeps it fast (timings are reported, never asserted).
"""

from __future__ import annotations

import json

import pytest

import main
from app.core.weights import checkpoint_input_size, default_weights
from pose.models import create_model
from pose.models.complexity import count_macs, count_parameters

FAST = ["--repeats", "1", "--warmup", "0", "--threads", "1", "--runtime", "torch"]


def _info(capsys, *args: str) -> tuple[int, str, str]:
    code = main.main(["info", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_last_line_reports_the_measured_counts(capsys):
    code, out, _ = _info(capsys, "--model", "edite_hrnet_tiny", "--input", "128x96", "--json", *FAST)
    assert code == 0
    report = json.loads(out.strip().splitlines()[-1])
    model = create_model("edite_hrnet_tiny")
    assert report["model"] == "edite_hrnet_tiny"
    assert report["input"] == "128x96"
    assert report["params"] == count_parameters(model)
    assert report["params_m"] == round(count_parameters(model) / 1e6, 4)
    assert report["gflops"] == round(count_macs(model, (128, 96)) / 1e9, 4)
    assert report["latency_ms"] > 0
    assert report["threads"] == 1
    assert report["paper_params_m"] is None and report["paper_gflops"] is None


def test_paper_figures_are_shown_beside_ours_with_the_counting_note(capsys):
    code, out, _ = _info(capsys, "--model", "edite_hrnet_s", "--input", "256x192", "--json", *FAST)
    assert code == 0
    report = json.loads(out.strip().splitlines()[-1])
    assert (report["params"], report["paper_params_m"], report["paper_gflops"]) == (1_315_197, 1.3, 0.2)
    assert report["gflops"] == pytest.approx(0.31, rel=0.1)
    text = out.strip().splitlines()[:-1]
    assert any(line.startswith("parameters") and "1.315 M" in line and "1.3 M" in line for line in text)
    assert any("truncate" in line and "count each module once" in line for line in text)


def test_without_input_the_shipped_weights_size_is_measured(capsys):
    """The app runs shipped weights at the size recorded in them, so that is what info times by default."""
    recorded = checkpoint_input_size(default_weights("edite_hrnet_s"))
    assert recorded is not None and recorded != create_model("edite_hrnet_s").spec.input_size
    code, out, _ = _info(capsys, "--model", "edite_hrnet_s", "--json", *FAST)
    assert code == 0
    report = json.loads(out.strip().splitlines()[-1])
    assert report["input"] == f"{recorded[0]}x{recorded[1]}"
    assert report["gflops"] == round(count_macs(create_model("edite_hrnet_s"), recorded) / 1e9, 4)


def test_the_runtime_line_shows_the_machine_choice(capsys, monkeypatch):
    from pose import runtime_autotune
    from pose.runtime_autotune import Choice, Trial

    trials = (Trial("onnx", 12.5, 0.0, True), Trial("openvino-bf16", 4.25, 0.2, True))
    choice = Choice("openvino-bf16", 4.25, trials, True)
    monkeypatch.setattr(runtime_autotune, "autotune", lambda model: choice)
    fast = FAST[:-2]  # --runtime auto (the default)
    code, out, _ = _info(capsys, "--model", "edite_hrnet_tiny", "--input", "128x96", "--json", *fast)
    assert code == 0
    report = json.loads(out.strip().splitlines()[-1])
    assert (report["runtime"], report["runtime_ms_per_crop"]) == ("openvino-bf16", 4.25)
    line = next(line for line in out.splitlines() if line.startswith("runtime"))
    assert "openvino-bf16: 4.2 ms per crop (chosen on this machine, cached; onnx 12.5" in line


def test_a_forced_runtime_is_timed_on_the_calibration_crops(capsys):
    code, out, _ = _info(capsys, "--model", "edite_hrnet_tiny", "--input", "128x96", "--json", *FAST)
    assert code == 0
    report = json.loads(out.strip().splitlines()[-1])
    assert report["runtime"] == "torch" and report["runtime_ms_per_crop"] > 0
    line = next(line for line in out.splitlines() if line.startswith("runtime"))
    assert line.startswith("runtime      torch:") and "forced by --runtime" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "edite_hrnet_x"], "unknown model 'edite_hrnet_x'; choose one of: "),
        (["--model", "edite_hrnet_tiny", "--input", "256by192"], "--input '256by192' is not HxW"),
        (["--model", "edite_hrnet_tiny", "--input", "250x192"], "must be a multiple of 32"),
        (["--model", "edite_hrnet_tiny", "--input", "0x0"], "each at least 64"),
        (["--model", "edite_hrnet_tiny", "--input", "32x32"], "each at least 64"),
        (["--model", "edite_hrnet_tiny", "--device", "tpu"], "device 'tpu' is not available"),
    ],
)
def test_bad_arguments_give_one_error_line_and_exit_2(capsys, args, message):
    code, out, err = _info(capsys, *args, *FAST)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_runtime_choices_are_the_pose_runtimes():
    from app.core.cli.info import RUNTIME_CHOICES
    from pose.runtime import RUNTIMES

    assert sorted(RUNTIME_CHOICES) == sorted(RUNTIMES)
