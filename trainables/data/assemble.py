"""From raw image tensors to a DatasetBundle: class subset, long tail, validation, normalization.

Every loader ends here, so class subsets (``data.num_classes``), long tails
(``data.imbalance_ratio``, ``data.max_per_class``) and resizing (``data.image_size``) work the
same way on every dataset:

1. draw ``num_classes`` classes with ``subset_seed`` (kept in their original order);
2. apply the long tail to the training pool, class i keeping n_i images (chosen with ``subset_seed``);
3. validation: with a long tail (rho > 1) the tail's selection trains whole and the validation
   split comes from the images it left unused, per class (see ``longtail``); otherwise, unless
   the dataset brings its own, a stratified ``val_fraction`` of each class is held out of the pool;
4. scale to [0, 1], resize, and standardize each channel with the training split's mean and std.

Large folder datasets pass ``ImagePaths`` (files, not pixels) instead of image tensors: steps
1-3 only need labels, and step 4 happens per batch in ``StreamingSplit`` (see streaming).

The test split is never subsampled, so it stays balanced when the source is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from trainables.config import DataConfig
from trainables.data.base import DatasetBundle, Split
from trainables.data.errors import DatasetError
from trainables.data.longtail import long_tail_indices, long_tail_split
from trainables.data.streaming import ImagePaths, StreamingSplit, streaming_splits
from trainables.data.subsets import choose_classes, select_classes, stratified_holdout

__all__ = ["classification_bundle", "retrieval_bundle", "to_unit_float"]


def to_unit_float(x: torch.Tensor, image_size: int = 0) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [0, 1] (floats pass through), resized to ``image_size`` if > 0."""
    out = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    if image_size and out.shape[-1] != image_size:
        out = F.interpolate(
            out, size=(image_size, image_size), mode="bilinear", antialias=True, align_corners=False
        )
    return out


def _standardize(train: torch.Tensor, *others: torch.Tensor) -> list[torch.Tensor]:
    mean = train.mean(dim=(0, 2, 3), keepdim=True)
    std = train.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return [t.sub_(mean).div_(std) for t in (train, *others)]  # in place: the float copies are ours


def _train_val_test(
    x: torch.Tensor,
    y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    num_classes: int,
    cfg: DataConfig,
    imbalance_ratio: float,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[Split | StreamingSplit, Split | StreamingSplit, Split | StreamingSplit, bool]:
    """(train, val, test, whether val was held out of the training pool)."""
    in_pool = val is None and imbalance_ratio == 1.0
    # step 3: the tail trains whole, validates on what it left
    if val is None and imbalance_ratio > 1.0:
        keep, held = long_tail_split(
            y, num_classes, cfg.max_per_class, imbalance_ratio, cfg.subset_seed, cfg.val_fraction
        )
        if not len(held):
            raise DatasetError(
                f"data.imbalance_ratio={imbalance_ratio:g} with data.max_per_class={cfg.max_per_class}: "
                "the long tail uses every image, none is left to validate on; lower data.max_per_class"
            )
        val, x, y = (x[held], y[held]), x[keep], y[keep]
    else:
        keep = long_tail_indices(
            y, num_classes, cfg.max_per_class, imbalance_ratio, cfg.subset_seed
        )
        x, y = x[keep], y[keep]
    if val is None:  # step 3: held out of the training pool
        tr, va = stratified_holdout(y, cfg.val_fraction, cfg.subset_seed)
        val, x, y = (x[va], y[va]), x[tr], y[tr]
    if isinstance(x, ImagePaths):  # streamed: decoded at the target size, standardized per batch
        return (*streaming_splits(x, y, *val, test_x, test_y), in_pool)
    size = cfg.image_size
    train_x, val_x, test_x = _standardize(
        to_unit_float(x, size), to_unit_float(val[0], size), to_unit_float(test_x, size)
    )
    return Split(train_x, y), Split(val_x, val[1]), Split(test_x, test_y), in_pool


def classification_bundle(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    class_names: tuple[str, ...],
    cfg: DataConfig,
    *,
    name: str,
    flip_ok: bool,
    imbalance_ratio: float | None = None,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> DatasetBundle:
    """Bundle of a dataset with a labelled training pool and a test set over the same classes.

    ``imbalance_ratio`` overrides ``cfg.imbalance_ratio`` (the -LT datasets' default of 100).
    ``val`` (images, labels) is a validation set of the dataset's own (glyphs' unseen fonts);
    without it step 3 holds one out of the training pool.
    """
    if cfg.val_classes:
        raise DatasetError(
            f"data.val_classes={cfg.val_classes} holds classes out for retrieval, and {name} is a "
            "classification dataset: leave data.val_classes at 0, or use cub200, cars196 or glyph_retrieval"
        )
    classes = choose_classes(len(class_names), cfg.num_classes, cfg.subset_seed, name)
    train_x, train_y = select_classes(train_x, train_y, classes)
    test_x, test_y = select_classes(test_x, test_y, classes)
    if val is not None:
        val = select_classes(*val, classes)
    rho = cfg.imbalance_ratio if imbalance_ratio is None else imbalance_ratio
    train, val, test, in_pool = _train_val_test(
        train_x, train_y, test_x, test_y, len(classes), cfg, rho, val
    )
    names = tuple(class_names[i] for i in classes.tolist())
    return DatasetBundle(
        train,
        val,
        test,
        len(classes),
        names,
        cfg.head_threshold,
        flip_ok,
        name=name,
        val_in_pool=in_pool,
    )


def retrieval_bundle(
    x: torch.Tensor,
    y: torch.Tensor,
    class_names: tuple[str, ...],
    cfg: DataConfig,
    *,
    name: str,
    flip_ok: bool,
) -> DatasetBundle:
    """Metric-learning split by class: the first half of the classes trains (val drawn from
    them), the second half is the test set of unseen classes (``retrieval=True``).

    With ``data.val_classes = V`` the last V classes of the first half train nowhere: they are the
    validation classes (``val_unseen``), for selecting by Recall@1 on classes training never saw
    without looking at the test classes; the training classes are the first half's others."""
    classes = choose_classes(len(class_names), cfg.num_classes, cfg.subset_seed, name)
    half = (len(classes) + 1) // 2
    n_train = half - cfg.val_classes
    if cfg.val_classes and not (cfg.val_classes >= 2 and n_train >= 2):
        allowed = (
            f"expected 2..{half - 2}"
            if half >= 4
            else "it needs at least 4 (use more classes, or data.val_classes 0)"
        )
        raise DatasetError(
            f"data.val_classes={cfg.val_classes}: the validation classes come out of the training half "
            f"({half} of {len(classes)} classes), and Recall@1 needs two of them, the classifier two "
            f"training classes; {allowed}"
        )
    train_classes, val_classes, test_classes = (
        classes[:n_train],
        classes[n_train:half],
        classes[half:],
    )
    train_x, train_y = select_classes(x, y, train_classes)
    # the validation classes go with the test classes through the split (never subsampled, standardized
    # with the training statistics), labels 0..V-1 before the test classes' V..; then they part
    test_x, test_y = select_classes(x, y, torch.cat([val_classes, test_classes]))
    train, val, test, in_pool = _train_val_test(
        train_x, train_y, test_x, test_y, n_train, cfg, cfg.imbalance_ratio
    )
    unseen = None
    if cfg.val_classes:
        is_val = test.y < cfg.val_classes
        unseen, test = test.take(is_val), test.take(~is_val)
        test.y = test.y - cfg.val_classes
    return DatasetBundle(
        train,
        val,
        test,
        n_train,
        tuple(class_names[i] for i in train_classes.tolist()),
        cfg.head_threshold,
        flip_ok,
        retrieval=True,
        test_class_names=tuple(class_names[i] for i in test_classes.tolist()),
        name=name,
        val_in_pool=in_pool,
        val_unseen=unseen,
        val_class_names=tuple(class_names[i] for i in val_classes.tolist()),
    )
