"""Summaries: the figures attention papers use (special tokens, entropy, rollout, patterns, ...)."""
