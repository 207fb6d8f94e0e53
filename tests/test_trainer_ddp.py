"""Two CPU processes (gloo) training data-parallel end with identical weights."""

from __future__ import annotations

import os
import socket

import torch
import torch.multiprocessing as mp

from test_trainer_resume import tiny_config
from test_trainer_toystore import make_store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, store: str, out: str, dump: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world), RANK=str(rank),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    from train_expert.distributed import cleanup, init_distributed
    from train_expert.trainer import Trainer

    ctx = init_distributed("cpu")
    trainer = Trainer(tiny_config(store, out, max_steps=2, eval_every=2, checkpoint_every=2), ctx, progress=False,
                      tensorboard=False)
    trainer.train()
    torch.save({"state": trainer.model.state_dict(), "per_rank_batch": trainer.per_rank_batch}, f"{dump}/rank{rank}.pt")
    cleanup(ctx)


def test_two_gloo_processes_end_identical(tmp_path):
    store = tmp_path / "store"
    make_store(store, speakers=2, clips_per_speaker=2, frames=24, val_speakers=2)
    mp.spawn(_worker, args=(2, _free_port(), str(store), str(tmp_path / "out"), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    assert ranks[0]["per_rank_batch"] == ranks[1]["per_rank_batch"] == 2  # global batch 4 split over 2 ranks
    for key, value in ranks[0]["state"].items():
        assert torch.equal(value, ranks[1]["state"][key]), key
    assert (tmp_path / "out" / "checkpoints" / "last.pt").is_file() and (tmp_path / "out" / "best").is_dir()
