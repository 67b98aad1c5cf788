"""Primal–dual interior-point method for the cone-constrained group lasso on a set of blocks.

On blocks ``j ∈ W`` (:mod:`._blocks`) it solves

.. math::

    \\min_{u}\\ \\tfrac12\\Big\\|y - \\sum_{j} σ_j D_j X u_j\\Big\\|^2 + β\\sum_j \\|u_j\\|
    \\quad\\text{s.t.}\\quad s_j = A_j u_j \\ge 0,\\ A_j = (2D_j - I)X,

with multipliers ``z_j ≥ 0`` for the slacks (Mehrotra predictor–corrector) and the norm replaced
by its barrier-smoothed form ``min_t βt − μ log(t² − ‖u‖²)`` (closed form). The start is feasible:
``u_j`` a multiple of the pattern's interior generator. The Newton matrix is block diagonal
(``d × d`` blocks, batched Cholesky) plus the rank-``n`` loss term; Woodbury reduces each step to one
``n × n`` Cholesky factor. Everything is torch float64, so it runs on a GPU when the data live there.

The method is used to *identify* the solution (which blocks are nonzero, which constraints are
tight); :mod:`._active_set` then finishes it exactly. It stops on the barrier's own duality gap
``m·μ`` relative to the objective (its multipliers are too noisy near the end for the dual bound of
SPEC §6 to certify anything: that bound is computed by the finish).

References
----------
Mehrotra, S. (1992). On the implementation of a primal-dual interior point method. SIAM J. Optim.
2(4). Pilanci, M. and Ergen, T. (2020). Neural networks are convex regularizers. ICML 2020.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from ._blocks import Blocks

__all__ = ["IPMResult", "interior_point"]

#: ``(mugap, fraction)``: once the barrier gap is at most ``mugap``, blocks below ``fraction`` of the
#: largest are dropped (``shrink``).
SHRINK_CUTS = ((1e-1, 1e-2), (1e-3, 1e-3))



@dataclass
class IPMResult:
    idx: torch.Tensor        # (J,) the blocks left (fewer than given when ``shrink``)
    u: torch.Tensor          # (J, rank) blocks
    s: torch.Tensor          # (J, n_c) slacks
    z: torch.Tensor          # (J, n_c) multipliers
    objective: float
    mugap: float             # (number of complementarity pairs)·μ / objective: the barrier's gap
    iterations: int


def _smoothed_norm(u, beta, mu):
    """Gradient and Hessian of ``min_t βt − μ log(t² − ‖u‖²)`` (a smoothed ``β‖u‖``)."""
    nu = u.norm(dim=1)
    s = torch.sqrt(mu * mu + (beta * nu) ** 2)
    c = beta**2 / (mu + s)
    eye = torch.eye(u.shape[1], dtype=u.dtype, device=u.device)
    hess = c[:, None, None] * eye - (beta**4 / (s * (mu + s) ** 2))[:, None, None] * (u[:, :, None] * u[:, None, :])
    return c[:, None] * u, hess


@dataclass
class _Step:
    """One Newton matrix (factored) and the data of its right-hand sides."""

    pb: Blocks
    M: torch.Tensor       # (J, n) masks
    S: torch.Tensor       # (J, n_c) signs
    sig: torch.Tensor     # (J,) block signs
    Li: torch.Tensor      # (J, d, d): H_j⁻¹ = Li_jᵀ Li_j
    Lc: torch.Tensor      # (n, n) Cholesky factor of I + Σ_j D_jXH_j⁻¹XᵀD_j
    g: torch.Tensor
    s: torch.Tensor
    z: torch.Tensor
    wgt: torch.Tensor     # z / s
    R3: torch.Tensor      # slack residual A u − s

    def hsolve(self, b):
        return torch.einsum("jkd,jk->jd", self.Li, torch.einsum("jkd,jd->jk", self.Li, b))

    def direction(self, target, gsm):
        """Newton direction ``(du, ds, dz)`` for complementarity ``target`` and norm gradient ``gsm``."""
        X, Xc, M, S, sig = self.pb.X, self.pb.Xc, self.M, self.S, self.sig
        b = self.g - gsm + (S * (target / self.s - self.wgt * self.R3)) @ Xc
        hb = self.hsolve(b)
        wv = torch.cholesky_solve((((hb @ X.T) * M).T @ sig)[:, None], self.Lc)[:, 0]
        du = hb - self.hsolve(((M * wv[None, :]) @ X) * sig[:, None])
        ds = S * (du @ Xc.T) + self.R3
        return du, ds, target / self.s - self.z - self.wgt * ds


def _gram(A: torch.Tensor) -> torch.Tensor:
    """``A Aᵀ``: on the CPU through NumPy, whose matmul sees the transposed operand and calls the symmetric
    rank-k update (half the flops of a general product; the ``n × n`` Woodbury matrix is most of an
    iteration's work)."""
    if A.device.type == "cpu" and A.dtype == torch.float64:
        An = A.detach().contiguous().numpy()
        return torch.from_numpy(An @ An.T)
    return A @ A.T


def _max_step(v, dv, frac):
    return min(1.0, frac * float(torch.where(dv < 0, -v / dv, math.inf).min()))


def interior_point(pb: Blocks, idx: torch.Tensor, *, tol: float, max_iter: int, shrink: bool = False,
                   deadline: float | None = None) -> IPMResult:
    """Mehrotra predictor–corrector on the blocks ``idx`` of ``pb`` (see the module docstring).

    Stops when the slacks are feasible and ``mugap = m·μ/objective ≤ tol`` (``m`` complementarity
    pairs: the duality gap of the barrier problem, relative). With ``shrink`` the blocks far below
    the largest (``‖u_j‖ < 10⁻²·max`` once ``mugap ≤ 0.1``, ``< 10⁻³·max`` once ``≤ 10⁻³``) are
    dropped as the method proceeds: a heuristic, which the active-set finish corrects.
    """
    X, Xc, y, beta = pb.X, pb.Xc, pb.y, pb.beta
    M, S, sig = pb.maskf(idx), pb.signs(idx), pb.sign(idx)
    J, d, n = len(idx), X.shape[1], pb.n
    dt = dict(dtype=X.dtype, device=X.device)
    u = torch.zeros(J, d, **dt)
    s = torch.full((J, Xc.shape[0]), 1e-2, **dt)
    z = (20.0 / s.numel()) / s
    eye_n = torch.eye(n, **dt)
    eye_d = torch.eye(d, **dt)
    XX = (Xc[:, :, None] * Xc[:, None, :]).reshape(-1, d * d)
    obj, mugap, it = math.inf, math.inf, 0
    cuts = list(SHRINK_CUTS) if shrink else []
    while it < max_iter:
        it += 1
        XU = u @ X.T
        r = y - (XU * M).T @ sig
        g = ((M * r[None, :]) @ X) * sig[:, None]
        R3 = S * XU[:, pb.rows] - s
        mu = float((s * z).mean())
        obj = 0.5 * float(r @ r) + beta * float(u.norm(dim=1).sum())
        infeas = float(R3.abs().max())
        mugap = (s.numel() + 2 * J) * mu / max(obj, 1e-300)
        if infeas <= 1e-9 * max(float(s.max()), 1e-6) and mugap <= tol:  # (slacks of a zero solution → 0)
            break
        if deadline is not None and time.perf_counter() > deadline:
            break
        if cuts and mugap <= cuts[0][0]:
            nrm = u.norm(dim=1)
            keep = nrm >= cuts.pop(0)[1] * float(nrm.max())
            if int(keep.sum()) < 0.8 * J:
                idx, u, s, z, M, S, sig, R3 = (t[keep] for t in (idx, u, s, z, M, S, sig, R3))
                J = len(idx)
                r = y - (((u @ X.T) * M).T @ sig)
                g = ((M * r[None, :]) @ X) * sig[:, None]
        gph, Hph = _smoothed_norm(u, beta, mu)
        wgt = z / s
        H = Hph + (wgt @ XX).reshape(J, d, d)
        dg = H.diagonal(dim1=1, dim2=2).sqrt()
        Hs = H / (dg[:, :, None] * dg[:, None, :])
        Ls, info = torch.linalg.cholesky_ex(Hs)
        if int(info.max()) > 0:
            Ls, info = torch.linalg.cholesky_ex(Hs + 1e-13 * eye_d)
            if int(info.max()) > 0:
                break
        # H⁻¹ = LᵢᵀLᵢ with Lᵢ = (D_g L_s)⁻¹ (batched d × d); Woodbury through C = I + Σ_j D_jXH_j⁻¹XᵀD_j
        Li = torch.linalg.solve_triangular(Ls, eye_d.expand(J, d, d), upper=False) / dg[:, None, :]
        Yt = (torch.einsum("nd,jkd->njk", X, Li) * M.T[:, :, None]).reshape(n, J * d)
        C = eye_n + _gram(Yt)
        Lc, info = torch.linalg.cholesky_ex(C)
        if int(info) != 0:  # rounding in a badly scaled C (late iterations): a tiny jitter, else stop here
            Lc, info = torch.linalg.cholesky_ex(C + 1e-12 * float(C.diagonal().max()) * eye_n)
            if int(info) != 0:
                break
        newton = _Step(pb, M, S, sig, Li, Lc, g, s, z, wgt, R3)
        du, ds, dz = newton.direction(torch.zeros_like(s), gph)                   # predictor
        ap, ad = _max_step(s, ds, 1.0), _max_step(z, dz, 1.0)
        sigma = min(1.0, (float(((s + ap * ds) * (z + ad * dz)).mean()) / max(mu, 1e-300)) ** 3)
        gsm = _smoothed_norm(u, beta, max(sigma * mu, 1e-300))[0]                   # the corrector aims at σμ
        du, ds, dz = newton.direction(sigma * mu - ds * dz, gsm)
        ap, ad = _max_step(s, ds, 0.99), _max_step(z, dz, 0.99)
        u, s, z = u + ap * du, s + ap * ds, z + ad * dz
    return IPMResult(idx=idx, u=u, s=s, z=z, objective=obj, mugap=mugap, iterations=it)
