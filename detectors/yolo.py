"""ultralytics YOLO as a person detector. `ultralytics` is imported only when a detector is built.

Where the weights come from:
1. a model config such as "yolo11n.yaml": built with random weights (tests and benchmarks; finds nothing);
2. `weights` given (the user's `--detector-weights`): that file, as given or inside the weights directory;
   an official asset name ("yolo11s.pt", ...) not on disk is downloaded there when the network answers;
3. no `weights`: ultralytics' `yolo11n.pt` in the weights directory (ultralytics' own cache by default),
   downloaded there when the network answers. Never a file of that name in the current folder.
Every `.pt` file is hash-checked before ultralytics unpickles it (`detectors.trusted_weights`): official
releases and ONNX exports load, anything else only with `trust_weights` (`--trust-weights`). A refused file
the user named raises `UntrustedWeightsError`, and a named file that is neither on disk nor an official name
`DetectorWeightsNotFoundError` (a typo to fix, not a reason to use another detector); when nothing can be
loaded otherwise (offline, an unreadable file, an unlisted cached file) construction raises
`DetectorUnavailableError` with one line saying what is missing and what to do. Offline is detected up
front by ultralytics' DNS probe (`is_online`, which honours YOLO_OFFLINE=1), and a download is tried once
without retries, so the failure is quick instead of ultralytics' 5 + 10 + 20 s retry back-off.

Detection models give person boxes of class "person"; pose models (YOLO11n-pose) are used for their person
boxes only.

On the CPU, `.pt` weights run as an OpenVINO export when the `openvino` package is installed (runtime
"auto"; `detectors.yolo_openvino`), several times faster than torch; torch runs them on CUDA, when the export
fails (one warning line), and when runtime "torch" is asked for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from detectors.base import Detections, DetectorUnavailableError, DetectorWeightsNotFoundError, check_bgr_image
from detectors.trusted_weights import UntrustedWeightsError, load_yolo
from detectors.yolo_openvino import openvino_export, openvino_installed, quiet_ultralytics

logger = logging.getLogger(__name__)

DEFAULT_WEIGHTS = "yolo11n.pt"
DEFAULT_IMAGE_SIZE = 640
"""Network input (longest side, pixels) when none is asked for: ultralytics' own default."""
IMAGE_STRIDE = 32
"""The input size must be a multiple of the network's largest stride."""
_COCO_PERSON = 0
_MODEL_CONFIG_SUFFIXES = (".yaml", ".yml")
PERSON_BOX_TASKS = ("detect", "pose")
"""ultralytics tasks whose boxes are used: detection, and pose models (one class, person)."""
RUNTIMES = ("auto", "torch", "openvino")
"""What runs the network: "auto" is OpenVINO on the CPU for `.pt` weights when it is installed, else torch."""


@dataclass(frozen=True)
class YoloConfig:
    """Settings of the YOLO person detector.

    Attributes:
        weights: the weights the user named: a .pt/.onnx path, an official asset name, or a model .yaml
            (a Path is accepted and stored as str); None: ultralytics' cached `yolo11n.pt`.
        confidence: minimum person score in [0, 1].
        iou: IoU above which NMS drops the weaker of two person boxes.
        image_size: longest side, in pixels, of the letterboxed network input (a multiple of 32); None:
            :data:`DEFAULT_IMAGE_SIZE` (the factory gives the bundled YOLO11n-pose more, to find small
            people).
        device: "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N"; the pose model's device.
        half: run in float16 on CUDA (ignored on CPU).
        weights_dir: where official weights are looked for and downloaded; None means ultralytics' setting.
        trust_weights: load a `.pt` file whose SHA-256 is not an official release (it runs code when
            unpickled); the user's `--trust-weights`.
        runtime: one of :data:`RUNTIMES`; "openvino" needs the CPU, `.pt` weights and the `openvino`
            package, and fails construction (ValueError) without them.
        export_dir: where OpenVINO exports are kept between runs; None: a temporary folder of this
            process (exported again by the next one).
    """

    weights: str | None = None
    confidence: float = 0.5
    iou: float = 0.7
    image_size: int | None = None
    device: str = "auto"
    half: bool = True
    weights_dir: str | Path | None = None
    trust_weights: bool = False
    runtime: str = "auto"
    export_dir: str | Path | None = None

    def __post_init__(self) -> None:
        if self.weights is not None:  # paths and names alike, as ultralytics does
            object.__setattr__(self, "weights", str(self.weights))
        if self.runtime not in RUNTIMES:
            raise ValueError(f"unknown detector runtime '{self.runtime}': use one of {', '.join(RUNTIMES)}")
        if self.image_size is not None and (self.image_size < IMAGE_STRIDE or self.image_size % IMAGE_STRIDE):
            raise ValueError(f"detector input size must be a positive multiple of {IMAGE_STRIDE} pixels, got "
                             f"{self.image_size}")

    @property
    def input_size(self) -> int:
        """The network input's longest side in pixels: ``image_size``, else :data:`DEFAULT_IMAGE_SIZE`."""
        return self.image_size or DEFAULT_IMAGE_SIZE

    @property
    def weights_name(self) -> str:
        """The file or asset name asked for: `weights`, else the default `yolo11n.pt`."""
        return self.weights or DEFAULT_WEIGHTS


def resolve_device(device: str) -> str:
    """The torch device to run on: "auto" means "cuda" when torch sees a GPU, else "cpu".

    "cpu", "cuda" and "cuda:N" pass through; CUDA asked for on a machine without it is a ValueError.
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit()):
        if not torch.cuda.is_available():
            raise ValueError(f"device '{device}' asked for, but torch sees no CUDA GPU: use 'auto' or 'cpu'")
        return device
    raise ValueError(f"unknown device '{device}': use 'auto', 'cpu', 'cuda' or 'cuda:N'")


def weights_directory(config: YoloConfig) -> Path:
    """Where official weights live: `config.weights_dir`, else ultralytics' `weights_dir` setting."""
    if config.weights_dir is not None:
        return Path(config.weights_dir)
    from ultralytics.utils import SETTINGS

    return Path(SETTINGS["weights_dir"])


def locate_weights(config: YoloConfig) -> Path | None:
    """The local weights file to load, or None: the named file (as given, else in the weights directory);
    with no name, the default in the weights directory only (never the current folder)."""
    if config.weights is None:
        candidates = [weights_directory(config) / DEFAULT_WEIGHTS]
    else:
        given = Path(config.weights).expanduser()
        candidates = [given, weights_directory(config) / given.name]
    return next((candidate for candidate in candidates if candidate.is_file()), None)


def _download_official(config: YoloConfig) -> Path:
    """Fetch an official ultralytics asset into the weights directory (one try) or raise."""
    from ultralytics.utils import is_online
    from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES, attempt_download_asset

    name = config.weights_name
    directory = weights_directory(config)
    if name not in GITHUB_ASSETS_NAMES:
        raise DetectorWeightsNotFoundError(
            f"YOLO weights '{name}' not found (looked as given and in {directory}): pass the path of an "
            f"existing weights file or an official name such as '{DEFAULT_WEIGHTS}'"
        )
    if not is_online():
        raise DetectorUnavailableError(
            f"YOLO weights '{name}' are not on this machine and cannot be downloaded (offline): "
            f"copy {name} into {directory} or pass a local weights file"
        )
    target = directory / name
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("downloading YOLO weights %s to %s", name, target)
    try:
        attempt_download_asset(target, retry=0)
    except OSError as error:  # ConnectionError and friends: the network went away mid-way
        raise DetectorUnavailableError(f"YOLO weights '{name}' could not be downloaded: {error}") from error
    if not target.is_file():
        raise DetectorUnavailableError(f"YOLO weights '{name}' could not be downloaded to {target}")
    return target


def _load_model(config: YoloConfig) -> tuple[Any, Path | None]:
    """The ultralytics YOLO model `config` asks for (see the module docstring), and its weights file (None
    for a model config)."""
    if config.weights_name.endswith(_MODEL_CONFIG_SUFFIXES):
        from ultralytics import YOLO

        return YOLO(config.weights_name), None
    path = locate_weights(config) or _download_official(config)
    try:
        return load_yolo(path, trust=config.trust_weights), path
    except UntrustedWeightsError as error:
        if config.weights is not None:  # the user named this file: refusing it is their decision to make
            raise
        raise DetectorUnavailableError(f"{error}; not loaded") from error
    except (OSError, RuntimeError, TypeError, ValueError) as error:  # what ultralytics raises on bad files
        raise DetectorUnavailableError(f"YOLO weights '{path}' could not be loaded: {error}") from error


def _person_class(names: dict[int, str]) -> int:
    """Index of the "person" class in the model's class names; COCO's 0 when the names do not say."""
    for index, name in names.items():
        if name == "person":
            return index
    return _COCO_PERSON


def _precision_overrides() -> dict[str, Any]:
    """ultralytics' float16 switch: `quantize=16` since 8.4 (which deprecates it), `half=True` before."""
    from ultralytics.cfg import DEFAULT_CFG_DICT

    return {"quantize": 16} if "quantize" in DEFAULT_CFG_DICT else {"half": True}


class YoloDetector:
    """Person boxes from an ultralytics detection model.

    Raises DetectorUnavailableError from the constructor when the model cannot be had (see module docstring).
    """

    name = "yolo"
    is_fallback = False

    def __init__(self, config: YoloConfig | None = None, notice: str | None = None) -> None:
        self.config = config or YoloConfig()
        self.notice = notice
        self.device = resolve_device(self.config.device)
        self._model, weights = _load_model(self.config)
        if self._model.task not in PERSON_BOX_TASKS:
            name, task = self.config.weights_name, self._model.task
            raise ValueError(f"YOLO weights '{name}' are a {task} model, not detect or pose")
        self._person_class = _person_class(self._model.names)
        exported = self._openvino_model(weights) if self._wants_openvino(weights) else None
        self.runtime = "torch" if exported is None else "openvino"
        self._model = exported or self._model
        fp16 = self.config.half and self.device.startswith("cuda")
        self._overrides: dict[str, Any] = {
            "conf": self.config.confidence,
            "iou": self.config.iou,
            "imgsz": self.config.input_size,
            "classes": [self._person_class],
            "device": self.device,
            "verbose": False,
            **(_precision_overrides() if fp16 else {}),
        }
        random_weights = self.config.weights_name.endswith(_MODEL_CONFIG_SUFFIXES)
        runs_on = [self.device] + ["OpenVINO"] * (self.runtime == "openvino") + ["fp16"] * fp16
        details = ["random weights"] * random_weights + runs_on
        boxes = f" person boxes at {self.config.input_size} px" if self._model.task == "pose" else ""
        self.description = f"YOLO {Path(self.config.weights_name).name}{boxes} ({', '.join(details)})"

    def _wants_openvino(self, weights: Path | None) -> bool:
        """Whether to export to OpenVINO: "auto" on the CPU for `.pt` weights when it is installed;
        "openvino" always, and a ValueError naming what is missing when it cannot be had."""
        missing = [reason for reason, lacking in (
            (f"the CPU (the device is {self.device})", self.device != "cpu"),
            (f"`.pt` weights (not {self.config.weights_name})", weights is None or weights.suffix != ".pt"),
            ("the openvino package (pip install openvino)", not openvino_installed()),
        ) if lacking]
        if self.config.runtime == "openvino" and missing:
            raise ValueError(f"detector runtime 'openvino' needs {' and '.join(missing)}; use "
                             "--detector-runtime auto or torch")
        return self.config.runtime != "torch" and not missing

    def _openvino_model(self, weights: Path) -> Any | None:
        """The OpenVINO export of `weights` as an ultralytics model; None (torch runs, with a warning) when
        runtime "auto" could not export them."""
        from ultralytics import YOLO

        export_dir = Path(self.config.export_dir) if self.config.export_dir is not None else None
        try:
            return YOLO(str(openvino_export(weights, export_dir, trust=self.config.trust_weights)),
                        task=self._model.task)
        except Exception as error:  # ultralytics' exporter fails with assorted types, AssertionError included
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            if self.config.runtime == "openvino":
                raise RuntimeError(f"exporting {weights.name} to OpenVINO failed ({reason}); use "
                                   "--detector-runtime auto or torch") from error
            logger.warning("detector: exporting %s to OpenVINO failed (%s); running it in torch",
                           weights.name, reason)
            return None

    def __call__(self, image: np.ndarray) -> Detections:
        import torch

        check_bgr_image(image)
        threads = torch.get_num_threads()
        with quiet_ultralytics():  # an OpenVINO model announces itself on its first call
            boxes = self._model.predict(image, **self._overrides)[0].boxes
        torch.set_num_threads(threads)  # ultralytics sets os.cpu_count() - 1 on the CPU; keep the app's count
        xyxy = boxes.xyxy.float().cpu().numpy()
        scores = boxes.conf.float().cpu().numpy()
        order = np.argsort(-scores, kind="stable")
        return Detections(xyxy[order], scores[order])
