"""Input: raw attention (transformers outputs, tensors, arrays) to validated `AttentionData`."""
