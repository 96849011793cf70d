"""Distillation: pseudo-label real footage with an offline teacher (MediaPipe BlazePose), write a COCO-format
dataset with heavy offline augmentation, and train EDite-HRNet on it with the ordinary training engine.

Modules: ``mapping`` (BlazePose-33 -> COCO-17, visibility threshold), ``teacher`` (the MediaPipe teacher,
imported lazily), ``proposals`` (one label per person: windows, masking, de-duplication), ``augment``
(colour, blur, noise, occlusion, background replacement), ``dataset`` (COCO-format writer and the
video-split dataset builder). Nothing here imports torch, so labelling runs in an environment that has
MediaPipe but no torch.
"""
