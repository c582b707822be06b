"""Token labels: prettifying sub-word pieces and grouping them into words."""
from __future__ import annotations

import re
import string
from typing import Sequence

from ..errors import ArgumentError

# A special token is a bracketed word: [CLS], [SEP], <s>, </s>, <pad>, <|endoftext|>.
_SPECIAL = re.compile(r"^(\[[A-Za-z_0-9]+\]|<\|?/?[A-Za-z_0-9.:-]*\|?>)$")
BPE_SPACE = "\u0120"  # Ġ, GPT-2 / RoBERTa byte-level BPE word start
BPE_NEWLINE = "\u010a"  # Ċ, a newline in byte-level BPE
SENTENCEPIECE_SPACE = "\u2581"  # ▁, SentencePiece word start
NEWLINE_MARK = "\u21b5"  # ↵, how a newline is shown on a figure
CONTINUATION = "##"  # how a piece that continues a word is shown, for every tokenizer
CLS_TOKENS = frozenset({"[CLS]", "<s>", "<cls>"})  # a sequence's start token, by tokenizer family
SEP_TOKENS = frozenset({"[SEP]", "</s>", "<sep>", "<|endoftext|>", "<eos>"})  # its separator or end


def is_special_token(token: str) -> bool:
    """True for bracketed tokens such as ``[CLS]``, ``</s>`` or ``<|endoftext|>``.

    >>> is_special_token("[SEP]"), is_special_token("rabbit")
    (True, False)
    """
    return bool(_SPECIAL.match(token))


def is_punctuation(token: str) -> bool:
    """True for tokens made only of punctuation, such as ``.``, ``,`` or ``Ġ,``.

    >>> is_punctuation("\u0120,"), is_punctuation("a.")
    (True, False)
    """
    pretty = prettify_tokens([token])[0].strip()
    return bool(pretty) and all(character in string.punctuation for character in pretty)


def prettify_tokens(tokens: Sequence[str]) -> list[str]:
    """Return the tokens as a reader wants them on a figure, word pieces still told from words.

    A piece that continues a word is shown with `CONTINUATION` (``##``), whatever the
    tokenizer: WordPiece's ``##`` is kept (as BertViz does), and a BPE or SentencePiece
    piece without its word-start mark ``Ġ``/``▁`` gets it (punctuation excepted). The
    word-start marks themselves are removed, ``Ċ`` becomes a newline mark ``↵``, ``</w>``
    endings are dropped and special tokens are kept.

    Parameters
    ----------
    tokens : list of str
        Tokens as the tokenizer returns them (``convert_ids_to_tokens``).

    Returns
    -------
    list of str
        The labels, one per token.

    Raises
    ------
    ArgumentError
        When `tokens` is a single string or no sequence.

    Examples
    --------
    >>> prettify_tokens(["[CLS]", "un", "##quest", "##ion", "##ably", "[SEP]"])
    ['[CLS]', 'un', '##quest', '##ion', '##ably', '[SEP]']
    >>> prettify_tokens(["\u0120the", "\u0120un", "quest", "ionably", ","])
    ['the', 'un', '##quest', '##ionably', ',']
    >>> prettify_tokens(["\u2581un", "quest", "\u2581cat", "\u010a"])
    ['un', '##quest', 'cat', '↵']
    """
    if isinstance(tokens, str) or not hasattr(tokens, "__iter__"):
        raise ArgumentError(
            f"`tokens` must be a list of token strings, but {tokens!r} ({type(tokens).__name__}) was passed. "
            "Use tokenizer.convert_ids_to_tokens(input_ids[0])."
        )
    tokens = [str(token) for token in tokens]
    continues = {position for group in word_groups(tokens) for position in group[1:]}
    pretty = []
    for position, token in enumerate(tokens):
        if is_special_token(token):
            pretty.append(token)
            continue
        marked = token.startswith(CONTINUATION) and len(token) > len(CONTINUATION)
        if marked:
            token = token[len(CONTINUATION):]
        if token.endswith("</w>"):
            token = token[: -len("</w>")]
        token = token.replace(BPE_NEWLINE, NEWLINE_MARK)
        token = token.replace(BPE_SPACE, " ").replace(SENTENCEPIECE_SPACE, " ").strip(" ")
        if marked or (position in continues and token and not all(c in string.punctuation for c in token)):
            token = CONTINUATION + token
        pretty.append(token if token else " ")
    return pretty


def word_groups(tokens: Sequence[str], *breaks: int | None) -> list[list[int]]:
    """Return the token positions of each word, in order.

    A token continues the word before it when it starts with ``##`` (WordPiece), or,
    in a sequence that marks word starts with ``Ġ`` or ``▁``, when it lacks that mark.
    Special tokens stand alone and no word crosses a break (`sentence_b_start`, or
    `generated_start`: a word the model finished belongs to the generated tokens).

    >>> word_groups(["[CLS]", "hop", "##ped", "away", "[SEP]"])
    [[0], [1, 2], [3], [4]]
    >>> word_groups(["hop", "##ped", "a", "##way"], None, 3)           # generation starts at "##way"
    [[0, 1], [2], [3]]
    """
    marks_word_starts = any(str(t).startswith((BPE_SPACE, SENTENCEPIECE_SPACE)) for t in tokens)
    groups: list[list[int]] = []
    for position, token in enumerate(tokens):
        if (
            groups
            and position not in breaks
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
    """Join the prettified pieces of one word: ``["hop", "##ped"] -> "hopped"``.

    >>> join_word(["hop", "##ped"])
    'hopped'
    """
    return "".join([pieces[0], *(p.removeprefix(CONTINUATION) for p in pieces[1:])]) if pieces else ""
