"""The exceptions attnfig raises: each names what was wrong and how to fix it."""
from __future__ import annotations


class AttentionInputError(ValueError):
    """Attention, tokens or masks that cannot be turned into `AttentionData`.

    >>> import attnfig, numpy as np
    >>> try:
    ...     attnfig.as_attention(np.ones((2, 3)))
    ... except attnfig.AttentionInputError as err:
    ...     print("rejected")
    rejected
    """


class MissingDependencyError(ModuleNotFoundError):
    """torch or transformers is missing: the model helpers need ``pip install "attnfig[hf]"``."""


class ArgumentError(AttentionInputError, TypeError):
    """A figure function's argument of the wrong name, type or value (an unknown keyword,
    an empty selection, colour limits out of order...).

    It is an `AttentionInputError`, so one ``except`` catches every bad input.

    >>> import attnfig, numpy as np
    >>> try:
    ...     attnfig.heatmap(np.full((1, 1, 2, 2), 0.5), vmin=1.0, vmax=0.0)
    ... except attnfig.ArgumentError as err:
    ...     print(str(err).split(":")[0])
    `vmin` (1.0) must be less than `vmax` (0.0)
    """


class SkippedInputsWarning(UserWarning):
    """Some inputs of a corpus failed and were left out of the result; the others went on.

    `failures` maps each input's id (its index in the corpus) to why it failed.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn(SkippedInputsWarning("1 of 2 texts failed: text 1", {1: "too long"}))
    >>> caught[0].message.failures
    {1: 'too long'}
    """

    def __init__(self, message: str, failures: dict | None = None) -> None:
        super().__init__(message)
        self.failures = dict(failures or {})


class StyleNotFoundError(ValueError):
    """A style name that is neither an attnfig style nor a matplotlib one."""


class ModelFolderError(ValueError):
    """A model folder attnfig will not load: no tokenizer files, or truncated weights."""


class SaveError(OSError):
    """A figure that could not be written; the earlier file, if any, is untouched."""


def one_of_message(argument: str, accepted, given) -> str:
    """The house wording for a value outside a fixed set (seaborn's `_check_argument`)."""
    return f"The value for `{argument}` must be one of {list(accepted)}, but {given!r} was passed."
