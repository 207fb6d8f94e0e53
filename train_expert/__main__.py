"""``python -m train_expert --audio hubert --visual 3dmm --data STORE --out DIR [--config FILE] [...]``.

Every :class:`~train_expert.config.TrainConfig` setting is a flag (``max_steps`` -> ``--max-steps``); flags override
the YAML file given with ``--config``. Representation options are YAML mappings, e.g.
``--audio-options "{model: ./hubert-large, dim: 1024}"``. Multi-process: ``torchrun --nproc_per_node N -m train_expert``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing

import yaml

from .config import TrainConfig, config_fields, make_config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m train_expert", description="Pretrain a UniSync sync expert.",
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--config", help="YAML file of settings (command-line flags override it)")
    hints = typing.get_type_hints(TrainConfig)
    for name, f in config_fields().items():
        flag = "--" + name.replace("_", "-")
        hint = hints[name]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        shown = f"default {default!r}"
        if hint is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=shown)
        elif name == "betas":
            parser.add_argument(flag, type=float, nargs=2, default=None, metavar=("BETA1", "BETA2"), help=shown)
        elif name.endswith("_options"):
            parser.add_argument(flag, type=_mapping, default=None, metavar="YAML", help="representation options")
        else:
            kind = {int: int, float: float}.get(hint, str)
            parser.add_argument(flag, type=kind, default=None, help=shown)
    return parser


def _mapping(text: str) -> dict:
    value = yaml.safe_load(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a YAML mapping such as '{{dim: 768}}', got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = vars(build_parser().parse_args(argv))
    file = args.pop("config")
    try:
        config = make_config(file, args)
        from .distributed import cleanup
        from .trainer import Trainer

        trainer = Trainer(config)
        summary = trainer.train()
        if trainer.ctx.is_main:
            shown = {k: v for k, v in summary.items() if k != "history"}
            print(json.dumps(shown, indent=1))
        cleanup(trainer.ctx)
    except (ValueError, FileNotFoundError) as err:
        print(f"train_expert: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
