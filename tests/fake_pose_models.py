"""Stand-ins for pose networks that behave like a perfect model, for estimator and evaluation tests.

Both see nothing but their input batch, like a real network. They draw, for every keypoint, a Gaussian at
``crop_position / stride`` (the heatmap convention of MSRA targets), and on a mirrored crop they put the
person's left joints in the right-joint channels, as a network looking at a mirrored person would.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from pose.evaluation import gt_person_boxes
from pose.models.spec import ModelSpec
from pose.transforms import apply_affine, box_to_center_size, crop_matrices, invert_affine, warp_crops


def coordinate_image(height: int, width: int) -> np.ndarray:
    """``(H, W, 3)`` BGR uint8 image whose pixels spell their own position: R = x, G = y, B = 255.

    Width and height must be at most 256 so that the codes are exact.
    """
    if height > 256 or width > 256:
        raise ValueError("a coordinate image is at most 256x256 pixels")
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([np.full_like(xs, 255), ys, xs], axis=-1).astype(np.uint8)


def gaussian_heatmaps(points: np.ndarray, heatmap_hw: tuple[int, int], sigma: float) -> np.ndarray:
    """``(K, h, w)`` float32 Gaussians (peak 1) centred exactly at ``points (K, 2)`` heatmap pixels."""
    ys, xs = np.mgrid[0 : heatmap_hw[0], 0 : heatmap_hw[1]]
    squared = (xs[None] - points[:, 0, None, None]) ** 2 + (ys[None] - points[:, 1, None, None]) ** 2
    return np.exp(-squared / (2 * sigma**2)).astype(np.float32)


class _HeatmapOracle(nn.Module):
    """Shared part: un-normalise the batch, find each crop's keypoints, draw heatmaps."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        self.register_buffer("_anchor", torch.zeros(1))  # follows .to(device, dtype) like real weights
        self.calls: list[tuple[int, ...]] = []
        self._flip_permutation = list(spec.skeleton.flip_permutation())

    def _pixels(self, batch: torch.Tensor) -> np.ndarray:
        """``(B, 3, H, W)`` normalised RGB -> ``(B, H, W, 3)`` float64 RGB on 0..255."""
        mean = torch.tensor(self.spec.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.spec.std).view(1, 3, 1, 1)
        rgb = (batch.float().cpu() * std + mean) * 255.0
        return rgb.permute(0, 2, 3, 1).double().numpy()

    def crop_keypoints(self, rgb: np.ndarray) -> tuple[np.ndarray, bool]:
        """Keypoints ``(K, 2)`` in this crop's pixels and whether the crop is mirrored."""
        raise NotImplementedError

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        self.calls.append(tuple(batch.shape))
        maps = []
        for rgb in self._pixels(batch):
            in_crop, mirrored = self.crop_keypoints(rgb)
            if mirrored:
                in_crop = in_crop[self._flip_permutation]
            spec = self.spec
            maps.append(gaussian_heatmaps(in_crop / spec.stride, spec.heatmap_size, spec.sigma))
        return torch.from_numpy(np.stack(maps)).to(batch.device, batch.dtype)


class CoordinateOracle(_HeatmapOracle):
    """A perfect model for :func:`coordinate_image` frames.

    It reads the image position of every valid crop pixel from the R and G codes (B = 255 marks pixels
    inside the image), fits the crop -> image affine by least squares, picks the person whose centre is
    nearest the crop centre, and draws that person's keypoints where they fall in the crop. It never sees
    the crop matrix the estimator used.

    Args:
        spec: the spec to report (input and heatmap size, sigma, skeleton).
        centers: ``(P, 2)`` one image point per person, used to tell people apart (e.g. box centres).
        keypoints: ``(P, K, 2)`` image pixels of every person's keypoints.
    """

    def __init__(self, spec: ModelSpec, centers: np.ndarray, keypoints: np.ndarray) -> None:
        super().__init__(spec)
        self._centers = np.asarray(centers, dtype=np.float64)
        self._keypoints = np.asarray(keypoints, dtype=np.float64)

    def crop_keypoints(self, rgb: np.ndarray) -> tuple[np.ndarray, bool]:
        height, width = rgb.shape[:2]
        valid = np.round(rgb[..., 2]) == 255
        vs, us = np.nonzero(valid)
        design = np.stack([us, vs, np.ones_like(us)], axis=1).astype(np.float64)
        targets = rgb[vs, us, :2]  # image (x, y) of each valid crop pixel
        solution, *_ = np.linalg.lstsq(design, targets, rcond=None)
        crop_to_image = solution.T  # (2, 3)
        centre = apply_affine(np.array([width / 2, height / 2]), crop_to_image)
        person = int(np.argmin(np.linalg.norm(self._centers - centre, axis=1)))
        in_crop = apply_affine(self._keypoints[person], invert_affine(crop_to_image))
        return in_crop, bool(np.linalg.det(crop_to_image[:, :2]) < 0)


class TemplateOracle(_HeatmapOracle):
    """A perfect model for known people in known images, recognised by comparing crops.

    For every person it cuts the crop the estimator will cut (and its mirror) with :mod:`pose.transforms`;
    each input is matched to the nearest of these templates and gets that person's keypoints.

    Args:
        spec: the spec to report.
        people: ``(image BGR uint8, box (4,) xyxy, keypoints (K, 2) image pixels)`` for each person.
        offset: ``(2,)`` image pixels added to every keypoint, to make an imperfect model.
    """

    def __init__(
        self,
        spec: ModelSpec,
        people: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
        offset: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        super().__init__(spec)
        templates, keypoints = [], []
        for image, box, person_keypoints in people:
            centers, sizes = box_to_center_size(np.asarray(box)[None], spec.aspect_ratio)
            matrix = crop_matrices(centers, sizes, spec.input_size)
            crop = warp_crops(image, matrix, spec.input_size)[0, :, :, ::-1].astype(np.float64)
            in_crop = apply_affine(np.asarray(person_keypoints) + np.asarray(offset), matrix[0])
            mirrored = in_crop.copy()
            mirrored[:, 0] = spec.input_size[1] - 1 - mirrored[:, 0]
            templates += [(crop, False), (crop[:, ::-1], True)]
            keypoints += [in_crop, mirrored]
        self._templates = templates
        self._keypoints = keypoints

    def crop_keypoints(self, rgb: np.ndarray) -> tuple[np.ndarray, bool]:
        distances = [np.abs(rgb - template).mean() for template, _ in self._templates]
        best = int(np.argmin(distances))
        return self._keypoints[best], self._templates[best][1]


def coco_file_oracle(
    spec: ModelSpec, ann_file: str | Path, images_dir: str | Path, offset: tuple[float, float] = (0.0, 0.0)
) -> TemplateOracle:
    """A :class:`TemplateOracle` that knows every ground-truth person of a COCO-format file."""
    dataset = json.loads(Path(ann_file).read_text())
    annotations = {annotation["id"]: annotation for annotation in dataset["annotations"]}
    people = []
    for entry in gt_person_boxes(dataset):
        image = cv2.imread(str(Path(images_dir) / entry.file_name))
        for box, annotation_id in zip(entry.boxes, entry.annotation_ids, strict=True):
            labels = np.asarray(annotations[int(annotation_id)]["keypoints"], dtype=np.float64).reshape(-1, 3)
            people.append((image, box, labels[:, :2]))
    return TemplateOracle(spec, people, offset)
