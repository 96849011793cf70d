"""Heatmap codecs (numpy only): Gaussian targets, decoding, flip-back and flip averaging.

numpy only, so the same code serves torch, ONNX and hand-made test arrays.
"""

from pose.codecs.decode import decode_heatmaps
from pose.codecs.flip import average_with_flipped, flip_back
from pose.codecs.gaussian import encode_heatmaps

__all__ = [
    "average_with_flipped",
    "decode_heatmaps",
    "encode_heatmaps",
    "flip_back",
]
