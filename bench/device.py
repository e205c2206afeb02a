"""ResNet-20 epochs on CIFAR-10-sized tensors through the routine: the GPU figure of ``study bench``.

The data are random pixels shaped like CIFAR-10 (50,000 training and 10,000 test images of
3x32x32, 10 classes), so the arithmetic of an epoch is CIFAR-10's while nothing is read from
disk or downloaded; the accuracy means nothing. The trial is the routine's own: data resident
on the device, batched augmentation there, ``channels_last``, bf16 autocast with fp32 cosine
logits on CUDA, ``cudnn.benchmark``, and ``torch.compile`` when asked. The first epoch carries
the one-off costs (cuDNN's algorithm search, compilation) and the last one the final metrics
(clustering scores over the test embeddings); both are reported apart, and the epoch time is the
median of the epochs between. Validation and test passes are timed in each epoch, as in a study,
so ``images_per_s`` is training images per second of that wall time.
"""

from __future__ import annotations

import statistics
from typing import Any

import torch

from trainables.config import TrialConfig
from trainables.data import DatasetBundle, Split
from trainables.routine import train

CIFAR10_TRAIN, CIFAR10_VAL, CIFAR10_TEST, CIFAR10_CLASSES = 45_000, 5_000, 10_000, 10


def cifar10_sized(
    train_images: int = CIFAR10_TRAIN,
    val_images: int = CIFAR10_VAL,
    test_images: int = CIFAR10_TEST,
    seed: int = 0,
) -> DatasetBundle:
    """Random normalized 3x32x32 images and balanced labels with CIFAR-10's split sizes."""
    g = torch.Generator().manual_seed(seed)

    def split(n: int) -> Split:
        return Split(torch.randn(n, 3, 32, 32, generator=g), torch.arange(n) % CIFAR10_CLASSES)

    names = tuple(f"class{i}" for i in range(CIFAR10_CLASSES))
    return DatasetBundle(
        split(train_images),
        split(val_images),
        split(test_images),
        CIFAR10_CLASSES,
        names,
        name="cifar10-sized",
    )


def measure_device_epochs(
    device: str, epochs: int = 4, compile_model: bool = False, **sizes: int
) -> dict[str, Any]:
    """Epoch times of a ResNet-20 NormFace trial on ``device`` ("cuda" or "cpu") over CIFAR-10-sized
    tensors (``sizes`` shrinks the splits, for a quick check)."""
    bundle = cifar10_sized(**sizes)
    cfg = TrialConfig.from_flat(
        {
            "model.name": "resnet20",
            "loss.output": "normface",
            "scale.start": 16.0,
            "train.epochs": epochs,
            "train.batch_size": 128,
            "train.device": device,
            "train.compile": compile_model,
            "data.augment": True,
        }
    )
    history: list[dict[str, float]] = []
    train(cfg, lambda metrics, **_: history.append(metrics), data=bundle)
    times = [m["epoch_time_s"] for m in history]
    steady = statistics.median(times[1:-1] if len(times) > 2 else times)
    return {
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "model": "resnet20",
        "loss": "normface",
        "batch_size": 128,
        "compile": compile_model,
        "train_images": len(bundle.train),
        "eval_images": len(bundle.val) + len(bundle.test),
        "first_epoch_s": times[0],
        "last_epoch_s": times[-1],
        "epoch_s": steady,
        "images_per_s": len(bundle.train) / steady,
        "epoch_times_s": times,
    }


def measure_gpu() -> dict[str, Any]:
    """The CIFAR-10-sized ResNet-20 figures on the visible GPU, eager and compiled; a reason when there is none."""
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device visible: the GPU figures need a machine with one"}
    return {
        "eager": measure_device_epochs("cuda"),
        "compiled": measure_device_epochs("cuda", compile_model=True),
    }


__all__ = ["CIFAR10_CLASSES", "cifar10_sized", "measure_device_epochs", "measure_gpu"]
