"""Recording: attention out of a model (eager `from_model`, `capture`, `stream_corpus`, model loading)."""
