"""The model to train: a registered architecture with a head for the dataset's keypoint set."""

from __future__ import annotations

from pose.models.checkpoint import EPOCHS_IN_ALL_KEY, load_weights, read_checkpoint_meta
from pose.models.layers import PoseModel
from pose.models.registry import create_model, with_skeleton
from pose.skeleton import SKELETONS
from pose.train.config import TrainConfig


def build_model(config: TrainConfig) -> PoseModel:
    """``[model] name`` at ``[model] input_size``, predicting ``[data] skeleton``, in train mode.

    The registry builds COCO-17 models; for another keypoint set the final 1x1 heatmap conv is replaced
    (see :func:`with_skeleton`). ``[model] weights`` are loaded after that, so they must have been
    trained for the same keypoint set.
    """
    model = create_model(config.model.name, input_size=config.model.input_size)
    model = with_skeleton(model, SKELETONS[config.data.skeleton])
    if config.model.weights:
        load_weights(model, config.model.weights)
    return model.train()


def epochs_before(config: TrainConfig) -> int | None:
    """The epochs ``[model] weights`` were trained in all before this run: 0 without weights (from scratch),
    what the file records (:data:`~pose.models.checkpoint.EPOCHS_IN_ALL_KEY`), None where it records none."""
    if not config.model.weights:
        return 0
    recorded = read_checkpoint_meta(config.model.weights).get(EPOCHS_IN_ALL_KEY)
    return recorded if isinstance(recorded, int) else None
