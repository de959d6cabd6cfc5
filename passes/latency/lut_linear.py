"""Non-negative least squares for the analytic base model, in relative-error terms.

Non-negative because every base term is a cost: a negative coefficient would let the model trade
one cost against another and extrapolate to nonsense (or negative latency) outside the tables.
Relative because a 0.02 ms pooling layer and a 9 ms block matter equally to a ±10% target.
"""

from __future__ import annotations

import numpy as np


def nnls(a: np.ndarray, b: np.ndarray, max_iter: int = 500) -> np.ndarray:
    """Lawson-Hanson active-set solution of min ||a x - b|| subject to x >= 0."""
    n = a.shape[1]
    x = np.zeros(n)
    active = np.zeros(n, dtype=bool)  # the "positive" set P
    tol = 1e-12 * max(1.0, float(np.abs(a).max(initial=0.0))) * n
    for _ in range(max_iter):
        gradient = a.T @ (b - a @ x)
        candidates = ~active & (gradient > tol)
        if not candidates.any():
            return x
        active[np.argmax(np.where(candidates, gradient, -np.inf))] = True
        for _ in range(max_iter):
            trial = np.zeros(n)
            trial[active] = np.linalg.lstsq(a[:, active], b, rcond=None)[0]
            if (trial[active] > 0).all():
                break
            # Step towards the unconstrained solution until the first coefficient hits zero.
            shrinking = active & (trial <= 0)
            step = np.min(x[shrinking] / (x[shrinking] - trial[shrinking]))
            x = x + step * (trial - x)
            active &= x > tol
        x = trial
    raise RuntimeError(f"NNLS did not converge in {max_iter} iterations")


def fit_relative(features: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Coefficients >= 0 minimising the sum of squared relative errors of features @ coef."""
    rows = features / target[:, None]
    scale = np.linalg.norm(rows, axis=0)
    scale[scale == 0] = 1.0  # a term that never occurs in the data stays at zero
    coef = nnls(rows / scale, np.ones(len(target)))
    return coef / scale
