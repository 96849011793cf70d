"""End-to-end pose fps and model ms per batch on a CUDA GPU (pose/runtime_cuda.py), in one run.

    python tests/benchmarks/cuda_fps.py [--model edite_hrnet_s] [--input 128 96] [--weights FILE]
        [--people 1 6] [--frames 300] [--compile]

Prints, for the model alone (median ms per batch of 2 and 12 crops: 1 and 6 people with flip): float32
eager, float16 channels-last, and float16 channels-last with CUDA graphs (and torch.compile
``mode="reduce-overhead"`` with ``--compile``); then the end-to-end fps at each people count: frame upload,
crops cut on the GPU, flipped copies, the graphed model, flip-averaging, decoding and mapping back to image
pixels (no detector: the boxes are fixed, as after a detection; no drawing). It also checks on the device
that the GPU crops match the cv2 crops and that the float16 graphed keypoints match float32 eager ones.
``--device cpu`` runs the same code without graphs or float16 (to check the script, not to time it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pose.codecs import average_with_flipped, decode_heatmaps
from pose.models.registry import create_model
from pose.runtime_cuda import GraphedForward, crop_theta, gpu_crops
from pose.transforms import (
    PADDING,
    box_to_center_size,
    crop_matrices,
    heatmap_to_image,
    normalize_crops,
    warp_crops,
)

FRAME = Path(__file__).resolve().parents[1] / "data" / "vtest_frame100.jpg"


def boxes_for(people: int, width: int = 1280, height: int = 720) -> np.ndarray:
    """``(people, 4)`` person-shaped boxes side by side across a ``width`` x ``height`` frame."""
    step = width / people
    return np.array([[i * step + 0.2 * step, 0.15 * height, i * step + 0.8 * step, 0.95 * height]
                     for i in range(people)])


def synchronised_ms(run, repeats: int, device: torch.device) -> float:
    """Median wall milliseconds of ``run()`` with the GPU synchronised before and after each call."""
    for _ in range(5):
        run()
    seconds = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="edite_hrnet_s")
    parser.add_argument("--input", nargs=2, type=int, default=[128, 96], metavar=("H", "W"))
    parser.add_argument("--weights", help="checkpoint (default: random weights; the cost does not change)")
    parser.add_argument("--people", nargs="+", type=int, default=[1, 6])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--compile", action="store_true", help="also torch.compile(mode='reduce-overhead')")
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:
        print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    torch.manual_seed(0)
    input_hw = tuple(args.input)
    model = create_model(args.model, weights=args.weights, input_size=input_hw).eval()
    spec = model.spec
    frame = cv2.resize(cv2.imread(str(FRAME)), (1280, 720))

    # Correctness on the device: GPU crops vs cv2 crops; float16 graphed vs float32 eager keypoints.
    boxes = boxes_for(3)
    centers, sizes = box_to_center_size(boxes, spec.aspect_ratio, PADDING)
    matrices = crop_matrices(centers, sizes, input_hw)
    reference_crops = normalize_crops(warp_crops(frame, matrices, input_hw), spec.mean, spec.std)
    image = torch.from_numpy(frame).to(device)
    theta = torch.from_numpy(crop_theta(matrices, frame.shape[:2], input_hw)).to(device)
    crops = gpu_crops(image, theta, input_hw, spec.mean, spec.std)
    difference = np.abs(crops.float().cpu().numpy() - reference_crops).mean()
    print(f"GPU crops vs cv2 crops: mean abs difference {difference:.4f} (normalised units; one uint8 step "
          "is about 0.017)")
    fast = GraphedForward(model, device)
    eager = model.to(device)
    with torch.inference_mode():
        expected, _ = decode_heatmaps(eager(crops.float()).float().cpu().numpy())
        actual, _ = decode_heatmaps(fast(crops).float().cpu().numpy())
    moved = np.linalg.norm(actual - expected, axis=-1)
    graphed = "graphed " if fast.graphs else ""
    print(f"{fast.dtype} {graphed}vs float32 eager: keypoints moved > 0.5 heatmap px: "
          f"{(moved > 0.5).mean():.1%}, largest {moved.max():.2f} px")

    print(f"\nmodel alone, {args.model} {input_hw[0]}x{input_hw[1]}, median ms per batch")
    variants = {"float32 eager": lambda x: eager(x.float())}
    variants[f"{fast.dtype} channels-last"] = GraphedForward(model, device, graphs=False)
    if cuda:
        variants["float16 channels-last, CUDA graphs"] = fast
    if args.compile:
        compiled = torch.compile(GraphedForward(model, device, graphs=False).module, mode="reduce-overhead")
        variants["float16 torch.compile reduce-overhead"] = lambda x: compiled(
            x.to(fast.dtype).contiguous(memory_format=torch.channels_last))
    for name, run in variants.items():
        cells = []
        for batch in (2, 12):
            x = torch.randn(batch, 3, *input_hw, device=device)
            with torch.inference_mode():
                cells.append(synchronised_ms(lambda run=run, x=x: run(x), 50, device))
        print(f"  {name:<40} batch 2 {cells[0]:7.2f}   batch 12 {cells[1]:7.2f}", flush=True)

    print(f"\nend to end (upload, GPU crops + flip, model, flip-average, decode, map back), {args.frames} "
          "frames")
    permutation = spec.skeleton.flip_permutation()
    pinned = torch.from_numpy(frame).pin_memory() if cuda else torch.from_numpy(frame)
    for people in args.people:
        centers, sizes = box_to_center_size(boxes_for(people), spec.aspect_ratio, PADDING)
        matrices = crop_matrices(centers, sizes, input_hw)

        def one_frame(people=people, centers=centers, sizes=sizes, matrices=matrices) -> np.ndarray:
            image = pinned.to(device, non_blocking=True)
            theta = torch.from_numpy(crop_theta(matrices, frame.shape[:2], input_hw)).to(device)
            batch = gpu_crops(image, theta, input_hw, spec.mean, spec.std, flip=True, dtype=fast.dtype)
            heatmaps = fast(batch).float().cpu().numpy()
            averaged = average_with_flipped(heatmaps[:people], heatmaps[people:], permutation)
            coords, _ = decode_heatmaps(averaged)
            return heatmap_to_image(coords, centers, sizes, spec.heatmap_size)

        with torch.inference_mode():
            ms = synchronised_ms(one_frame, args.frames, device)
        print(f"  {people} people ({2 * people} crops): {ms:6.2f} ms per frame, {1000.0 / ms:7.1f} fps",
              flush=True)


if __name__ == "__main__":
    main()
