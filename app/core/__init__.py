"""Qt-free application core: sources, pipeline, tracking, smoothing, rendering, sinks and the CLI."""
