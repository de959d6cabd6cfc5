"""The proxy dataset: scikit-learn's handwritten digits (1,797 real 8x8 scans, 10 classes; UCI
optdigits), which ship inside the scikit-learn wheel, so nothing is downloaded at run time.

Images are resized (bilinear) to the model's input and repeated over its channels. The split is
fixed (seeded permutation, stratified by class) so every candidate trains on the same images.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

NUM_CLASSES = 10
VALIDATION_FRACTION = 1 / 3


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("the proxy dataset (handwritten digits) comes with scikit-learn: "
                          "pip install scikit-learn") from None
    d = load_digits()
    images = (d.images / 16.0).astype(np.float32)  # pixel counts 0..16
    return images, d.target.astype(np.int64)


@lru_cache(maxsize=1)
def _split() -> tuple[np.ndarray, np.ndarray]:
    _, labels = _digits()
    rng = np.random.default_rng(0)
    train, val = [], []
    for c in range(NUM_CLASSES):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val = round(len(idx) * VALIDATION_FRACTION)
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def digits(split: str, shape: tuple[int, int, int],
           limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images [n, C, H, W] float32, labels [n])`` of ``split`` ("train" or "val")."""
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', not {split!r}")
    images, labels = _digits()
    idx = _split()[0 if split == "train" else 1][:limit]
    x = torch.from_numpy(images[idx]).unsqueeze(1)
    c, h, w = shape
    if (h, w) != x.shape[2:]:
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
    return x.repeat(1, c, 1, 1).contiguous(), torch.from_numpy(labels[idx])
