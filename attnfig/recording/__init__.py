"""Capture: running a model and getting its attention (eager `from_model`, model loading)."""
