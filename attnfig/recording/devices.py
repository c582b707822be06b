"""Models spread over devices by accelerate (``device_map=...``, CPU or disk offload).

accelerate wraps each module's ``forward`` in a hook (``AlignDevicesHook``) that moves the module's
weights in from the CPU or the disk before it runs and back out after: between calls, an
offloaded weight is a tensor on the ``meta`` device, with a shape and a dtype but no values.
attnfig reads the model's weights in two places only, and both go through here:

- `input_device`: where a forward pass takes its inputs (the device the input embedding runs
  on), not ``next(model.parameters()).device``, which is ``meta`` under offload;
- `loaded_weight`: the values of a weight read outside its module's forward (the output
  projection of `attnfig.attention_norms`), moved in for the block by accelerate's own hook.

Neither imports accelerate unless the model carries its hooks.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

from ..errors import AttentionInputError


def _hooks(module) -> list:
    """The accelerate hooks on `module` (a ``SequentialHook`` holds several), none without."""
    hook = getattr(module, "_hf_hook", None)
    if hook is None:
        return []
    return list(getattr(hook, "hooks", None) or [hook])


def _execution_device(module):
    """The device accelerate's hook on `module` runs it on, or None."""
    import torch

    for hook in _hooks(module):
        device = getattr(hook, "execution_device", None)
        if device is not None:
            return torch.device(device)
    return None


def input_device(model):
    """The device `model` takes its inputs on.

    The device accelerate runs the input embedding (or the whole model) on when it is
    dispatched, else that of the first weight that holds values.

    >>> import torch
    >>> input_device(torch.nn.Linear(2, 2)).type
    'cpu'
    """
    import torch

    get_embeddings = getattr(model, "get_input_embeddings", None)
    embeddings = None
    with contextlib.suppress(NotImplementedError, AttributeError):
        embeddings = get_embeddings() if callable(get_embeddings) else None
    for module in (embeddings, model):
        device = _execution_device(module) if module is not None else None
        if device is not None:
            return device
    if embeddings is not None:
        weight = next(embeddings.parameters(), None)
        if weight is not None and weight.device.type != "meta":
            return weight.device
    weights = list(model.parameters())
    for tensor in weights:
        if tensor.device.type != "meta":
            return tensor.device
    for module in model.modules():
        device = _execution_device(module)
        if device is not None:
            return device
    if not weights:
        return torch.device("cpu")
    raise AttentionInputError(
        f"Every weight of {type(model).__name__} is on the 'meta' device and no accelerate hook loads them "
        "(a model built under `init_empty_weights` and never filled?): load its weights first, e.g. with "
        "`from_pretrained(folder, device_map=...)` or `accelerate.load_checkpoint_and_dispatch`."
    )


def floating_dtype(model):
    """The dtype of `model`'s first floating-point weight (float32 without one); offloaded
    weights keep their dtype on the meta device."""
    import torch

    return next((tensor.dtype for tensor in model.parameters() if tensor.is_floating_point()), torch.float32)


@contextlib.contextmanager
def loaded_weight(layer, parents: dict) -> Iterator:
    """``layer.weight`` with its values for the block, on the device its module runs on.

    An offloaded weight is moved in by the accelerate hook that owns it (on `layer`, or on an
    ancestor that loads its submodules, found through `parents`: ``{id(child): parent}``) and
    moved out again after the block.
    """
    if layer.weight.device.type != "meta":
        yield layer.weight
        return
    owner, hook = layer, None
    while owner is not None and hook is None:
        hook = next((hook for hook in _hooks(owner) if getattr(hook, "offload", False)), None)
        owner = owner if hook is not None else parents.get(id(owner))
    if hook is None:
        raise AttentionInputError(
            f"The weights of {type(layer).__name__} are on the 'meta' device and no accelerate hook loads them, so "
            "attnfig cannot read them: load the model's weights (`from_pretrained(folder, device_map=...)`)."
        )
    hook.pre_forward(owner)  # what the hook does around the owner's forward (accelerate's align_module_device)
    try:
        if layer.weight.device.type == "meta":
            raise AttentionInputError(
                f"accelerate's hook on {type(owner).__name__} did not load the weights of {type(layer).__name__}, so "
                "attnfig cannot read them: keep this module off the 'disk'/'cpu' offload in the `device_map`."
            )
        yield layer.weight
    finally:
        hook.post_forward(owner, None)
