"""Our routine against a textbook PyTorch loop: images per second on the same glyphs, model,
loss (CE), optimizer, batch size and epochs; and both against the model's compute ceiling.

The textbook loop is what a tutorial writes: a Dataset that serves one PIL image at a time
through ``RandomCrop(padding) -> ToTensor -> Normalize`` and a ``DataLoader`` with two worker
processes. Both runs are timed from model construction to the last epoch's evaluation (val every
epoch, test once after the last, as the routine does); preparing the images (rendering, the disk cache) happens before either clock
starts. The textbook keeps its uint8 images in memory, so it pays no file decoding: a generous
baseline.

The ceiling run is the same training steps and evaluation passes on resident tensors with
nothing else (no augmentation, no metrics, no loss bookkeeping): the model's own arithmetic,
which no routine beats. ``speedup_bound`` (ceiling over textbook) is thus the largest
``routine_speedup`` possible on this machine for this model, and ``routine_share_of_ceiling``
says how close the routine comes to it; ``routine_share_of_ceiling_cpu`` is the same ratio on
this process's CPU seconds, which other jobs on the cores disturb less than the wall seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from bench.stats import ratio_interval
from trainables.config import TrialConfig
from trainables.data import load_dataset, stratified_holdout
from trainables.data.glyphs import glyph_arrays
from trainables.data.longtail import long_tail_indices
from trainables.evaluation import EVAL_BATCH, inference_model
from trainables.models import build_model
from trainables.routine import train

TEXTBOOK_WORKERS = 2  # DataLoader worker processes, as tutorials set on a small machine
CROP_PADDING_PX = 2  # RandomCrop padding; the routine's batched crop shifts by up to 2 pixels too


class PILImages(Dataset):
    """uint8 images (N, 1, H, W) served one at a time as PIL images through ``transform``."""

    def __init__(self, images_u8: torch.Tensor, labels: torch.Tensor, transform: Any) -> None:
        self.images = images_u8[:, 0].numpy()
        self.labels = labels.tolist()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        return self.transform(Image.fromarray(self.images[index])), self.labels[index]


def glyph_splits_u8(cfg: TrialConfig) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The routine's train/val/test glyph images as uint8, chosen by the same functions and
    seeds as ``trainables.data.assemble`` (balanced glyphs: no class subset after rendering)."""
    if cfg.data.name != "glyphs" or cfg.data.imbalance_ratio != 1.0:
        raise ValueError("the textbook comparison runs on balanced glyphs only")
    raw = glyph_arrays(cfg.data)
    x, y = raw["train_x"], raw["train_y"]
    num_classes = len(raw["chars"])
    keep = long_tail_indices(y, num_classes, cfg.data.max_per_class, 1.0, cfg.data.subset_seed)
    x, y = x[keep], y[keep]
    tr, va = stratified_holdout(y, cfg.data.val_fraction, cfg.data.subset_seed)
    return {"train": (x[tr], y[tr]), "val": (x[va], y[va]), "test": (raw["test_x"], raw["test_y"])}


def _loaders(
    splits: dict[str, tuple[torch.Tensor, torch.Tensor]], batch_size: int, seed: int
) -> dict[str, DataLoader]:
    from torchvision import transforms

    train_x = splits["train"][0].float() / 255.0
    normalize = transforms.Normalize((float(train_x.mean()),), (float(train_x.std()),))
    size = int(train_x.shape[-1])
    augment = transforms.Compose(
        [transforms.RandomCrop(size, padding=CROP_PADDING_PX), transforms.ToTensor(), normalize]
    )
    plain = transforms.Compose([transforms.ToTensor(), normalize])
    g = torch.Generator().manual_seed(seed)
    out = {
        "train": DataLoader(
            PILImages(*splits["train"], augment),
            batch_size=batch_size,
            shuffle=True,
            num_workers=TEXTBOOK_WORKERS,
            generator=g,
        )
    }
    for name in ("val", "test"):
        out[name] = DataLoader(
            PILImages(*splits[name], plain),
            batch_size=EVAL_BATCH["cpu"],
            num_workers=TEXTBOOK_WORKERS,
        )
    return out


@torch.no_grad()
def _accuracy(model: nn.Module, head: nn.Module, loader: DataLoader) -> float:
    model.eval()
    right = total = 0
    for x, y in loader:
        right += int((head(model(x)).argmax(1) == y).sum())
        total += len(y)
    return right / max(1, total)


def textbook_run(
    cfg: TrialConfig, splits: dict[str, tuple[torch.Tensor, torch.Tensor]], num_classes: int
) -> dict[str, float]:
    """Train and evaluate the textbook way; returns seconds, training images seen and val accuracy."""
    started, cpu = time.perf_counter(), time.process_time()
    torch.manual_seed(cfg.train.seed)
    loaders = _loaders(splits, cfg.train.batch_size, cfg.train.seed)
    model = build_model(cfg.model, 1, int(splits["train"][0].shape[-1]))
    head = nn.Linear(cfg.model.embedding_dim, num_classes)
    o = cfg.optim
    optimizer = torch.optim.SGD(
        [*model.parameters(), *head.parameters()],
        lr=o.lr,
        momentum=o.momentum,
        weight_decay=o.weight_decay,
    )
    criterion = nn.CrossEntropyLoss()
    accuracy = 0.0
    for _ in range(cfg.train.epochs):
        model.train()
        for x, y in loaders["train"]:
            loss = criterion(head(model(x)), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        accuracy = _accuracy(model, head, loaders["val"])
    # the test set once, after the last epoch, as the routine does
    _accuracy(model, head, loaders["test"])
    # (not its workers' CPU)
    seconds, cpu_seconds = (time.perf_counter() - started, time.process_time() - cpu)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "images": float(len(splits["train"][1]) * cfg.train.epochs),
        "val_accuracy": accuracy,
    }


@torch.no_grad()
def _forward(model: nn.Module, head: nn.Module, splits: tuple[Any, ...]) -> None:
    folded = inference_model(model)
    for split in splits:
        for start in range(0, len(split), EVAL_BATCH["cpu"]):
            head(
                folded(
                    split.x[start : start + EVAL_BATCH["cpu"]].contiguous(
                        memory_format=torch.channels_last
                    )
                )
            )


def ceiling_run(cfg: TrialConfig, bundle: Any) -> dict[str, float]:
    """The model's own cost: the routine's training steps (channels_last, shuffled resident
    batches, CE on a linear head), its validation pass every epoch and its test pass after the
    last, nothing more."""
    started, cpu = time.perf_counter(), time.process_time()
    torch.manual_seed(cfg.train.seed)
    model = build_model(cfg.model, bundle.in_channels, bundle.image_size).to(
        memory_format=torch.channels_last
    )
    head = nn.Linear(cfg.model.embedding_dim, bundle.num_classes)
    o, bs = cfg.optim, cfg.train.batch_size
    optimizer = torch.optim.SGD(
        [*model.parameters(), *head.parameters()],
        lr=o.lr,
        momentum=o.momentum,
        weight_decay=o.weight_decay,
    )
    x, y = bundle.train.x.contiguous(memory_format=torch.channels_last), bundle.train.y
    for epoch in range(cfg.train.epochs):
        model.train()
        order = torch.randperm(len(y))
        for start in range(0, len(y), bs):
            idx = order[start : start + bs]
            loss = nn.functional.cross_entropy(head(model(x[idx])), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        _forward(
            model,
            head,
            (bundle.val, bundle.test) if epoch == cfg.train.epochs - 1 else (bundle.val,),
        )
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "images": float(len(y) * cfg.train.epochs),
        "val_accuracy": float("nan"),
    }


def routine_run(cfg: TrialConfig, bundle: Any) -> dict[str, float]:
    """``train()`` on the resident tensors of ``bundle``; same fields as ``textbook_run``."""
    started, cpu = time.perf_counter(), time.process_time()
    last = train(cfg, lambda metrics, **_: None, data=bundle)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "images": float(len(bundle.train) * cfg.train.epochs),
        "val_accuracy": last["val_accuracy"],
    }


def _pooled(runs: list[dict[str, float]]) -> dict[str, float]:
    return {
        "seconds": sum(r["seconds"] for r in runs),
        "cpu_seconds": sum(r["cpu_seconds"] for r in runs),
        "images": sum(r["images"] for r in runs),
        "val_accuracy": runs[-1]["val_accuracy"],
    }


def _alternated(
    sides: dict[str, Callable[[], dict[str, float]]], repeats: int
) -> dict[str, list[dict[str, float]]]:
    """Each side's runs, in the order a, b, c, c, b, a, ... (``repeats`` runs of each)."""
    runs: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
    for r in range(repeats):
        for side in list(sides) if r % 2 == 0 else list(sides)[::-1]:
            runs[side].append(sides[side]())
    return runs


def _per_alternation(runs: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    """Geometric mean and 95% interval of the ceiling's seconds over the routine's in each
    alternation (both run once in it, same images)."""
    return ratio_interval(
        [c["seconds"] / r["seconds"] for r, c in zip(runs["routine"], runs["ceiling"])]
    )


def routine_vs_ceiling(
    flat: dict[str, Any], bundle: Any, threads: int, repeats: int
) -> dict[str, Any]:
    """The routine's share of the ceiling alone (no textbook) at ``threads`` torch threads."""
    cfg = TrialConfig.from_flat(
        {**flat, "loss.output": "ce", "train.device": "cpu", "train.threads": threads}
    )
    torch.set_num_threads(threads)
    ceiling_run(cfg, bundle), routine_run(cfg, bundle)  # untimed, as in measure_routine_speedup
    runs = _alternated(
        {"routine": lambda: routine_run(cfg, bundle), "ceiling": lambda: ceiling_run(cfg, bundle)},
        repeats,
    )
    routine, ceiling = _pooled(runs["routine"]), _pooled(runs["ceiling"])
    return {
        "threads": threads,
        "routine_share_of_ceiling": ceiling["seconds"] / routine["seconds"],
        "routine_share_of_ceiling_interval": _per_alternation(runs),
        "routine_share_of_ceiling_cpu": ceiling["cpu_seconds"] / routine["cpu_seconds"],
        **{f"{side}_s": [round(run["seconds"], 3) for run in runs[side]] for side in runs},
        **{f"{side}_cpu_s": [round(run["cpu_seconds"], 3) for run in runs[side]] for side in runs},
    }


def measure_routine_speedup(
    flat: dict[str, Any], threads: int, repeats: int = 1, all_cores: int = 0
) -> dict[str, Any]:
    """Images per second of the routine and of the textbook loop, and their ratio.

    ``flat`` is a TrialConfig in flat keys (glyphs, CE, the model under test); both runs use
    ``threads`` torch threads in this process (the textbook's workers come on top, as they would).
    An untimed run of each side comes first (the kernels of these shapes compiled, each side's
    imports done, the caches warm: the first timed run would pay for them otherwise). With ``repeats`` > 1 the runs alternate routine,
    textbook, ceiling, ceiling, textbook, routine, ... so that a neighbour's load drifting over the
    bench hits every side alike; rates pool all runs. With ``all_cores`` above ``threads`` the
    routine and the ceiling are also compared on that many threads (``all_cores`` in the result).
    """
    cfg = TrialConfig.from_flat(
        {**flat, "loss.output": "ce", "train.device": "cpu", "train.threads": threads}
    )
    torch.set_num_threads(threads)
    bundle = load_dataset(cfg.data, torch.device("cpu"))
    splits = glyph_splits_u8(cfg)
    if len(splits["train"][1]) != len(bundle.train) or len(splits["test"][1]) != len(bundle.test):
        raise RuntimeError(
            "the textbook splits differ from the routine's; the comparison would be unfair"
        )
    sides = {
        "routine": lambda: routine_run(cfg, bundle),
        "textbook": lambda: textbook_run(cfg, splits, bundle.num_classes),
        "ceiling": lambda: ceiling_run(cfg, bundle),
    }
    # untimed, one run of each side: oneDNN compiles its kernels for these shapes on first use, and
    # each side imports what it needs on its first run (the routine's metrics, the textbook's
    # transforms and worker processes' modules); a timed run would pay for them otherwise
    for side in sides.values():
        side()
    runs = _alternated(sides, repeats)
    routine, textbook, ceiling = (_pooled(runs[side]) for side in sides)
    rate = lambda run, clock="seconds": run["images"] / run[clock]  # noqa: E731
    return {
        "routine_images_per_s": rate(routine),
        "textbook_images_per_s": rate(textbook),
        "routine_speedup": rate(routine) / rate(textbook),
        "ceiling_images_per_s": rate(ceiling),
        "speedup_bound": rate(ceiling) / rate(textbook),
        "routine_share_of_ceiling": rate(routine) / rate(ceiling),
        # the ceiling's seconds over the routine's, alternation by alternation: how far runs scatter
        "routine_share_of_ceiling_interval": _per_alternation(runs),
        # on this process's CPU seconds: steadier than wall seconds when other jobs share the cores
        "routine_share_of_ceiling_cpu": rate(routine, "cpu_seconds") / rate(ceiling, "cpu_seconds"),
        **{f"{side}_s": [round(run["seconds"], 3) for run in runs[side]] for side in sides},
        **{
            f"{side}_cpu_s": [round(run["cpu_seconds"], 3) for run in runs[side]]
            for side in ("routine", "ceiling")
        },
        "threads": threads,
        "routine_val_accuracy": routine["val_accuracy"],
        "textbook_val_accuracy": textbook["val_accuracy"],
        "train_images": len(bundle.train),
        "num_classes": bundle.num_classes,
        "image_size_px": bundle.image_size,
        "epochs": cfg.train.epochs,
        "batch_size": cfg.train.batch_size,
        "model": cfg.model.name,
        "dataset": cfg.data.name,
        "textbook_workers": TEXTBOOK_WORKERS,
        "config": {
            k: v
            for k, v in cfg.to_flat().items()
            if k.split(".")[0] in ("data", "model", "train", "optim")
        },
        **(
            {"all_cores": routine_vs_ceiling(flat, bundle, all_cores, repeats)}
            if all_cores > threads
            else {}
        ),
    }


__all__ = [
    "PILImages",
    "ceiling_run",
    "glyph_splits_u8",
    "measure_routine_speedup",
    "routine_run",
    "routine_vs_ceiling",
    "textbook_run",
]
