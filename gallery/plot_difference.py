"""Difference between two prompts of the same length
=================================================

Attention of all-MiniLM-L6-v2 on "the rabbit quickly hopped" minus that on "the turtle
slowly crawled" (same number of tokens), for every layer and head, on one diverging scale
centred on zero: red where the first prompt draws more attention, blue where the second does.
"""
import attnfig
from _seed import model, publish

first = attnfig.from_model(*model(), "the rabbit quickly hopped")
second = attnfig.from_model(*model(), "the turtle slowly crawled")
fig = attnfig.difference_grid(first, second, tokens=["[CLS]", "the", "A/B noun", "A/B adverb", "A/B verb", "[SEP]"])
publish(fig, "difference")
