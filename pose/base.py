"""What every pose estimator returns and promises: :class:`PoseResult`, the :class:`Estimator` protocol and
its :class:`RuntimeInfo`, plus :class:`Closeable`, the ``close()`` / ``with`` behaviour of everything that
owns threads or sessions.

numpy only, so the app and test fakes can name the contract without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from pose.models.spec import ModelSpec


@dataclass(frozen=True)
class PoseResult:
    """Keypoints for N people.

    Attributes:
        keypoints: ``(N, K, 2)`` float32, image pixels, x right, y down.
        scores: ``(N, K)`` float32 heatmap maxima (about 0..1; <= 0 means the map had no peak).
    """

    keypoints: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        n, k = self.scores.shape
        if self.keypoints.shape != (n, k, 2):
            raise ValueError(f"keypoints {self.keypoints.shape} do not match scores {self.scores.shape}")

    def __len__(self) -> int:
        return len(self.scores)


@dataclass(frozen=True)
class RuntimeInfo:
    """How an estimator's model runs now, for display.

    Attributes:
        name: the runtime (:data:`pose.runtime.RUNTIMES`, ``"auto"`` resolved), e.g. ``"openvino-bf16"``.
        ms_per_crop: milliseconds per crop measured when it was chosen on this machine; None when the
            runtime was forced or is a first guess.
        tuning: True while the runtimes are being timed in the background (``name`` is the first guess).
    """

    name: str
    ms_per_crop: float | None = None
    tuning: bool = False


class Closeable:
    """Mixin for objects that own threads, sessions or models: :meth:`close` frees them once (later calls do
    nothing), ``with obj:`` closes on leaving, even on an exception. Subclasses free their resources in
    ``_close`` and call ``_ensure_open`` where using a closed object must fail."""

    _closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Free what this object owns; idempotent."""
        if not self._closed:
            self._closed = True
            self._close()

    def _close(self) -> None:
        """Free the resources (called once, by :meth:`close`)."""
        raise NotImplementedError

    def _ensure_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"this {type(self).__name__} is closed: build a new one")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@runtime_checkable
class Estimator(Protocol):
    """Turns (image, person boxes) into keypoints: what the app's pipeline calls.

    :class:`pose.estimator.TopDownEstimator` is the implementation; tests pass fakes, and check with
    ``isinstance(fake, Estimator)`` that they have every member named here.

    Attributes:
        spec: the model's facts; the app reads ``spec.name`` and ``spec.skeleton`` (the keypoint set).
        device: where it runs, as torch names it: ``"cpu"``, ``"cuda"``, ``"cuda:1"``.
        flip: average with the mirrored crops; the app switches it between frames.
        half: float16 inference.
        runtime: how the model runs now (it may change once, when background trials end).
    """

    flip: bool

    @property
    def spec(self) -> ModelSpec: ...

    @property
    def device(self) -> str: ...

    @property
    def half(self) -> bool: ...

    @property
    def runtime(self) -> RuntimeInfo: ...

    def __call__(self, image: np.ndarray, boxes: np.ndarray) -> PoseResult:
        """``image``: ``(H, W, 3)`` BGR uint8; ``boxes``: ``(N, 4)`` float xyxy image pixels, possibly
        reaching outside the image. Returns one pose per box, in box order."""
        ...

    def close(self) -> None:
        """Free the threads, sessions and model copies it owns; idempotent; calls after it raise."""
        ...
