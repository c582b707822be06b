"""The seed notebook's BertViz code on transformers 5, with only the import swapped.

The code is the seed's, verbatim, except `from bertviz import` -> `from attnfig import` and the
model name (bert-base-uncased is not available offline; all-MiniLM-L6-v2 is a BERT too).
"""
from __future__ import annotations

import pytest
from matplotlib.figure import Figure

import attnfig
from attnfig.recording.models import minilm_path

pytestmark = pytest.mark.real_model

SEED_CODE = '''
from attnfig import model_view, head_view
from transformers import AutoTokenizer, AutoModel, utils
import torch
utils.logging.set_verbosity_error()  # Suppress standard warnings

model_version = MODEL_PATH
sentence_a = "the rabbit quickly hopped"
sentence_b = "The turtle slowly crawled"

model = AutoModel.from_pretrained(model_version, output_attentions=True)
tokenizer = AutoTokenizer.from_pretrained(model_version)
inputs = tokenizer.encode_plus(sentence_a, sentence_b, return_tensors='pt')

input_ids = inputs['input_ids']
token_type_ids = inputs['token_type_ids'] # token type id is 0 for Sentence A and 1 for Sentence B
attention = model(input_ids, token_type_ids=token_type_ids)[-1]

sentence_b_start = token_type_ids[0].tolist().index(1) # Sentence B starts at first index of token type id 1
token_ids = input_ids[0].tolist() # Batch index 0
tokens = tokenizer.convert_ids_to_tokens(token_ids)

head_fig = head_view(attention, tokens)
model_fig = model_view(attention, tokens, sentence_b_start)
'''
# transformers 5's own replacement for encode_plus: call the tokenizer.
TOKENIZER_FIX = ("tokenizer.encode_plus(sentence_a, sentence_b, return_tensors='pt')",
                 "tokenizer(sentence_a, sentence_b, return_tensors='pt')")
# What attnfig's error names: the attentions, not the last output (cross_attentions on transformers 5).
OUTPUT_FIX = ("model(input_ids, token_type_ids=token_type_ids)[-1]",
              "model(input_ids, token_type_ids=token_type_ids).attentions")


def run_seed(code: str) -> dict:
    from transformers.utils import logging

    namespace = {"MODEL_PATH": str(minilm_path())}
    verbosity = logging.get_verbosity()
    try:
        exec(compile(code, "seed-bertviz-notebook", "exec"), namespace)
    finally:
        logging.set_verbosity(verbosity)  # the seed silences transformers for good
    return namespace


def test_the_seed_code_first_meets_transformers_5_without_encode_plus():
    # transformers' own AttributeError, before any attnfig code runs: the README's
    # "Coming from BertViz" section gives the one-line replacement (TOKENIZER_FIX).
    with pytest.raises(AttributeError, match="encode_plus"):
        run_seed(SEED_CODE)


def test_the_last_output_of_transformers_5_gets_an_error_naming_the_fix():
    code = SEED_CODE.replace(*TOKENIZER_FIX)
    with pytest.raises(attnfig.AttentionInputError, match=r"model\(\.\.\.\)\[-1\].*pass `outputs\.attentions`"):
        run_seed(code)


@pytest.mark.parametrize("output_fix", [OUTPUT_FIX, ("[-1]", "")], ids=["attentions", "output object"])
def test_with_the_named_fixes_the_seed_code_makes_both_figures(output_fix):
    namespace = run_seed(SEED_CODE.replace(*TOKENIZER_FIX).replace(*output_fix))
    assert isinstance(namespace["head_fig"], Figure) and isinstance(namespace["model_fig"], Figure)
    assert namespace["sentence_b_start"] == 6
    panels = [ax for ax in namespace["head_fig"].axes if ax.collections]  # 12 heads: one panel each
    assert [t.get_text() for t in panels[0].get_yticklabels()][:3] == ["[CLS]", "the", "rabbit"]
    assert [c.get_label() for ax in panels for c in ax.collections if c.get_label().startswith("head")] == [
        f"head {h}" for h in range(12)]  # one LineCollection per head
    assert sum(1 for ax in namespace["model_fig"].axes if ax.collections) == 1
