"""The normalized data of one scalar program and the per-block operations every solver phase uses.

A *block* is one variable ``u_j`` of the program: block ``j < P`` is ``v_j`` (sign ``σ_j = +1``),
block ``P + i`` is ``w_i`` (``σ = −1``), both on pattern ``D_i``. In the normalized problem
(``‖X‖₂ = 1``, ``‖y‖ = 1``, ``β ← β/(‖X‖₂‖y‖)``, SPEC §7) block ``j`` contributes ``σ_j D_j X u_j``
to the fit and is constrained to ``K_j = {u : (2D_j − I)Xu ≥ 0}``. The program is solved in the row
space of ``X`` (``u = B c``, ``B`` an orthonormal basis): a component of ``u`` in ``null(X)`` changes
neither the fit nor the constraints and only adds to ``‖u‖``.

For a residual ``r = y − f`` the gradient of the loss at block ``j`` is ``−g_j`` with
``g_j = σ_j XᵀD_j r``; a zero block is optimal iff ``‖Π_{K_j}(g_j)‖ ≤ β``, and for any ``z ≥ 0``
``‖Π_{K_j}(g_j)‖ ≤ ‖g_j + A_jᵀz‖`` (``A_j = (2D_j − I)X``): the dual certificate of the solver.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["Blocks", "Multipliers", "projected_gradient_bounds"]

#: Blocks per chunk in the operations over many blocks (bounds the memory of a (chunk, n) mask).
CHUNK = 4096


class Blocks:
    """Normalized scalar program on a pattern set (torch float64 on ``device``)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, masks: np.ndarray, generators: np.ndarray, beta: float,
                 device=None):
        n, d = X.shape
        _, sv, Vt = np.linalg.svd(X, full_matrices=False)
        rank = int(np.sum(sv > max(n, d) * np.finfo(float).eps * sv[0])) if sv.size and sv[0] > 0 else 0
        self.basis = Vt[:rank].T  # (d, rank): u = basis @ c
        self.rank = rank
        self.sx = float(sv[0]) if rank else 1.0
        self.sy = float(np.linalg.norm(y))
        self.beta = beta / (self.sx * self.sy)
        dt = dict(dtype=torch.float64, device=device)
        self.dt = dt
        self.X = torch.as_tensor(X @ self.basis / self.sx, **dt)  # (n, rank)
        self.y = torch.as_tensor(y / self.sy, **dt)
        rows = np.any(X != 0, axis=1)
        self.rows = torch.as_tensor(rows, device=device)
        self.Xc = self.X[self.rows]  # rows that constrain a cone
        self.row_norm = self.Xc.norm(dim=1)
        self.P = masks.shape[1]
        self.J = 2 * self.P
        self.n = n
        self.masks = torch.as_tensor(np.ascontiguousarray(masks.T), device=device)  # (P, n) bool
        G = torch.as_tensor(np.ascontiguousarray((self.basis.T @ generators).T), **dt)  # (P, rank)
        self.gens = G / G.norm(dim=1, keepdim=True).clamp_min(1e-300)

    # ------------------------------------------------------------------ block data
    def pattern(self, idx: torch.Tensor) -> torch.Tensor:
        return torch.remainder(idx, self.P)

    def sign(self, idx: torch.Tensor) -> torch.Tensor:
        return 1.0 - 2.0 * (idx >= self.P).to(self.X.dtype)

    def maskf(self, idx: torch.Tensor) -> torch.Tensor:
        """``(len(idx), n)`` float 0/1 diagonals of ``D_j``."""
        return self.masks[self.pattern(idx)].to(self.X.dtype)

    def signs(self, idx: torch.Tensor) -> torch.Tensor:
        """``(len(idx), n_c)`` rows of ``2D_j − I`` on the constraining rows."""
        return 2.0 * self.masks[self.pattern(idx)][:, self.rows].to(self.X.dtype) - 1.0

    def generators(self, idx: torch.Tensor) -> torch.Tensor:
        return self.gens[self.pattern(idx)]

    # ------------------------------------------------------------------ fit and gradients
    def fit(self, u: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """``Σ_j σ_j D_j X u_j``."""
        out = torch.zeros(self.n, **self.dt)
        for lo in range(0, len(idx), CHUNK):
            sel = idx[lo:lo + CHUNK]
            out += ((u[lo:lo + CHUNK] @ self.X.T) * self.maskf(sel)).T @ self.sign(sel)
        return out

    def grad(self, r: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """``g_j = σ_j XᵀD_j r`` for the blocks ``idx`` (one chunk: callers chunk large sets)."""
        return ((self.maskf(idx) * r[None, :]) @ self.X) * self.sign(idx)[:, None]

    def value(self, u: torch.Tensor, idx: torch.Tensor) -> tuple[float, torch.Tensor]:
        """``(objective, residual)`` of the normalized program."""
        r = self.y - self.fit(u, idx)
        return 0.5 * float(r @ r) + self.beta * float(u.norm(dim=1).sum()), r


def projected_gradient_bounds(pb: Blocks, g: torch.Tensor, idx: torch.Tensor, steps: int = 60):
    """Proven bounds ``‖g_j + A_jᵀz_j‖ >= ‖Π_{K_j}(g_j)‖`` for many blocks at once, with ``z_j >= 0`` from
    ``steps`` accelerated projected-gradient steps on ``min_{z>=0} ½‖g_j + A_jᵀz‖²`` (batched; the step
    is 1 since ``‖A_j‖₂ <= ‖X‖₂ = 1`` in normalized units). Any ``z >= 0`` gives a valid bound (weak
    duality of the cone projection); the bound approaches the exact value as ``z`` converges. Returns
    ``(bounds, z)``, ``z`` of shape ``(len(idx), n_c)``."""
    S = pb.signs(idx)
    Xc = pb.Xc
    z = torch.zeros_like(S)
    w = z
    t = 1.0
    for _ in range(steps):
        p = g + (S * w) @ Xc
        z_new = torch.clamp(w - S * (p @ Xc.T), min=0.0)
        t_new = 0.5 * (1.0 + (1.0 + 4.0 * t * t) ** 0.5)
        w = z_new + ((t - 1.0) / t_new) * (z_new - z)
        z, t = z_new, t_new
    return (g + (S * z) @ Xc).norm(dim=1), z


class Multipliers:
    """Sparse stored multipliers ``z_j`` (row indices, values) of the blocks screened so far."""

    def __init__(self, J: int, rank: int, dt):
        self.rows = torch.zeros(J, max(rank, 1), dtype=torch.long, device=dt["device"])
        self.vals = torch.zeros(J, max(rank, 1), **dt)

    def bound(self, pb: Blocks, g: torch.Tensor, sel: torch.Tensor) -> torch.Tensor:
        rows, vals = self.rows[sel], self.vals[sel]
        sgn = torch.gather(pb.signs(sel), 1, rows)
        return (g + torch.einsum("bk,bkr->br", vals * sgn, pb.Xc[rows])).norm(dim=1)

    def export(self, P: int):
        """``(rows, values)`` as NumPy arrays (blocks ``0..2P−1``), for a later warm start."""
        return self.rows.cpu().numpy(), self.vals.cpu().numpy()

    def load(self, blocks: torch.Tensor, rows: np.ndarray, vals: np.ndarray):
        k = min(self.rows.shape[1], rows.shape[1])
        self.rows[blocks, :k] = torch.as_tensor(rows[:, :k], device=self.rows.device)
        self.vals[blocks, :k] = torch.as_tensor(vals[:, :k], dtype=self.vals.dtype, device=self.vals.device)

    def store_many(self, blocks: torch.Tensor, Z: torch.Tensor):
        """Keep the ``rank`` largest entries of each row of ``Z`` (multipliers of ``blocks``)."""
        k = min(self.rows.shape[1], Z.shape[1])
        vals, rows = torch.topk(Z, k, dim=1)
        self.rows[blocks, :k] = rows
        self.vals[blocks, :k] = vals

    def store(self, j: int, z: np.ndarray):
        k = self.rows.shape[1]
        top = np.argsort(-z)[:k]
        self.rows[j] = torch.as_tensor(top, device=self.rows.device)
        self.vals[j] = torch.as_tensor(np.where(z[top] > 0, z[top], 0.0), dtype=self.vals.dtype,
                                       device=self.vals.device)
