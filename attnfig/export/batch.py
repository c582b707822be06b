"""Batch rendering: one set of figures per line of a JSONL file, bad lines reported, not fatal.

Each line is ``{"id": "...", "text": "...", "pair": "..."}`` (``pair`` optional). Figures are
written as ``<out_dir>/<id>.<format>``; a line whose figures the same input, options, model
and attnfig version made is skipped unless ``overwrite`` (see `attnfig.export.manifest`).
Lines are split at the file's own newlines and decoded one by one, so one bad line is
reported and the others rendered. With ``jobs > 1`` the lines are spread over processes,
each loading the model once; workers exit when their parent dies. With ``engine="ray"``
they are spread over Ray actors instead (`attnfig.recording.engine.RayEngine`), each
loading the model once and writing its files into `out_dir` (a folder every node sees);
the driver keeps the manifest, so the files and the manifest are those of a local run.
An interrupt (Ctrl-C) stops the batch with a summary; running it again finishes the rest.
"""
from __future__ import annotations

import codecs
import contextlib
import dataclasses
import json
import os
import re
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..recording.engine import ActorsLostError, check_engine
from .atomic import NOTHING_WRITTEN, read_only, remove_stale_temporaries, temporary_file, watching_writes
from .manifest import Manifest, model_fingerprint, render_key
from .save import FORMATS

VIEWS = ("head", "model", "heatmap")
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# Names Windows gives to devices, whatever the extension or case: a file cannot have them.
WINDOWS_DEVICE = re.compile(r"^(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Item:
    line: int
    id: str
    text: str
    pair: str | None = None


@dataclass(frozen=True)
class ViewOptions:
    """What to draw for each input."""

    view: str = "head"
    layer: int | None = None
    heads: tuple[int, ...] | None = None
    kind: str = "lines"
    style: str | tuple[str, ...] | None = None  # one style name, or names composed left to right
    head: int | str | None = None  # the heatmap's head ("mean" when None and no `heads`)
    figsize: tuple[float, float] | None = None  # inches; None: the view's own size at the style's width
    venue_size: tuple[float, float] | None = None  # figure.figsize for the views' own sizes: attnfig.figsize(venue)


@dataclass
class Report:
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    not_done: list[str] = field(default_factory=list)  # inputs an interrupt left undone
    interrupted: bool = False

    def summary(self) -> str:
        text = f"{len(self.written)} written, {len(self.skipped)} skipped (unchanged), {len(self.bad)} bad line(s)"
        if self.bad:
            text += ": " + ", ".join(str(line) for line, _ in sorted(self.bad))
        if self.interrupted:
            text += (f"; interrupted: {len(self.not_done)} input(s) not done"
                     " (run the same command again to finish them)")
        return text


def split_lines(raw: bytes) -> list[bytes]:
    """The lines of a JSONL file's bytes: split at its newlines (``\\n`` or ``\\r\\n``) only,
    so U+2028 or U+0085 inside a JSON string stays inside its line; a UTF-8 BOM is dropped.

    >>> split_lines(codecs.BOM_UTF8 + '{"text": "a\\u2028b"}\\r\\nx\\n'.encode())
    [b'{"text": "a\\xe2\\x80\\xa8b"}', b'x']
    """
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    lines = raw.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def read_items(lines: Iterable[str | bytes]) -> tuple[list[Item], list[tuple[int, str]]]:
    """Parse JSONL lines (str, or bytes decoded one by one) into items and
    ``(line_number, reason)`` for each bad line.

    >>> items, bad = read_items(['{"id": "a", "text": "hi"}', 'oops', '{"id": "../x", "text": "t"}', b'\\xff'])
    >>> [i.id for i in items], [line for line, _ in bad]
    (['a'], [2, 3, 4])
    """
    items: list[Item] = []
    bad: list[tuple[int, str]] = []
    seen: dict[str, tuple[int, str]] = {}
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                bad.append((number, f"not UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1})"))
                continue
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as err:
            bad.append((number, f"invalid JSON ({err.msg} at column {err.colno})"))
            continue
        if not isinstance(record, dict):
            bad.append((number, f"expected a JSON object, got {type(record).__name__}"))
            continue
        text, pair = record.get("text"), record.get("pair")
        if not isinstance(text, str) or not text.strip():
            bad.append((number, 'missing "text" (a non-empty string)'))
            continue
        if pair is not None and not isinstance(pair, str):
            bad.append((number, '"pair" must be a string'))
            continue
        item_id = record.get("id", f"line-{number:05d}")
        if not isinstance(item_id, str):
            bad.append((number, f'"id" must be a string (it names a file), but {json.dumps(item_id)} was given'))
            continue
        if not SAFE_ID.match(item_id) or ".." in item_id:
            bad.append((number, f"unsafe id {item_id!r}: use letters, digits, '.', '_' and '-' (it names a file)"))
            continue
        if WINDOWS_DEVICE.match(item_id):
            bad.append((number, f"id {item_id!r} is a device name on Windows (CON, NUL, COM1, LPT1...): "
                                "no file can have it there; choose another"))
            continue
        folded = item_id.casefold()  # macOS and Windows file systems ignore case: one file for both
        if folded in seen:
            first_line, first_id = seen[folded]
            if first_id == item_id:
                bad.append((number, f"duplicate id {item_id!r} (first on line {first_line})"))
            else:
                bad.append((number, f"id {item_id!r} differs only by case from {first_id!r} (line {first_line}): "
                                    "on a case-insensitive file system (macOS, Windows) both are one file"))
            continue
        seen[folded] = (number, item_id)
        items.append(Item(number, item_id, text, pair or None))
    return items, bad


def figure_for_text(model, tokenizer, text: str, pair: str | None, options: ViewOptions):
    """Run the model on the text and draw the chosen view."""
    from ..views.model_view import model_view
    from ..views.head_view import head_view
    from ..views.heatmap import heatmap
    from ..recording.models import EncoderDecoderAttention, from_model
    from ..themes import style

    result = from_model(model, tokenizer, text, pair)
    names = (options.style,) if isinstance(options.style, str) else tuple(options.style or ())
    import matplotlib as mpl

    with style(*names) if names else contextlib.nullcontext(), mpl.rc_context(_venue_rc(options.venue_size)):
        if isinstance(result, EncoderDecoderAttention):
            # AttentionData carries its tokens, so no encoder_tokens/decoder_tokens are needed.
            parts: dict[str, Any] = dict(encoder_attention=result.encoder, decoder_attention=result.decoder,
                         cross_attention=result.cross)
            if options.view == "model":
                return model_view(**parts, kind=options.kind, include_heads=options.heads, figsize=options.figsize)
            return head_view(**parts, layer=options.layer, heads=options.heads, figsize=options.figsize)
        if options.view == "head":
            return head_view(result, layer=options.layer, heads=options.heads, figsize=options.figsize)
        if options.view == "model":
            return model_view(result, kind=options.kind, include_heads=options.heads, figsize=options.figsize)
        from ..views.figures import target_figure

        figure = target_figure(figsize=options.figsize)
        head = options.head if options.head is not None else options.heads[0] if options.heads else "mean"
        heatmap(result, layer=options.layer or 0, head=head, ax=figure.subplots())
        return figure


def _venue_rc(size: tuple[float, float] | None) -> dict:
    """rcParams giving the views a venue's size (`attnfig.figsize`, not its sheet's rounded one)."""
    return {} if size is None else {"figure.figsize": size}


def check_options_for_model(model_path, options: ViewOptions) -> None:
    """Raise ValueError, once, for a layer or head the model does not have (before any input runs)."""
    from ..recording.runtime import require_hf

    config = require_hf("transformers").AutoConfig.from_pretrained(model_path)
    sizes = {"layer": ("num_hidden_layers", "decoder_layers"), "head": ("num_attention_heads", "decoder_attention_heads")}
    counts = {what: min((v for v in (getattr(config, name, None) for name in names) if isinstance(v, int)), default=None)
              for what, names in sizes.items()}
    chosen = [("layer", "--layer", [] if options.layer is None else [options.layer]),
              ("head", "--heads", list(options.heads or ())),
              ("head", "--head", [options.head] if isinstance(options.head, int) else [])]
    for what, flag, indices in chosen:
        count = counts[what]
        for index in indices:
            if count is not None and not -count <= index < count:
                raise ValueError(
                    f"{flag} {index} is not a {what} of this model: it has {count} "
                    f"{what}s, 0 to {count - 1} (negative indices count from the end)."
                )


def too_long(tokenizer, model, item: Item) -> str | None:
    """Why the item does not fit the model, or None."""
    limit = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", None)
    count = len(tokenizer(item.text, item.pair)["input_ids"])
    if limit is not None and count > limit:
        return f"text too long: {count} tokens, the model takes at most {limit}"
    return None


# --- running, in this process or in workers --------------------------------------------------

_WORKER: dict = {}
PARENT_CHECK_SECONDS = 1.0  # how often a worker checks that its parent is alive


def _load(model_path: str, parent_pid: int | None = None) -> None:
    from ..recording.runtime import require_hf

    if parent_pid is not None:
        pause_collections()
    torch = require_hf("torch")
    from ..recording.models import load_model

    if parent_pid is not None:  # a worker: the parent handles Ctrl-C, and a worker never outlives it
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    torch.set_num_threads(TORCH_THREADS)
    _WORKER["model"], _WORKER["tokenizer"] = load_model(model_path)
    if parent_pid is not None:
        freeze_loaded_heap()


def pause_collections() -> None:
    """Stop the garbage collector while a process of attnfig's own (a worker, the command)
    imports torch and transformers and loads the model; `freeze_loaded_heap` starts it again.

    Those imports and the load allocate millions of objects that stay alive, and every few
    hundred thousand of them a full collection walks them all again, for nothing: importing
    attnfig, torch and transformers and loading MiniLM took 3.7 CPU s with the collector, 3.0
    without (6 full collections). Cycles that became garbage meanwhile stay (8 MB here).
    """
    import gc

    gc.disable()


def freeze_loaded_heap() -> None:
    """Move every object alive now (torch's and transformers' modules: millions of them) out
    of the garbage collector's sight, in a process of attnfig's own (a worker, the command),
    and start the collector (`pause_collections` may have stopped it).

    Drawing a figure allocates enough to start full collections, and each one would walk
    that whole heap again: running MiniLM and drawing its first head view went from 0.86 to
    0.59 CPU s (measured once, on a loaded machine).
    """
    import gc

    gc.freeze()
    gc.enable()


# The forward pass runs on one thread in every process: the same numbers (and the same figure
# bytes) whatever --jobs is; 2 threads change attention weights by up to 2e-6 on MiniLM. It is a
# small share of an input's time, which drawing and saving take, one process per core.
TORCH_THREADS = 1
# Native thread pools read these when they start: a worker that inherits them runs no more
# threads than its share of the cores (numpy's BLAS and OpenMP would otherwise start one per core).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def threads_per_worker(workers: int) -> int:
    """Threads each of `workers` processes may run so that workers x threads = usable cores.

    >>> threads_per_worker(usable_cores()) == 1
    True
    """
    return max(1, usable_cores() // max(1, workers))


@contextlib.contextmanager
def _worker_environment(threads: int):
    """The thread-count variables set to `threads` while workers are started (they inherit
    the environment), then put back; a value the user set lower is kept."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    for name, value in saved.items():
        chosen = threads if value is None or not value.isdigit() or int(value) < 1 else min(int(value), threads)
        os.environ[name] = str(chosen)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _torch_threads_kept():
    """Put back the calling process's torch thread count after an in-process batch."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    try:
        yield
    finally:
        torch = sys.modules.get("torch")
        if torch is not None and before is not None and torch.get_num_threads() != before:
            torch.set_num_threads(before)


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)  # the parent was killed: stop writing, free the memory


def _render_on_actor(model, tokenizer, argument):
    """`_render` on a Ray actor, whose model and tokenizer the engine loaded (threads as `_load`'s)."""
    _WORKER["model"], _WORKER["tokenizer"] = model, tokenizer
    return _render(*argument)


def _render(item: Item, out_dir: str, formats: Sequence[str], options: ViewOptions):
    """Render one item; returns ("written", item, the files written) or ("bad", item, reason)."""
    from ..views.figures import closing_new_figures
    from .save import save

    targets = output_targets(item, out_dir, formats)
    model, tokenizer = _WORKER["model"], _WORKER["tokenizer"]
    try:
        reason = too_long(tokenizer, model, item)
        if reason:
            return "bad", item, reason
        with closing_new_figures():  # also when drawing or saving fails
            figure = figure_for_text(model, tokenizer, item.text, item.pair, options)
            with watching_writes() as written:
                save(figure, targets)
    except Exception as err:  # one bad item must not stop the batch
        return "bad", item, f"{type(err).__name__}: {err}"
    return "written", item, written


def output_targets(item: Item, out_dir, formats: Sequence[str]) -> list[Path]:
    return [Path(out_dir) / f"{item.id}.{fmt}" for fmt in formats]


def usable_cores() -> int:
    """The cores this process may run on (its affinity), not all the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def worker_count(jobs: int, n_inputs: int) -> int:
    """`jobs` capped at the usable cores and the inputs to render; at least 1.

    >>> worker_count(100, 3) <= 3
    True
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"`jobs` must be a positive integer (the processes to use), but {jobs!r} was passed.")
    return max(1, min(jobs, usable_cores(), n_inputs))


def run_batch(
    model_path: str,
    lines: Iterable[str | bytes],
    out_dir: str | os.PathLike,
    *,
    formats: Sequence[str] = ("pdf",),
    options: ViewOptions = ViewOptions(),
    jobs: int = 1,
    overwrite: bool = False,
    progress: bool | None = None,
    log=None,
    engine="local",
    engine_options: dict | None = None,
) -> Report:
    """Render every good line, report every bad one; returns the `Report`.

    An interrupt (KeyboardInterrupt) ends the batch early: the report says what was not
    done (``report.interrupted``) and a re-run finishes it. With ``engine="ray"`` (or a
    running `RayEngine` made from `model_path`) Ray actors render; ``engine_options`` go to
    `RayEngine` (``jobs > 1`` sets its ``actors``).
    """
    check_engine(engine, engine_options, folder=model_path)
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"The value for `formats` must be among {list(FORMATS)}, but {fmt!r} was passed.")
    log = sys.stderr if log is None else log  # looked up now: sys.stderr may have been replaced
    items, bad = read_items(lines)
    report = Report(bad=list(bad))
    check_output_folder(out_dir)
    remove_stale_temporaries(out_dir)  # left by a batch killed mid-save
    manifest = Manifest(out_dir)
    if manifest.damage:
        print(f"the manifest {str(manifest.path)!r} is damaged ({manifest.damage}): the figures it described "
              "are rendered again", file=log)
    fingerprint = model_fingerprint(model_path)
    keys, todo = {}, []
    for item in items:
        keys[item.id] = render_key(text=item.text, pair=item.pair, options=dataclasses.asdict(options),
                                   model=fingerprint)
        if not overwrite and manifest.is_current(output_targets(item, out_dir, formats), keys[item.id]):
            report.skipped.append(item.id)
        else:
            todo.append(item)
    workers = worker_count(jobs, len(todo))
    show_progress = log.isatty() if progress is None else progress
    done: set[str] = set()

    def collect(status, item, outcome):
        done.add(item.id)
        if status == "bad":
            report.bad.append((item.line, outcome))
        else:
            report.written.append(item.id)
            manifest.record(outcome, keys[item.id])
        if bar is not None:
            bar.update()
        if stop.is_set():  # a Ctrl-C that a callback swallowed still stops the batch
            raise KeyboardInterrupt

    bar = _progress_bar(len(todo)) if show_progress and todo else None
    arguments = [(item, str(out_dir), tuple(formats), options) for item in todo]
    try:
        with _interrupts_noted() as stop:
            if not todo:
                pass
            elif engine != "local":
                _run_on_ray(str(model_path), arguments, collect, engine,
                            {**({"actors": jobs} if jobs > 1 else {"_at_most": len(todo)}), "progress": False,
                             **(engine_options or {})})
            elif workers == 1:
                with _torch_threads_kept():
                    _load(str(model_path))
                    for argument in arguments:
                        if stop.is_set():
                            raise KeyboardInterrupt
                        collect(*_render(*argument))
            else:
                _run_in_workers(str(model_path), arguments, workers, collect)
    except KeyboardInterrupt:
        report.interrupted = True
    except (BrokenProcessPool, ActorsLostError) as err:
        for item in todo:
            if item.id not in done:
                report.bad.append((item.line, f"not rendered: a worker process died ({err})"))
                done.add(item.id)
    finally:
        if bar is not None:
            bar.close()
        remove_stale_temporaries(out_dir)  # those of workers stopped mid-save
    report.not_done = [item.id for item in todo if item.id not in done]
    for line, reason in sorted(report.bad):
        print(f"line {line}: {reason}", file=log)
    print(report.summary(), file=log)
    return report


def check_output_folder(out_dir) -> None:
    """Create `out_dir` if needed; raise `SaveError` now, before any rendering, if it cannot be written."""
    from ..errors import SaveError

    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise SaveError(f"Cannot write figures to the folder {str(folder)!r}: it is a file, not a folder. Choose "
                        f"another --out-dir. {NOTHING_WRITTEN}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if read_only(folder):
            raise PermissionError(13, "it is read-only")
        temporary_file(folder).unlink()
    except OSError as err:
        raise SaveError(f"Cannot write figures to the folder {str(folder)!r}: {err.strerror or err}. Make it "
                        f"writable or choose another --out-dir. {NOTHING_WRITTEN}") from err


@contextlib.contextmanager
def _interrupts_noted():
    """An Event set by Ctrl-C, on top of the usual KeyboardInterrupt.

    A KeyboardInterrupt raised inside a weakref callback or a ``__del__`` is printed and
    dropped by Python; the batch checks the Event after each input, so it stops anyway.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.getsignal(signal.SIGINT)

    def note(number, frame):
        stop.set()
        if callable(previous):
            previous(number, frame)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def _run_in_workers(model_path: str, arguments, workers: int, collect) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_load,
                               initargs=(model_path, os.getpid()))
    try:
        with _worker_environment(threads_per_worker(workers)):  # workers start at the first submits
            futures = [pool.submit(_render, *argument) for argument in arguments]
        for future in futures:
            collect(*future.result())
    except BaseException:
        # Interrupted or broken: stop the workers now, not after the queued inputs.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _run_on_ray(model_path: str, arguments, collect, engine, engine_options: dict) -> None:
    """Render on Ray actors (those of `engine`, or a pool started here); collect in input order."""
    from ..recording.engine import RayEngine

    pool = engine if isinstance(engine, RayEngine) else RayEngine(model_path, **engine_options)
    try:
        for _, outcome in pool.map(_render_on_actor, arguments, ordered=True):
            collect(*outcome)
    finally:
        if pool is not engine:
            pool.close()


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="input")
