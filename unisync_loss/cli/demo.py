"""``unisync demo``: the main job on built-in data (for now: every expert pair on random tensors)."""

from __future__ import annotations

import itertools
import time

HELP = "Run the main job on built-in data: build every audio x visual expert and evaluate the loss."


def add_arguments(parser) -> None:
    parser.add_argument("--batch", type=int, default=2, help="sequences per batch (default 2)")
    parser.add_argument("--frames", type=int, default=25, help="video frames per sequence (default 25)")
    parser.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    import torch

    from .. import UniSyncExpert, UniSyncLoss, list_representations

    torch.manual_seed(args.seed)
    print(f"{'audio':8} {'visual':10} {'params (M)':>10} {'loss':>8} {'mean p':>8} {'ms':>8}")
    for audio, visual in itertools.product(list_representations("audio"), list_representations("visual")):
        expert = UniSyncExpert(audio, visual)
        loss_fn = UniSyncLoss(audio, visual, expert=expert)
        arep, vrep = expert.audio_rep, expert.visual_rep
        t_audio = int(args.frames / vrep.rate * arep.rate) + 1
        features = torch.randn(args.batch, t_audio, arep.feature_dim)
        visual_seq = torch.rand(args.batch, args.frames, *vrep.frame_shape, requires_grad=True)
        if visual == "parsing":
            visual_seq = torch.randint(0, 19, (args.batch, args.frames, *vrep.frame_shape[1:]))
        start = time.perf_counter()
        loss = loss_fn(features, visual_seq)
        if visual_seq.requires_grad:
            loss.backward()
        ms = (time.perf_counter() - start) * 1e3
        p = loss_fn.sync_probability(features, visual_seq).mean()
        n = sum(q.numel() for q in expert.parameters()) / 1e6
        print(f"{audio:8} {visual:10} {n:10.2f} {float(loss):8.4f} {float(p):8.4f} {ms:8.1f}")
    return 0
