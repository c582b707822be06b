"""The way into a model's attention: wrap its own attention function, then put it back.

transformers (4.48 and later) looks the attention function up at every call in
``AttentionInterface`` under ``config._attn_implementation`` ("sdpa", "eager", "flash_attention_2"...).
`intercepted_attention` puts a wrapper under that same name for the length of a ``with`` block:
the wrapper calls the model's own function with the arguments it received (so the model's
outputs do not change) and then hands the call (module, queries, keys, mask, scaling, extra
keyword arguments) to a callback. `config._attn_implementation` is never touched.

The mapping is process-wide, so the wrapper is shared: installed by the first active
interception, removed by the last (the mapping is then as it was, even when a model raised),
and it hands a call only to the interception of the calling thread (a context variable) whose
model owns the module. A plain forward in another thread, or a capture of another model, goes
straight through to the original function. GPT-Neo's and Falcon's own attention paths are
shared the same way.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..errors import AttentionInputError, MissingDependencyError


@dataclass(frozen=True)
class AttentionCall:
    """One call of a model's attention function: what it needs to recompute the weights.

    `layer` is the number of the call within the forward pass (an ALBERT layer shares its
    module with the others, so the call order, not the module, names the layer).
    """

    layer: int
    module: Any
    query: Any  # [batch, heads, queries, head_dim], after rotary embeddings
    key: Any  # [batch, kv_heads, keys, head_dim]
    attention_mask: Any  # None, boolean (True = attend) or additive float
    scaling: float | None
    options: dict  # the remaining keyword arguments: sliding_window, softcap, is_causal...
    value: Any = None  # [batch, kv_heads, keys, head_dim], None where the family does not show it


@dataclass(eq=False)
class _Interception:
    """One active `intercepted_attention` block: the modules it listens to and where calls go."""

    modules: frozenset[int]
    on_call: Callable[[AttentionCall], None]
    count: list[int] = field(default_factory=lambda: [0])
    scratch: dict = field(default_factory=dict)  # Falcon: queries and keys of the running call

    def record(self, module, query, key, mask, scaling, options, value=None) -> None:
        self.on_call(AttentionCall(self.count[0], module, query, key, mask, scaling, options, value))
        self.count[0] += 1


# The interceptions active in this thread (or asyncio task), innermost last.
_ACTIVE: contextvars.ContextVar[tuple[_Interception, ...]] = contextvars.ContextVar("attnfig_interceptions", default=())
_LOCK = threading.RLock()
_INSTALLED: dict[Any, list] = {}  # key -> [users, undo steps]


def _interception_of(module) -> _Interception | None:
    """The calling thread's interception that listens to `module`, if any."""
    for interception in reversed(_ACTIVE.get()):
        if id(module) in interception.modules:
            return interception
    return None


@contextlib.contextmanager
def shared(key, install: Callable[[], list[Callable[[], None]]]) -> Iterator[None]:
    """Hold a process-wide change for the block: `install` runs for the first holder of `key`
    and its undo steps (returned) run, in reverse, when the last holder leaves.

    >>> with shared("demo", lambda: [lambda: print("undone")]):
    ...     with shared("demo", lambda: [lambda: print("never")]):
    ...         pass
    undone
    """
    with _LOCK:
        entry = _INSTALLED.get(key)
        if entry is None:
            entry = _INSTALLED[key] = [0, install()]
        entry[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            entry[0] -= 1
            if entry[0] == 0:
                del _INSTALLED[key]
                for step in reversed(entry[1]):
                    step()


def _model_eager_function(module) -> Callable:
    """The eager attention function of the file that defines `module` (each family has its own)."""
    function = getattr(sys.modules[type(module).__module__], "eager_attention_forward", None)
    if function is None:
        raise AttentionInputError(
            f"{type(module).__name__} has no `eager_attention_forward` in its modeling file: "
            "attnfig cannot wrap its attention."
        )
    return function


@contextlib.contextmanager
def intercepted_attention(model, on_call: Callable[[AttentionCall], None]) -> Iterator[list[int]]:
    """Within the block, every attention call of `model` in this thread also goes to `on_call`.

    Yields a one-item list holding the number of calls seen so far (checked by the caller:
    a model whose attention bypasses ``AttentionInterface`` makes no call). Safe beside other
    threads: their calls (of this model or another) are not seen and not changed.

    >>> # with intercepted_attention(model, calls.append): model(**inputs)
    """
    try:
        from transformers import AttentionInterface
    except ImportError:  # transformers 4.x: pyproject.toml declares >=5.0, pip may have been told otherwise
        from importlib.metadata import version

        raise MissingDependencyError(
            f"`capture` needs transformers 5.0 or later (its AttentionInterface), but transformers "
            f"{version('transformers')} is installed: upgrade it with `pip install -U \"attnfig[hf]\"`, or use "
            "`attnfig.from_model`."
        ) from None

    name = model.config._attn_implementation
    interception = _Interception(frozenset(id(module) for module in model.modules()), on_call)
    own_attention = OWN_ATTENTION.get(getattr(model.config, "model_type", ""))
    with contextlib.ExitStack() as stack:
        if own_attention is not None:
            own_attention(model, stack)
        stack.enter_context(shared(("AttentionInterface", name), lambda: _install_dispatcher(AttentionInterface, name)))
        token = _ACTIVE.set(_ACTIVE.get() + (interception,))
        stack.callback(_ACTIVE.reset, token)
        yield interception.count


def _install_dispatcher(interface, name: str) -> list:
    """Put the dispatching wrapper under `name`; return the step that puts back what was there."""
    mapping = interface._global_mapping
    had_entry = name in mapping
    previous = mapping.get(name)

    def wrapper(module, query, key, value, attention_mask, *args, **kwargs):
        original = previous if had_entry else _model_eager_function(module)
        result = original(module, query, key, value, attention_mask, *args, **kwargs)
        interception = _interception_of(module)
        if interception is not None:
            options = dict(kwargs)  # every family passes scaling, window and softcap by keyword
            scaling = options.pop("scaling", None)
            interception.record(module, query, key, attention_mask, scaling, options, value)
        return result

    mapping[name] = wrapper
    return [lambda: mapping.__setitem__(name, previous) if had_entry else mapping.pop(name, None)]


def _patch_gpt_neo(model, stack: contextlib.ExitStack) -> None:
    """GPT-Neo computes attention in its modules' own ``_attn``: wrap it per instance (shared).

    Its causal (and, in "local" layers, sliding-window) bias is applied inside ``_attn``, apart
    from the mask it receives, and it does not scale q . k: the call says so.
    """
    for module in model.modules():
        if type(module).__name__ == "GPTNeoSelfAttention":
            window = model.config.window_size if module.attention_type == "local" else None
            stack.enter_context(shared(("GPTNeo._attn", id(module)), functools.partial(_wrap_gpt_neo, module, window)))


def _wrap_gpt_neo(module, window) -> list:
    original = module._attn

    def wrapped(query, key, value, attention_mask=None):
        result = original(query, key, value, attention_mask)
        interception = _interception_of(module)
        if interception is not None:
            options = {"causal_bias": True, "sliding_window": window}
            interception.record(module, query, key, attention_mask, 1.0, options, value)
        return result

    module._attn = wrapped
    return [lambda: module.__dict__.pop("_attn", None)]


def _patch_falcon(model, stack: contextlib.ExitStack) -> None:
    """Falcon calls sdpa itself: read q and k after its rotary embedding, the mask from its call.

    ALiBi Falcons add a position bias that q . k does not show: they are refused.
    """
    if getattr(model.config, "alibi", False):
        raise AttentionInputError("Falcon models with ALiBi (`config.alibi=True`) add a position bias to q . k; "
                                  "attnfig cannot recompute it: use `attnfig.from_model`.")
    modeling = sys.modules[type(model).__module__]
    stack.enter_context(shared(("Falcon.apply_rotary_pos_emb", id(modeling)), lambda: _wrap_falcon_rotary(modeling)))
    for module in model.modules():
        if type(module).__name__ == "FalconAttention":
            stack.enter_context(shared(("FalconAttention.hooks", id(module)), functools.partial(_hook_falcon, module)))


# The Falcon attention module running in this thread, whose rotary output is its q and k.
_FALCON_MODULE: contextvars.ContextVar[Any] = contextvars.ContextVar("attnfig_falcon_module", default=None)


def _wrap_falcon_rotary(modeling) -> list:
    original_rotary = modeling.apply_rotary_pos_emb

    def rotary(query, key, *args, **kwargs):
        query, key = original_rotary(query, key, *args, **kwargs)
        interception = _interception_of(_FALCON_MODULE.get())
        if interception is not None:
            interception.scratch.update(query=query, key=key)
        return query, key

    modeling.apply_rotary_pos_emb = rotary
    return [lambda: setattr(modeling, "apply_rotary_pos_emb", original_rotary)]


def _hook_falcon(module) -> list:
    def before(module, args, kwargs):
        interception = _interception_of(module)
        if interception is not None:
            _FALCON_MODULE.set(module)
            interception.scratch.clear()
            interception.scratch["mask"] = kwargs.get("attention_mask", args[2] if len(args) > 2 else None)

    def after(module, args, kwargs, output):
        interception = _interception_of(module)
        if interception is not None:
            _FALCON_MODULE.set(None)
            scratch = interception.scratch
            interception.record(module, scratch["query"], scratch["key"], scratch["mask"],
                                module.head_dim**-0.5, {"is_causal": module.is_causal})

    handles = [module.register_forward_pre_hook(before, with_kwargs=True),
               module.register_forward_hook(after, with_kwargs=True)]
    return [handle.remove for handle in handles]


# Families whose attention does not go through AttentionInterface, and how to reach it.
OWN_ATTENTION = {"gpt_neo": _patch_gpt_neo, "falcon": _patch_falcon}
