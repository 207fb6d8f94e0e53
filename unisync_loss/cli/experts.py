"""``unisync experts``: list the experts that name lookup can load and where each comes from; export one.

    unisync experts                      # table: pair, source (user home / shipped), size, settings, path
    unisync experts --json               # the same as JSON
    unisync experts --export runs/mel-landmarks/best   # float16 copy at unisync_loss/pretrained/mel-landmarks
"""

from __future__ import annotations

HELP = "List available experts (shipped with the package, in $UNISYNC_HOME, or given) and export one for shipping."


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="*", metavar="CHECKPOINT_DIR", help="also describe these checkpoint folders")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--export", metavar="CHECKPOINT_DIR",
                        help="write this checkpoint in float16 to the shipped location (or --to) and list again")
    parser.add_argument("--to", metavar="DIR", help="with --export: target folder instead of the shipped location")
    parser.add_argument("--dtype", default="float16", choices=("float16", "bfloat16", "float32"),
                        help="with --export: weight type (float16)")


def _settings(spec: dict) -> str:
    options = {k: v for k, v in spec.items() if k != "name"}
    shown = ", ".join(f"{k}={v}" for k, v in list(options.items())[:4])
    return f"{spec.get('name')}({shown})" if shown else str(spec.get("name"))


def format_table(infos) -> str:
    """Plain-text table of :class:`~unisync_loss.checkpoints.ExpertInfo` rows."""
    if not infos:
        return "no experts found"
    lines = [f"{'pair':<16} {'source':<9} {'used':<4} {'size':>9} {'dtype':<5} {'params':>9} {'ch':>4} {'emb':>4}  "
             "audio / visual settings, path"]
    for i in infos:
        lines.append(f"{i.pair:<16} {i.source:<9} {'yes' if i.active else '':<4} {i.size_bytes / 1e6:>7.2f}MB "
                     f"{i.dtype:<5} {i.parameters:>9,} {i.channels or '-':>4} {i.embed_dim or '-':>4}  "
                     f"{_settings(i.audio)} / {_settings(i.visual)}  {i.path}")
    return "\n".join(lines)


def run(args) -> int:
    import json

    import torch

    from ..checkpoints import SHIPPED_DIR, export_expert, list_experts, unisync_home

    if args.to and not args.export:
        raise ValueError("--to: only meaningful with --export")
    if args.export:
        target = export_expert(args.export, args.to, getattr(torch, args.dtype))
        print(f"exported {args.export} -> {target} ({args.dtype})")
    infos = list_experts(args.paths)
    if args.json:
        print(json.dumps([i.to_dict() for i in infos], indent=1))
        return 0
    print(format_table(infos))
    print(f"lookup order: checkpoint given > {unisync_home() / 'experts'}/<pair> (user home) > "
          f"{SHIPPED_DIR}/<pair> (shipped); 'used' marks what UniSyncLoss(audio, visual) loads")
    return 0
