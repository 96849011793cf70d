"""Training and its evaluation protocol (Lite/Dite/EDite-HRNet recipe, mmpose 0.16 behaviour).

Modules: ``config`` (defaults + TOML overrides), ``datasets`` (COCO-format samples), ``augmentation``
(flip, half-body, scale/rotation, crop, targets), ``loader`` (resumable DataLoader), ``loss``, ``schedule``,
``model_setup``, ``state`` (resumable checkpoints), ``scalars`` (CSV / TensorBoard), ``validation``,
``mpii`` (MPII -> COCO converter) and ``engine`` (the loop: ``train(config, RunOptions) -> TrainResult``).
Only ``app.core.cli`` imports this package.
"""
