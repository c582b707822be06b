"""Token labels: prettifying sub-word pieces and grouping them into words."""
from __future__ import annotations

import re
from typing import Sequence

# A special token is a bracketed word: [CLS], [SEP], <s>, </s>, <pad>, <|endoftext|>.
_SPECIAL = re.compile(r"^(\[[A-Za-z_0-9]+\]|<\|?/?[A-Za-z_0-9.:-]*\|?>)$")
BPE_SPACE = "\u0120"  # Ġ, GPT-2 / RoBERTa byte-level BPE word start
BPE_NEWLINE = "\u010a"  # Ċ, a newline in byte-level BPE
SENTENCEPIECE_SPACE = "\u2581"  # ▁, SentencePiece word start
NEWLINE_MARK = "\u21b5"  # ↵, how a newline is shown on a figure


def is_special_token(token: str) -> bool:
    """True for bracketed tokens such as ``[CLS]``, ``</s>`` or ``<|endoftext|>``.

    >>> is_special_token("[SEP]"), is_special_token("rabbit")
    (True, False)
    """
    return bool(_SPECIAL.match(token))


def prettify_tokens(tokens: Sequence[str]) -> list[str]:
    """Return the tokens as a reader wants them on a figure.

    WordPiece ``##`` and BPE ``Ġ``/SentencePiece ``▁`` markers are removed, ``Ċ`` becomes
    a newline mark ``↵``, ``</w>`` endings are dropped and special tokens are kept.

    >>> prettify_tokens(["[CLS]", "hop", "##ped", "\u0120the", "\u2581cat", "\u010a"])
    ['[CLS]', 'hop', 'ped', 'the', 'cat', '↵']
    """
    pretty = []
    for token in tokens:
        token = str(token)
        if is_special_token(token):
            pretty.append(token)
            continue
        if token.startswith("##") and len(token) > 2:
            token = token[2:]
        if token.endswith("</w>"):
            token = token[: -len("</w>")]
        token = token.replace(BPE_NEWLINE, NEWLINE_MARK)
        token = token.replace(BPE_SPACE, " ").replace(SENTENCEPIECE_SPACE, " ").strip(" ")
        pretty.append(token if token else " ")
    return pretty


def word_groups(tokens: Sequence[str], sentence_b_start: int | None = None) -> list[list[int]]:
    """Return the token positions of each word, in order.

    A token continues the word before it when it starts with ``##`` (WordPiece), or,
    in a sequence that marks word starts with ``Ġ`` or ``▁``, when it lacks that mark.
    Special tokens stand alone and no word crosses `sentence_b_start`.

    >>> word_groups(["[CLS]", "hop", "##ped", "away", "[SEP]"])
    [[0], [1, 2], [3], [4]]
    """
    marks_word_starts = any(str(t).startswith((BPE_SPACE, SENTENCEPIECE_SPACE)) for t in tokens)
    groups: list[list[int]] = []
    for position, token in enumerate(tokens):
        if (
            groups
            and position != sentence_b_start
            and _continues_word(str(token), str(tokens[position - 1]), marks_word_starts)
        ):
            groups[-1].append(position)
        else:
            groups.append([position])
    return groups


def _continues_word(token: str, previous: str, marks_word_starts: bool) -> bool:
    if is_special_token(token) or is_special_token(previous):
        return False
    if token.startswith("##"):
        return True
    starts = (BPE_SPACE, SENTENCEPIECE_SPACE, BPE_NEWLINE)
    return marks_word_starts and not token.startswith(starts)


def join_word(pieces: Sequence[str]) -> str:
    """Join the prettified pieces of one word: ``["hop", "ped"] -> "hopped"``."""
    return "".join(pieces)
