"""The paper's experiments at our scale, one command each, on any clip store (results on its test split).

    python -m train_expert.experiments pairs    --data STORE --out DIR [--seeds 0 1 2]   # Table IV analogue
    python -m train_expert.experiments ablation --data STORE --out DIR                   # Table V analogue
    python -m train_expert.experiments baseline --data STORE --out DIR                   # Wav2Lip-style expert
    python -m train_expert.experiments recipe   --data STORE --out DIR                   # what each addition does

Every run shares one budget (``--steps``, ``--batch-size``, model width, crop size; see :data:`BUDGET`), is trained
with :class:`~train_expert.trainer.Trainer` and its best-by-validation expert is evaluated with protocols A and B on
the test split. Finished runs are skipped when a command is repeated, so an interrupted table resumes.
Results: ``DIR/<name>/result.json`` per run, ``DIR/<table>.md`` and ``DIR/<table>.json`` per table.

HuBERT pairs need a HuBERT model: ``--hubert-model DIR`` (real use: ``facebook/hubert-large-ls960-ft`` in the Hugging
Face cache, ``dim`` 1024). Without it, a small randomly initialised HuBERT is created in ``DIR/random-hubert`` so the
pipeline runs offline; its features carry the waveform's content only through random weights.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from unisync_loss import UniSyncExpert
from unisync_loss.data import ClipStore
from unisync_loss.representations import list_representations

from .config import make_config
from .evaluate import evaluate_expert, summary
from .trainer import Trainer

#: Shared CPU-scale budget of every run (overridable on the command line).
BUDGET = dict(max_steps=150, batch_size=32, channels=16, embed_dim=64, warmup_steps=15, eval_every=50,
              checkpoint_every=50, val_pairs=256, samples_per_epoch=3200, num_workers=1, num_threads=1, log_every=10)
#: Smaller crops than the defaults (48 x 96) keep image stems affordable on a CPU.
SMALL_CROP = {"height": 24, "width": 48}
#: Table V settings: (cross_share, same_margin, cross_margin).
ABLATION = [(0.0, 0.1, 0.3), (0.2, 0.1, 0.3), (0.5, 0.1, 0.3), (0.2, 0.0, 0.0), (0.2, 0.3, 0.7)]
#: Recipe ablation, mel + rgb: (row name, description, settings). One row per addition to the paper's recipe.
RECIPE_ROWS = [
    ("unisync", "UniSync recipe: clip batches + margin BCE + multi-way contrastive + temporal centring",
     dict(recipe="unisync")),
    ("no-contrastive", "- multi-way contrastive term (margin BCE on clip batches, centring)",
     dict(recipe="unisync", contrastive_weight=0.0)),
    ("no-centring", "- temporal centring (clip batches, margin BCE + contrastive)",
     dict(recipe="unisync", temporal_centring=False)),
    ("pairs-centring", "paper's independent pairs + temporal centring (margin BCE only)",
     dict(recipe="paper", temporal_centring=True)),
    ("paper", "paper's recipe alone (independent pairs, margin BCE + L2)", dict(recipe="paper")),
    ("wav2lip", "Wav2Lip's recipe (BCE, same-clip negatives, lr 1e-4)", dict(recipe="wav2lip")),
]


def random_hubert(directory: Path, hidden: int = 64) -> Path:
    """A small randomly initialised transformers ``HubertModel`` saved in ``directory`` (offline stand-in)."""
    if (directory / "config.json").is_file():
        return directory
    import torch
    from transformers import HubertConfig, HubertModel

    torch.manual_seed(0)
    config = HubertConfig(hidden_size=hidden, num_hidden_layers=2, num_attention_heads=2, intermediate_size=2 * hidden,
                          conv_dim=(32,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)
    HubertModel(config).save_pretrained(directory)
    return directory


def representation_options(name: str, hubert: dict[str, Any]) -> dict[str, Any]:
    if name == "hubert":
        return hubert
    if name in ("rgb", "parsing"):
        return dict(SMALL_CROP)
    if name == "landmarks":
        return {"num_points": 68, "dims": 2}
    return {}


def run_one(name: str, out: Path, data: str, settings: dict[str, Any], split: str = "test",
            progress: bool = True) -> dict[str, Any]:
    """Train one configuration (unless already done) and evaluate its best expert on ``split``."""
    folder = out / name
    done = folder / "result.json"
    if done.is_file():
        return json.loads(done.read_text())
    config = make_config(None, {**settings, "data": data, "out": str(folder)})
    trained = Trainer(config, progress=progress, tensorboard=False).train()
    expert = UniSyncExpert.from_pretrained(folder / "best")
    result = summary(evaluate_expert(expert, ClipStore(data), split, pairs=1024, progress=progress))
    result.update(name=name, settings=dict(settings), best_val_accuracy=trained["best_accuracy"],
                  samples_per_second=trained["samples_per_second"], history=trained["history"])
    done.write_text(json.dumps(result, indent=1))
    return result


def _row(result: dict[str, Any]) -> dict[str, float]:
    a, b = result["protocol_a"], result["protocol_b"]
    return {"acc": a["accuracy"], "auc": a["auc"], "eer": a["eer"], "K5": b["K5"], "K15": b["K15"]}


def _write_table(out: Path, table: str, header: list[str], rows: list[list[str]], results: list[dict]) -> Path:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    path = out / f"{table}.md"
    path.write_text("\n".join(lines) + "\n")
    (out / f"{table}.json").write_text(json.dumps(results, indent=1))
    print("\n".join(lines))
    return path


def pairs_table(args, budget: dict[str, Any]) -> Path:
    """Table IV analogue: every audio x visual pair, max and mean test accuracy over seeds."""
    hubert = {"model": str(args.hubert_model), "dim": args.hubert_dim} if args.hubert_model else \
        {"model": str(random_hubert(Path(args.out) / "random-hubert")), "dim": 64}
    rows, results = [], []
    audios = args.audio or list_representations("audio")
    visuals = args.visual or list_representations("visual")
    for audio, visual in itertools.product(audios, visuals):
        runs = []
        for seed in args.seeds:
            settings = {**budget, "audio": audio, "visual": visual, "seed": seed,
                        "audio_options": representation_options(audio, hubert),
                        "visual_options": representation_options(visual, hubert)}
            runs.append(run_one(f"{audio}-{visual}-seed{seed}", Path(args.out), args.data, settings))
        accs = np.array([_row(r)["acc"] for r in runs])
        k5 = np.array([_row(r)["K5"] for r in runs])
        auc = np.array([_row(r)["auc"] for r in runs])
        rows.append([audio, visual, f"{accs.max():.3f}", f"{accs.mean():.3f}", f"{auc.mean():.3f}",
                     f"{k5.mean():.3f}", str(len(runs))])
        results.extend(runs)
    header = ["audio", "visual", "acc max", "acc mean", "AUC mean", "offset acc K5 mean", "seeds"]
    return _write_table(Path(args.out), "pairs", header, rows, results)


def ablation_table(args, budget: dict[str, Any]) -> Path:
    """Table V analogue on mel + rgb: cross-speaker share and margins."""
    rows, results = [], []
    for seed in args.seeds:
        for cross, same_m, cross_m in ABLATION:
            settings = {**budget, "seed": seed, "cross_share": cross, "same_margin": same_m, "cross_margin": cross_m,
                        "visual_options": dict(SMALL_CROP)}
            r = run_one(f"mel-rgb-cross{cross}-m{same_m}-{cross_m}-seed{seed}", Path(args.out), args.data, settings)
            v = _row(r)
            rows.append([f"{cross}", f"({same_m}, {cross_m})", str(seed), f"{v['acc']:.3f}", f"{v['auc']:.3f}",
                         f"{v['eer']:.3f}", f"{v['K5']:.3f}", f"{v['K15']:.3f}"])
            results.append(r)
    header = ["cross share", "margins (same, cross)", "seed", "acc", "AUC", "EER", "K5", "K15"]
    return _write_table(Path(args.out), "ablation", header, rows, results)


def baseline_table(args, budget: dict[str, Any]) -> Path:
    """The Wav2Lip-style expert against the UniSync recipe, mel + rgb, same data and budget."""
    rows, results = [], []
    for seed in args.seeds:
        for label, tag in (("Wav2Lip-style (BCE, same-clip negatives, lr 1e-4)", "wav2lip"),
                           ("UniSync recipe (see docs/training.md)", "unisync")):
            settings = {**budget, "recipe": tag, "seed": seed, "visual_options": dict(SMALL_CROP)}
            r = run_one(f"mel-rgb-{tag}-seed{seed}", Path(args.out), args.data, settings)
            v = _row(r)
            rows.append([label, str(seed), f"{v['acc']:.3f}", f"{v['auc']:.3f}", f"{v['K5']:.3f}",
                         f"{v['K15']:.3f}"])
            results.append(r)
    header = ["recipe", "seed", "acc", "AUC", "K5", "K15"]
    return _write_table(Path(args.out), "baseline", header, rows, results)


def recipe_table(args, budget: dict[str, Any]) -> Path:
    """Each addition of the UniSync recipe removed in turn, against the paper's and Wav2Lip's recipes (mel + rgb)."""
    rows, results = [], []
    chosen = [r for r in RECIPE_ROWS if not args.only or r[0] in args.only]
    for seed in args.seeds:
        for name, label, settings in chosen:
            r = run_one(f"mel-rgb-{name}-seed{seed}", Path(args.out), args.data,
                        {**budget, **settings, "seed": seed, "visual_options": dict(SMALL_CROP)})
            v = _row(r)
            curve = " / ".join(f"{h['auc']:.2f}" for h in r["history"])
            rows.append([label, str(seed), f"{v['acc']:.3f}", f"{v['auc']:.3f}", f"{v['K5']:.3f}", f"{v['K15']:.3f}",
                         curve, f"{r['samples_per_second']:.0f}"])
            results.append(r)
    header = ["recipe", "seed", "acc", "AUC", "K5", "K15", "val AUC by evaluation", "windows/s"]
    return _write_table(Path(args.out), "recipe" if not args.only else "recipe-" + "-".join(args.only), header, rows,
                        results)


TABLES = {"pairs": pairs_table, "ablation": ablation_table, "baseline": baseline_table, "recipe": recipe_table}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train_expert.experiments", description=__doc__.split("\n")[0])
    parser.add_argument("table", choices=sorted(TABLES))
    parser.add_argument("--data", required=True, help="clip store (train/val for training, test for results)")
    parser.add_argument("--out", required=True, help="folder for the runs and tables")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=BUDGET["max_steps"], help="optimizer steps per run")
    parser.add_argument("--batch-size", type=int, default=BUDGET["batch_size"])
    parser.add_argument("--channels", type=int, default=BUDGET["channels"])
    parser.add_argument("--embed-dim", type=int, default=BUDGET["embed_dim"])
    parser.add_argument("--minutes", type=float, default=0.0, help="wall-clock budget per run (0 = steps only)")
    parser.add_argument("--evaluations", type=int, default=3, help="validation evaluations per run")
    parser.add_argument("--only", nargs="+", help="recipe table: only these rows (" +
                        ", ".join(r[0] for r in RECIPE_ROWS) + ")")
    parser.add_argument("--audio", nargs="+", help="pairs table: only these audio representations")
    parser.add_argument("--visual", nargs="+", help="pairs table: only these visual representations")
    parser.add_argument("--hubert-model", help="local HuBERT folder (default: a small random one)")
    parser.add_argument("--hubert-dim", type=int, default=1024, help="hidden size of --hubert-model")
    args = parser.parse_args(argv)
    budget = {**BUDGET, "max_steps": args.steps, "batch_size": args.batch_size, "channels": args.channels,
              "embed_dim": args.embed_dim, "max_minutes": args.minutes}
    budget["eval_every"] = budget["checkpoint_every"] = max(1, args.steps // args.evaluations)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    try:
        TABLES[args.table](args, budget)
    except (ValueError, FileNotFoundError) as err:
        print(f"experiments: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
