"""Batch rendering: one set of figures per line of a JSONL file, bad lines reported, not fatal.

Each line is ``{"id": "...", "text": "...", "pair": "..."}`` (``pair`` optional). Figures are
written as ``<out_dir>/<id>.<format>``; a line whose figures all exist is skipped unless
``overwrite``. With ``jobs > 1`` the lines are spread over processes, each loading the model
once.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .save import FORMATS

VIEWS = ("head", "model", "heatmap")
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


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
    style: str | None = None


@dataclass
class Report:
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.written)} written, {len(self.skipped)} skipped (already present), {len(self.bad)} bad line(s)"
        if self.bad:
            text += ": " + ", ".join(str(line) for line, _ in sorted(self.bad))
        return text


def read_items(lines: Iterable[str]) -> tuple[list[Item], list[tuple[int, str]]]:
    """Parse JSONL lines into items and ``(line_number, reason)`` for each bad line.

    >>> items, bad = read_items(['{"id": "a", "text": "hi"}', 'oops', '{"id": "../x", "text": "t"}'])
    >>> [i.id for i in items], [line for line, _ in bad]
    (['a'], [2, 3])
    """
    items, bad, seen = [], [], {}
    for number, raw in enumerate(lines, start=1):
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
        item_id = str(record.get("id", f"line-{number:05d}"))
        if not SAFE_ID.match(item_id) or ".." in item_id:
            bad.append((number, f"unsafe id {item_id!r}: use letters, digits, '.', '_' and '-' (it names a file)"))
            continue
        if item_id in seen:
            bad.append((number, f"duplicate id {item_id!r} (first on line {seen[item_id]})"))
            continue
        seen[item_id] = number
        items.append(Item(number, item_id, text, pair or None))
    return items, bad


def figure_for_text(model, tokenizer, text: str, pair: str | None, options: ViewOptions):
    """Run the model on the text and draw the chosen view."""
    from ..views.model_view import model_view
    from ..views.head_view import head_view
    from ..views.heatmap import heatmap
    from ..capture.models import EncoderDecoderAttention, from_model
    from ..themes import style

    result = from_model(model, tokenizer, text, pair)
    with style(options.style) if options.style else contextlib.nullcontext():
        if isinstance(result, EncoderDecoderAttention):
            # AttentionData carries its tokens, so no encoder_tokens/decoder_tokens are needed.
            parts = dict(encoder_attention=result.encoder, decoder_attention=result.decoder,
                         cross_attention=result.cross)
            if options.view == "model":
                return model_view(**parts, kind=options.kind, include_heads=options.heads)
            return head_view(**parts, layer=options.layer, heads=options.heads)
        if options.view == "head":
            return head_view(result, layer=options.layer, heads=options.heads)
        if options.view == "model":
            return model_view(result, kind=options.kind, include_heads=options.heads)
        import matplotlib.figure

        figure = matplotlib.figure.Figure(layout="constrained")
        head = options.heads[0] if options.heads else "mean"
        heatmap(result, layer=options.layer or 0, head=head, ax=figure.subplots())
        return figure


def too_long(tokenizer, model, item: Item) -> str | None:
    """Why the item does not fit the model, or None."""
    limit = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", None)
    count = len(tokenizer(item.text, item.pair)["input_ids"])
    if limit is not None and count > limit:
        return f"text too long: {count} tokens, the model takes at most {limit}"
    return None


# --- running, in this process or in workers --------------------------------------------------

_WORKER: dict = {}


def _load(model_path: str) -> None:
    from ..capture.runtime import require_hf

    torch = require_hf("torch")
    from ..capture.models import load_model

    torch.set_num_threads(1)  # same numbers whatever --jobs is: reproducible figures
    _WORKER["model"], _WORKER["tokenizer"] = load_model(model_path)


def _render(item: Item, out_dir: str, formats: Sequence[str], options: ViewOptions, overwrite: bool):
    """Render one item; returns ("written" | "skipped" | "bad", item, reason)."""
    import matplotlib.pyplot as plt

    from .save import save

    targets = [Path(out_dir) / f"{item.id}.{fmt}" for fmt in formats]
    if not overwrite and all(t.exists() for t in targets):
        return "skipped", item, ""
    model, tokenizer = _WORKER["model"], _WORKER["tokenizer"]
    try:
        reason = too_long(tokenizer, model, item)
        if reason:
            return "bad", item, reason
        figure = figure_for_text(model, tokenizer, item.text, item.pair, options)
        save(figure, targets)
        plt.close(figure)
    except Exception as err:  # one bad item must not stop the batch
        return "bad", item, f"{type(err).__name__}: {err}"
    return "written", item, ""


def run_batch(
    model_path: str,
    lines: Iterable[str],
    out_dir: str | os.PathLike,
    *,
    formats: Sequence[str] = ("pdf",),
    options: ViewOptions = ViewOptions(),
    jobs: int = 1,
    overwrite: bool = False,
    progress: bool | None = None,
    log=sys.stderr,
) -> Report:
    """Render every good line, report every bad one; returns the `Report`."""
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"The value for `formats` must be among {list(FORMATS)}, but {fmt!r} was passed.")
    items, bad = read_items(lines)
    report = Report(bad=list(bad))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    show_progress = log.isatty() if progress is None else progress
    arguments = [(item, str(out_dir), tuple(formats), options, overwrite) for item in items]
    if jobs <= 1:
        _load(str(model_path))
        results = (_render(*a) for a in arguments)
        results = _with_progress(results, len(items), show_progress)
        _collect(results, report)
    else:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_load,
                                 initargs=(str(model_path),)) as pool:
            results = pool.map(_render, *zip(*arguments)) if arguments else iter(())
            _collect(_with_progress(results, len(items), show_progress), report)
    for line, reason in sorted(report.bad):
        print(f"line {line}: {reason}", file=log)
    print(report.summary(), file=log)
    return report


def _with_progress(results, total: int, show: bool):
    if not show:
        return results
    from tqdm import tqdm

    return tqdm(results, total=total, unit="input")


def _collect(results, report: Report) -> None:
    for status, item, reason in results:
        if status == "bad":
            report.bad.append((item.line, reason))
        else:
            getattr(report, status).append(item.id)
