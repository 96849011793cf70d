"""Training and its evaluation protocol (Lite/Dite/EDite-HRNet recipe, mmpose 0.16 behaviour).

Modules: ``config`` (defaults + TOML overrides), ``datasets`` (COCO-format samples), ``augmentation``
(flip, photo edge, half-body, scale/rotation, crop, targets), ``photometric`` (occlusion, colour, blur,
noise, low resolution), ``loader`` (resumable DataLoader), ``loss``, ``schedule``, ``model_setup``, ``state``
(resumable checkpoints), ``scalars`` (CSV / TensorBoard), ``validation``, ``averaging`` (mean of the last
epochs), ``mpii`` (MPII -> COCO converter) and ``engine`` (the loop: ``train(config, RunOptions) ->
TrainResult``).
Only ``app.core.cli`` imports this package.
"""
