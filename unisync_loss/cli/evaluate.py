"""``unisync evaluate``: protocol A (binary accuracy, AUC, EER) and protocol B (offset accuracy) of an expert."""

from __future__ import annotations

HELP = "Evaluate a sync expert on a clip store: binary accuracy / AUC / EER and offset accuracy at K5..K15."


def add_arguments(parser) -> None:
    from train_expert.evaluate import add_arguments as add

    add(parser)


def run(args) -> int:
    from train_expert.evaluate import run as evaluate

    return evaluate(args)
