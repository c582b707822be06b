"""How a model runs for attnfig: eager attention that really took, eval() semantics, quiet logs.

Everything is restored afterwards, so the caller's model leaves as it came.
"""
from __future__ import annotations

import contextlib
import importlib
import logging as std_logging
import warnings
from typing import Any, Iterator

from ..errors import ArgumentError, AttentionInputError, MissingDependencyError

HF_INSTALL_HINT = 'pip install "attnfig[hf]"'


def require_hf(module: str = "transformers"):
    """Import and return `module` (torch or transformers), or say how to install it.

    >>> require_hf("torch").__name__
    'torch'
    """
    try:
        with warnings.catch_warnings():
            # In a Jupyter kernel without ipywidgets, tqdm.auto (imported by transformers and
            # huggingface_hub) warns "IProgress not found" once, at import: not attnfig's business.
            warnings.filterwarnings("ignore", message="IProgress not found")
            with contextlib.suppress(ImportError):
                importlib.import_module("tqdm.auto")
            return importlib.import_module(module)
    except ImportError as err:
        raise MissingDependencyError(
            f"attnfig's model helpers need torch and transformers, but {module} is not installed "
            f"({err}). Install them with: {HF_INSTALL_HINT} (and `pip install torch==<version>` "
            "first for a CPU-only build)."
        ) from None


def require_accelerate():
    """Import accelerate, which spreads a model over devices (``device_map``), or say how to install it."""
    try:
        return importlib.import_module("accelerate")
    except ImportError:
        raise MissingDependencyError(
            "A `device_map` spreads the model over devices with accelerate, which is not installed: "
            "`pip install accelerate`."
        ) from None


def check_model(model, tokenizer=None) -> None:
    """Refuse a `model` that is no transformers model (a torch module with a ``.config``), or a
    missing `tokenizer`, before anything reads them.

    >>> check_model("bert-base-uncased")
    Traceback (most recent call last):
    ...
    attnfig.errors.ArgumentError: `model` must be a loaded transformers model ...
    """
    torch = require_hf("torch")
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "config"):
        hint = " (a name or path: load it first with `attnfig.load_model(path)`)" if isinstance(model, str) else ""
        raise ArgumentError(
            f"`model` must be a loaded transformers model (a torch module with a `.config`, e.g. from "
            f"`AutoModel.from_pretrained(path)` or `attnfig.load_model(path)`), but {type(model).__name__} "
            f"was passed{hint}."
        )
    if tokenizer is not None and not callable(tokenizer):
        raise ArgumentError(
            f"`tokenizer` must be the model's tokenizer or processor (`AutoTokenizer.from_pretrained(path)`), "
            f"but {type(tokenizer).__name__} was passed."
        )


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' warnings and progress bars for the block, then restore them.

    >>> with quiet_transformers(): pass
    """
    logging = require_hf("transformers").utils.logging
    verbosity = logging.get_verbosity()
    bars = logging.is_progress_bar_enabled()
    accelerate = std_logging.getLogger("accelerate")  # "Some parameters are on the meta device..."
    accelerate_level = accelerate.level
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    accelerate.setLevel(std_logging.ERROR)
    try:
        yield
    finally:
        accelerate.setLevel(accelerate_level)
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()


@contextlib.contextmanager
def eval_mode(model) -> Iterator[None]:
    """Run `model` under eval() semantics (no dropout), then give every module its mode back.

    >>> import torch
    >>> layer = torch.nn.Dropout(0.5)
    >>> with eval_mode(layer):
    ...     inside = layer.training
    >>> inside, layer.training
    (False, True)
    """
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def shared_eval_mode(model):
    """`eval_mode` for concurrent users of one model: switched by the first, restored by the last.

    >>> import torch
    >>> layer = torch.nn.Dropout(0.5)
    >>> with shared_eval_mode(layer), shared_eval_mode(layer):
    ...     inside = layer.training
    >>> inside, layer.training
    (False, True)
    """
    from .interface import shared

    def switch() -> list:
        modes = [(module, module.training) for module in model.modules()]
        model.eval()
        def restore() -> None:
            for module, training in modes:
                module.training = training

        return [restore]

    return shared(("eval mode", id(model)), switch)


def _configs(model) -> list:
    """The distinct configs of `model` and its sub-models that name an attention implementation."""
    found: dict[int, Any] = {}
    for owner in [model, *model.modules()]:
        config = getattr(owner, "config", None)
        if config is not None and hasattr(config, "_attn_implementation"):
            found.setdefault(id(config), config)
    return list(found.values())


def attention_implementations(model) -> set[str | None]:
    """The attention implementations `model`'s configs say are in use (``{"eager"}`` when switched)."""
    return {config._attn_implementation for config in _configs(model)}


@contextlib.contextmanager
def eager_attention(model) -> Iterator[None]:
    """Switch `model` to eager attention (the only kind that returns weights), then restore it.

    ``set_attn_implementation("eager")`` does not always take (Falcon only logs a warning on
    transformers 5 and keeps sdpa, whose boolean mask the eager maths then ignores): the
    configs are checked afterwards and set directly where it did not, as transformers < 4.48
    did. A model still not on eager gets an error naming the fix.

    >>> # with eager_attention(model): outputs = model(**inputs, output_attentions=True)
    """
    previous = [(config, config._attn_implementation) for config in _configs(model)]
    if all(name == "eager" for _, name in previous):
        yield
        return
    if hasattr(model, "set_attn_implementation"):
        with contextlib.suppress(ValueError, NotImplementedError):
            model.set_attn_implementation("eager")
    for config, _ in previous:
        if config._attn_implementation != "eager":
            config._attn_implementation = "eager"
    in_use = attention_implementations(model)
    try:
        if in_use != {"eager"}:
            raise AttentionInputError(
                f"{type(model).__name__} could not be switched to eager attention (it reports "
                f"{sorted(map(str, in_use))}), the only kind that returns attention weights. Load it with "
                'from_pretrained(path, attn_implementation="eager").'
            )
        yield
    finally:
        if hasattr(model, "set_attn_implementation"):
            with contextlib.suppress(ValueError, NotImplementedError):
                model.set_attn_implementation(previous[0][1])
        for config, name in previous:
            config._attn_implementation = name


def declares_causal(model) -> bool:
    """True when one of `model`'s attention modules says it is causal (a decoder)."""
    return any(getattr(module, "is_causal", None) is True for module in model.modules())


def check_no_future_weights(attentions, model, what: str = "attentions", attention_mask=None) -> None:
    """Raise when a causal model's self-attention gives weight to later tokens (a wrong mask).

    Rows of padding queries (0 in `attention_mask`, ``[batch, tokens]``) are not looked at: where
    a sliding window holds only padding, the model spreads such a row over any key, and the
    row is dropped anyway.
    """
    from ..input.data import has_future_weights

    for layer, weights in enumerate(attentions):
        q, k = weights.shape[-2:]
        if q != k or q < 2:
            return
        if has_future_weights(weights):  # by blocks of rows: no copy of the layer
            if attention_mask is not None and weights.ndim == 4:
                weights = weights * attention_mask[:, None, :, None].to(weights.device, weights.dtype)
                if not has_future_weights(weights):
                    continue
            future = weights.float().triu(1).abs().amax()
            raise AttentionInputError(
                f"{type(model).__name__} is causal but its {what}[{layer}] gives weight {float(future):.3g} to "
                f"later tokens: the attention implementation in use ({sorted(map(str, attention_implementations(model)))}) "
                "ignored the causal mask. Load the model with "
                'from_pretrained(path, attn_implementation="eager") and try again.'
            )


@contextlib.contextmanager
def prepared(model) -> Iterator[None]:
    """Eval mode, eager attention, inference mode and quiet logs for the block; all restored."""
    torch = require_hf("torch")
    with quiet_transformers(), eval_mode(model), eager_attention(model), torch.inference_mode():
        yield
