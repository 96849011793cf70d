"""Person detectors: boxes only, expanded to the 3:4 aspect of the pose model."""
