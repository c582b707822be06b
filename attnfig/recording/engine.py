"""Where a corpus runs: in this process (``engine="local"``) or on Ray actors (``engine="ray"``).

Every corpus computation goes through `run_corpus`: the texts are cut into shards, each shard
is streamed (`stream_corpus`) into a fresh accumulator, one text at a time so that a text that
fails is left out (and named) while the others go on, and the driver merges the partial
accumulators (their sums are kept per input, so the merged result equals one pass).

With Ray, `RayEngine` starts a pool of actors that each load the model once, from a model
folder or from a zero-argument factory returning ``(model, tokenizer)``: no weights travel
with a task, only texts go out and partial sums (or, for `attnfig batch`, the names of the
files written) come back. An actor whose process dies is restarted by Ray and its task run
again (``max_restarts``, ``max_task_retries``); a task whose actor is gone for good is handed
to another actor. Ray is imported only here, and only when asked for.
"""
from __future__ import annotations

import inspect
import math
import os
import pickle
import sys
import warnings
from typing import Any, Callable, Iterator, Sequence

from ..errors import ArgumentError, MissingDependencyError, SkippedInputsWarning, one_of_message
from .inputs import check_corpus

ENGINES = ("local", "ray")
RAY_INSTALL_HINT = 'pip install "attnfig[ray]"'
TASKS_PER_ACTOR = 4  # shards per actor by default: small enough to balance and to retry cheaply
IN_FLIGHT_PER_ACTOR = 2  # tasks queued on an actor, so it never waits for the driver
RESUBMITS = 3  # times a task goes to another actor when its own is gone for good
SHOWN_FAILURES = 5  # failures named in a warning's message (all are in its `failures`)


class ActorsLostError(RuntimeError):
    """Every actor of a `RayEngine` died beyond its restarts (or one task killed actors over and over)."""


def require_ray():
    """Import and return ray, or say how to install it.

    >>> # ray = require_ray()
    """
    try:
        import ray
    except ImportError as err:
        raise MissingDependencyError(f'engine="ray" needs Ray, which is not installed ({err}). Install it with: '
                                     f"{RAY_INSTALL_HINT}.") from None
    return ray


# --- the model: a loaded one, a folder, or a factory ------------------------------------------

def is_loaded_model(model) -> bool:
    """True for a torch module (a model already in memory); never imports torch."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


class ModelSource:
    """A picklable recipe for ``(model, tokenizer)``: a model folder (or name) or a factory.

    Called with no argument, it loads; an actor calls it once. `folder` is the folder's path
    (None for a factory).
    """

    def __init__(self, model, tokenizer=None):
        if isinstance(model, (str, os.PathLike)):
            self.folder: str | None = os.fspath(model)
            self.factory = None
        elif callable(model) and not is_loaded_model(model):
            self.folder, self.factory = None, model
        else:
            raise ArgumentError(
                "With engine='ray' every actor loads the model itself, so `model` must be a model folder (or a "
                "name `attnfig.load_model` reads) or a zero-argument function returning (model, tokenizer), but "
                f"a {type(model).__name__} was passed. Save a loaded model with `model.save_pretrained(folder)` "
                "and `tokenizer.save_pretrained(folder)`, and pass the folder.")
        self.tokenizer = tokenizer

    def __call__(self):
        if self.folder is not None:
            from .models import load_model

            model, tokenizer = load_model(self.folder)
        else:
            model, tokenizer = _call_factory(self.factory)
        return model, self.tokenizer if self.tokenizer is not None else tokenizer


def _call_factory(factory) -> tuple:
    loaded = factory()
    if not (isinstance(loaded, tuple) and len(loaded) == 2):
        raise ArgumentError(f"The model factory {getattr(factory, '__name__', factory)!r} must return a "
                            f"(model, tokenizer) tuple, but it returned a {type(loaded).__name__}.")
    return loaded


def load_here(model, tokenizer) -> tuple:
    """``(model, tokenizer)`` in this process, from a loaded model, a folder or a factory."""
    if is_loaded_model(model):
        if tokenizer is None:
            raise ArgumentError("A loaded `model` needs its `tokenizer=` (or pass the model's folder, whose "
                                "tokenizer attnfig.load_model reads).")
        return model, tokenizer
    if not (isinstance(model, (str, os.PathLike)) or callable(model)):
        raise ArgumentError(
            "`model` must be a loaded transformers model (with its `tokenizer=`), a model folder or name "
            "`attnfig.load_model` reads, or a zero-argument function returning (model, tokenizer), but a "
            f"{type(model).__name__} was passed.")
    return ModelSource(model, tokenizer)()


# --- one shard of a corpus: what runs in this process or on an actor --------------------------

def stream_shard(model, tokenizer, items: Sequence[tuple[int, tuple[str, str | None]]], make_accumulator,
                 layers=None, heads=None) -> tuple[Any, list[tuple[int, Exception]]]:
    """Stream ``(index, (text, pair))`` items into one accumulator; returns it and the failures.

    Each text goes into a fresh accumulator, merged in only when the whole text went through,
    so a text that fails half-way leaves nothing behind: it is returned as ``(index, error)``.
    An accumulator's ``stream_order`` attribute (default ``"layers"``) is the order it is fed in
    (see `attnfig.recording.stream_corpus`).
    """
    from .capture import check_family, select
    from .streaming import stream_corpus

    check_family(model)  # the caller's mistakes fail the whole run, before any text
    select(model, layers, heads)
    total = make_accumulator()
    failures: list[tuple[int, Exception]] = []
    for index, (text, pair) in items:
        one = make_accumulator()
        try:
            stream_corpus(model, tokenizer, [text if pair is None else (text, pair)], one, layers=layers,
                          heads=heads, first_index=index, order=getattr(one, "stream_order", "layers"))
        except Exception as err:  # one text must not cost the corpus
            failures.append((index, _portable(err)))
            continue
        total.merge(one)
    return total, failures


def _portable(err: Exception) -> Exception:
    """`err`, or a RuntimeError with its text when it cannot travel back from an actor."""
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:
        return RuntimeError(f"{type(err).__name__}: {err}")
    return err


def describe_error(err: BaseException) -> str:
    """``"Type: first line"`` of an error, for a report."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")


def report_failures(found: Sequence[tuple[int, BaseException]], n_texts: int, what: str = "text") -> None:
    """Warn (`SkippedInputsWarning`) about the texts left out, each by its index; raise if none is left."""
    if not found:
        return
    failures = sorted(found, key=lambda failure: failure[0])
    if len(failures) == n_texts:  # nothing to return: the first error is the answer
        raise failures[0][1]
    named = ", ".join(f"{what} {index} ({describe_error(err)})" for index, err in failures[:SHOWN_FAILURES])
    more = f" and {len(failures) - SHOWN_FAILURES} more" if len(failures) > SHOWN_FAILURES else ""
    warnings.warn(SkippedInputsWarning(
        f"{len(failures)} of {n_texts} {what}s failed and are left out of the result: {named}{more}.",
        {index: describe_error(err) for index, err in failures}), stacklevel=3)


def _accumulator_factory(accumulator) -> Callable:
    if not callable(accumulator):
        raise ArgumentError("`accumulator` must be an accumulator class or a zero-argument function returning a "
                            f"fresh accumulator (for example attnfig.EntropyAccumulator), but a "
                            f"{type(accumulator).__name__} was passed.")
    return accumulator


def run_corpus(model, tokenizer, texts, accumulator, *, engine="local", engine_options: dict | None = None,
               layers=None, heads=None):
    """Stream a corpus into an accumulator, in this process or on Ray actors; returns it, merged.

    Parameters
    ----------
    model : model, str, path or callable
        A loaded model (local engine only); a model folder or name `attnfig.load_model` reads
        (then `tokenizer` may be None); or a zero-argument picklable function returning
        ``(model, tokenizer)``.
    tokenizer : tokenizer, optional
        The model's tokenizer (None: the one of the folder or the factory).
    texts : str, list of str, or list of (str, str)
        The corpus; the index of a text in it is its id in reports.
    accumulator : type or callable
        A zero-argument callable giving a fresh accumulator with ``update``, ``merge`` and
        ``result`` (such as `attnfig.EntropyAccumulator`).
    engine : {"local", "ray"} or RayEngine
        In this process, on a pool of Ray actors started for this call, or on a running pool.
    engine_options : dict, optional
        With ``engine="ray"``, the keywords of `RayEngine` (``actors``, ``num_cpus``,
        ``num_gpus``, ``address``, ``max_restarts``, ``max_task_retries``, ``texts_per_task``,
        ``progress``).
    layers, heads : int, list of int, or None
        The layers and heads to stream (None: all).

    Returns
    -------
    The accumulator, fed every text that went through.

    Raises
    ------
    ArgumentError
        For an unknown engine, options without Ray, or a loaded model sent to Ray.
    AttentionInputError
        For texts that are not texts, a model family `capture` cannot reproduce, or when
        every text failed (the first text's error).

    Warns
    -----
    SkippedInputsWarning
        When some texts failed: they are left out and named by their index.

    Examples
    --------
    >>> import attnfig.testing
    >>> from attnfig.summaries.entropy import EntropyAccumulator
    >>> folder = attnfig.testing.save_tiny_model("gpt2", "/tmp/attnfig-doctest-engine")
    >>> run_corpus(str(folder), None, ["a cat sat", "a dog ran"], EntropyAccumulator).result().shape
    (2, 4)
    """
    make_accumulator = _accumulator_factory(accumulator)
    items = list(enumerate(check_corpus(texts)))
    check_engine(engine, engine_options)
    if isinstance(engine, RayEngine):
        if model is not None or tokenizer is not None:
            raise ArgumentError("A running RayEngine carries its model: leave `model` and `tokenizer` out.")
        return engine.run_corpus(items, make_accumulator, layers=layers, heads=heads)
    if model is None:
        raise ArgumentError(f"engine={engine!r} runs texts through a model: pass `model=` (a model folder, a "
                            "factory returning (model, tokenizer), or a loaded model with its tokenizer).")
    if engine == "ray":
        with RayEngine(model, tokenizer, **{"_at_most": len(items), **(engine_options or {})}) as pool:
            return pool.run_corpus(items, make_accumulator, layers=layers, heads=heads)
    loaded, loaded_tokenizer = load_here(model, tokenizer)
    result, failures = stream_shard(loaded, loaded_tokenizer, items, make_accumulator, layers, heads)
    report_failures(failures, len(items))
    return result


def check_engine(engine, engine_options: dict | None = None, *, folder=None) -> None:
    """Refuse an unknown engine, `engine_options` it does not take, or a pool of another model folder.

    >>> check_engine("local")
    """
    if isinstance(engine, RayEngine):
        if engine_options:
            raise ArgumentError("A running RayEngine was configured when it was made: leave `engine_options` out.")
        if folder is not None and (engine.folder is None or os.path.realpath(engine.folder) != os.path.realpath(folder)):
            raise ArgumentError(f"The RayEngine's actors load {engine.folder or 'a factory'!r}, not the model folder "
                                f"{os.fspath(folder)!r}: make the engine from that folder.")
        return
    if not isinstance(engine, str) or engine not in ENGINES:
        raise ArgumentError(one_of_message("engine", ENGINES, engine) + " (or a running attnfig.RayEngine)")
    if engine_options is not None and not isinstance(engine_options, dict):
        raise ArgumentError(f"`engine_options` must be a dict of RayEngine keywords, but a "
                            f"{type(engine_options).__name__} was passed.")
    if engine == "local" and engine_options:
        raise ArgumentError(f"`engine_options` ({sorted(engine_options)}) are for engine='ray'; the local engine "
                            "takes none.")
    unknown = sorted(set(engine_options or ()) - set(RAY_OPTIONS))
    if unknown:
        raise ArgumentError(f"`engine_options` takes {list(RAY_OPTIONS)} (RayEngine's keywords), not {unknown}.")


# --- Ray ---------------------------------------------------------------------------------------

class _ModelActor:
    """A Ray actor's state: the model and tokenizer, loaded once when the actor starts."""

    def __init__(self, source: ModelSource, threads: int):
        from .runtime import require_hf

        require_hf("torch").set_num_threads(threads)  # what the actor was given, not the node's cores
        self.model, self.tokenizer = source()

    def apply(self, function, *arguments):
        """``function(model, tokenizer, *arguments)`` on this actor's model."""
        return function(self.model, self.tokenizer, *arguments)

    def pid(self) -> int:
        """The actor's process id."""
        return os.getpid()


class RayEngine:
    """A pool of Ray actors that each load one model once; pass it as ``engine=`` to reuse it.

    Used as ``engine="ray"``, a pool is started for one call and stopped after it; made
    yourself, it serves every call until `close` (or the end of a ``with`` block), so the
    model loads once for all of them. Ray is initialised if it is not already (``address``:
    a running cluster's, such as ``"ray://head:10001"`` or ``"auto"``; None: the cluster
    ``RAY_ADDRESS`` or ``ray start`` names, else a new local one).

    Parameters
    ----------
    model : str, path or callable
        A model folder or name `attnfig.load_model` reads, or a zero-argument picklable
        function returning ``(model, tokenizer)``. Never a loaded model: each actor loads its own.
    tokenizer : optional
        A picklable tokenizer to use instead of the folder's or the factory's.
    actors : int, optional
        How many actors (default: as many as the cluster's CPUs, or GPUs with `num_gpus`, hold).
    num_cpus, num_gpus : float
        Ray resources of each actor (its torch threads follow `num_cpus`).
    address : str, optional
        The Ray cluster to connect to when Ray is not yet initialised.
    max_restarts, max_task_retries : int
        How often Ray restarts an actor whose process died, and runs its tasks again.
    texts_per_task : int, optional
        Texts in one task (default: the corpus cut into about four tasks per actor).
    progress : bool
        Show a progress bar on the driver.

    Examples
    --------
    >>> # with attnfig.RayEngine("./my-model", actors=2) as engine:
    >>> #     entropy = attnfig.head_entropy(texts, engine=engine)
    >>> #     sinks = attnfig.special_token_attention(texts, engine=engine)["first"]
    """

    def __init__(self, model: Any, tokenizer: Any = None, *, actors: int | None = None, num_cpus: float = 1, num_gpus: float = 0,
                 address: str | None = None, max_restarts: int = 3, max_task_retries: int = 3,
                 texts_per_task: int | None = None, progress: bool = True, _at_most: int | None = None) -> None:
        self.source = ModelSource(model, tokenizer)
        for name, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ArgumentError(f"`{name}` is the Ray resource each actor takes, a number >= 0, but {value!r} "
                                    "was passed.")
        for name, count in (("actors", actors), ("texts_per_task", texts_per_task)):
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
                raise ArgumentError(f"`{name}` must be a positive integer, but {count!r} was passed.")
        self.num_cpus, self.num_gpus, self.texts_per_task, self.progress = num_cpus, num_gpus, texts_per_task, progress
        self.ray = ray = require_ray()
        if not ray.is_initialized():
            ray.init(address=address, **({"include_dashboard": False} if address is None else {}))
        self.n_actors = actors or min(self._actors_the_cluster_holds(), _at_most or sys.maxsize)
        actor_class = ray.remote(_ModelActor).options(
            num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=max_restarts, max_task_retries=max_task_retries)
        threads = max(1, int(num_cpus))
        self.actors = [actor_class.remote(self.source, threads) for _ in range(self.n_actors)]

    @property
    def folder(self) -> str | None:
        """The model folder the actors load (None when they call a factory)."""
        return self.source.folder

    def _actors_the_cluster_holds(self) -> int:
        """As many actors as the cluster's free resources hold (at least one, which may wait for them)."""
        total = self.ray.cluster_resources()
        needs = [(name, need) for name, need in (("CPU", self.num_cpus), ("GPU", self.num_gpus)) if need > 0]
        if any(total.get(name, 0) < need for name, need in needs):
            raise ArgumentError(
                f"The Ray cluster has {total.get('CPU', 0):g} CPU(s) and {total.get('GPU', 0):g} GPU(s): not "
                f"enough for one actor with num_cpus={self.num_cpus}, num_gpus={self.num_gpus}.")
        free = self.ray.available_resources()
        return max(1, min((int(free.get(name, 0) // need) for name, need in needs), default=1))

    def close(self) -> None:
        """Stop the actors (Ray itself keeps running)."""
        for actor in self.actors:
            try:
                self.ray.kill(actor)
            except Exception:  # already gone
                pass
        self.actors = []

    def __enter__(self) -> "RayEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pids(self) -> list[int]:
        """The actors' process ids (once each has loaded its model)."""
        return self.ray.get([actor.pid.remote() for actor in self.actors])

    # --- running ---------------------------------------------------------------------------

    def shards(self, items: list) -> list[list]:
        """`items` cut into tasks of `texts_per_task` (default: about four tasks per actor)."""
        size = self.texts_per_task or max(1, math.ceil(len(items) / (TASKS_PER_ACTOR * max(1, len(self.actors)))))
        return [items[start:start + size] for start in range(0, len(items), size)]

    def run_corpus(self, items: list, make_accumulator: Callable[[], Any], *, layers: Any = None,
                   heads: Any = None) -> Any:
        """Stream ``(index, (text, pair))`` items on the actors; returns the merged accumulator."""
        total, failures = make_accumulator(), []
        shards = self.shards(items)
        for _, (partial, shard_failures) in self.map(stream_shard, shards, make_accumulator, layers, heads,
                                                     sizes=[len(shard) for shard in shards], unit="text"):
            total.merge(partial)
            failures.extend(shard_failures)
        report_failures(failures, len(items))
        return total

    def map(self, function: Callable[..., Any], tasks: list, *arguments: Any, sizes: list[int] | None = None, unit: str = "task",
            ordered: bool = False) -> Iterator[tuple[int, Any]]:
        """Run ``function(model, tokenizer, task, *arguments)`` for every task on the actors.

        Yields ``(task index, result)`` as tasks finish (in task order with `ordered`). An
        error raised by `function` itself is raised here; an actor gone for good (after its
        restarts) hands its tasks to the others.
        """
        ray = self.ray
        if not self.actors:
            raise ArgumentError("This RayEngine is closed: make a new one.")
        sizes = sizes or [1] * len(tasks)
        queue = list(range(len(tasks)))[::-1]  # popped from the end: task 0 first
        running: dict = {}  # ObjectRef -> (task index, actor)
        resubmits = {index: 0 for index in range(len(tasks))}
        alive = list(self.actors)
        finished: dict[int, Any] = {}
        next_out = 0
        bar = _progress_bar(sum(sizes), unit) if self.progress and tasks else None

        def submit(actor) -> None:
            index = queue.pop()
            running[actor.apply.remote(function, tasks[index], *arguments)] = (index, actor)

        try:
            for _ in range(IN_FLIGHT_PER_ACTOR):
                for actor in alive:
                    if queue:
                        submit(actor)
            while running:
                [ready], _ = ray.wait(list(running), num_returns=1)
                index, actor = running.pop(ready)
                try:
                    result = ray.get(ready)
                except ray.exceptions.RayActorError as err:  # the actor is gone after its restarts
                    if actor in alive:
                        alive.remove(actor)
                    resubmits[index] += 1
                    if not alive or resubmits[index] > RESUBMITS:
                        raise ActorsLostError(f"Ray lost every actor (or the same task {RESUBMITS + 1} times) "
                                              f"after their restarts: {describe_error(err)}") from err
                    queue.append(index)
                    for other in alive:  # hand the task to an actor that is not busy twice over
                        if queue and sum(a is other for _, a in running.values()) < IN_FLIGHT_PER_ACTOR:
                            submit(other)
                    continue
                except ray.exceptions.RayTaskError as err:
                    cause = getattr(err, "cause", None)
                    raise (cause if isinstance(cause, Exception) else err) from None
                if queue:
                    submit(actor)
                if bar is not None:
                    bar.update(sizes[index])
                if not ordered:
                    yield index, result
                    continue
                finished[index] = result
                while next_out in finished:
                    yield next_out, finished.pop(next_out)
                    next_out += 1
        finally:
            for ref in running:  # interrupted or failed: drop what is still queued
                try:
                    ray.cancel(ref, force=False)
                except Exception:  # already finished, or its actor is gone
                    pass
            if bar is not None:
                bar.close()


RAY_OPTIONS = tuple(name for name, parameter in inspect.signature(RayEngine).parameters.items()
                    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and not name.startswith("_"))


def _progress_bar(total: int, unit: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit)
