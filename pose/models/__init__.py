"""Pose models: the registry, the model type and its spec, and checkpoint I/O."""

from pose.models.checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    file_sha256,
    load_weights,
    read_checkpoint_meta,
    save_checkpoint,
)
from pose.models.layers import PoseModel
from pose.models.registry import create_model, list_models, with_skeleton
from pose.models.spec import ModelSpec, PaperFigures

__all__ = [
    "CheckpointError",
    "CheckpointMismatchError",
    "ModelSpec",
    "PaperFigures",
    "PoseModel",
    "create_model",
    "file_sha256",
    "list_models",
    "load_weights",
    "read_checkpoint_meta",
    "save_checkpoint",
    "with_skeleton",
]
