"""Active-set Newton method: the exact finish of the cone-constrained group lasso (:mod:`._blocks`).

At a solution most blocks are zero and each nonzero block ``u_j`` lies on a face of its cone: a set
``T_j`` of constraint rows holds with equality (``x_iᵀu_j = 0``; typically ``d − 1`` of them, so
``u_j`` is an extreme ray). With the support and the faces fixed, ``u_j = N_j c_j`` (``N_j`` an
orthonormal basis of ``null(X_{T_j})``) and the program becomes the smooth problem

.. math::

    \\min_c\\ \\tfrac12\\Big\\|y - \\sum_j σ_j D_j X N_j c_j\\Big\\|^2 + β\\sum_j \\|c_j\\| ,

solved by Newton's method with a line search that keeps every other constraint satisfied (a row
that becomes tight joins ``T_j``; a block that reaches zero leaves the support). At its optimum the
KKT conditions are checked and the active set is corrected:

* a nonzero block needs ``βû_j − g_j = A_{T_j}ᵀz`` with ``z ≥ 0``. The non-negative least-squares
  residual ``ρ`` of that system gives, when nonzero, the feasible descent direction ``−ρ``; the rows
  it leaves are released (Farkas);
* a zero block needs ``‖Π_{K_j}(g_j)‖ ≤ β``; violators enter along ``Π_{K_j}(g_j)``, the steepest
  feasible descent direction, on the face of that direction.

Each change strictly decreases the objective, and the method stops when no change is needed: the
point is then optimal on the blocks checked, to the accuracy of Newton's method (rounding).
Zero blocks are screened with stored multipliers: ``‖g_j + A_jᵀz_j‖`` bounds ``‖Π_{K_j}(g_j)‖`` for
any ``z_j ≥ 0``, so an exact projection is recomputed only where that bound exceeds ``β``.

References
----------
Nocedal, J. and Wright, S. (2006). Numerical Optimization, ch. 16 (active-set methods).
Pilanci, M. and Ergen, T. (2020). Neural networks are convex regularizers. ICML 2020.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import nnls

from ._blocks import Blocks, Multipliers, projected_gradient_bounds

__all__ = ["ActiveSet", "Multipliers", "screen", "solve_active_set", "tight_rows"]

_NULL = 1e-12        # eigenvalue of Σ_{i∈T} x̂_i x̂_iᵀ below which a direction is free
_TIGHT = 1e-10       # |x̂_iᵀu|/‖u‖ at or below this: the row is on the face of u
_ENTER = 1e-9        # a zero block enters when ‖Π_K(g)‖ > β(1 + _ENTER)
_MAX_ENTER = 64      # zero blocks entering at once, at most (the worst violators)
_EIGH_MAX = 600      # larger reduced Hessians are not eigendecomposed (damped Newton instead)
_PG_ABOVE = 64       # screening more blocks than this starts with batched projected gradient


@dataclass
class ActiveSet:
    """Result: nonzero blocks ``idx`` with values ``u`` (rows) and faces ``tight``; ``nu`` bounds
    ``‖Π_{K_j}(g_j)‖`` for every block checked; ``ok`` when the KKT conditions hold."""

    idx: torch.Tensor
    u: torch.Tensor
    tight: torch.Tensor
    ok: bool
    major: int
    newton: int
    nu_max: float


def tight_rows(pb: Blocks, u: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Rows on the face of each block: ``|x̂_iᵀu| ≤ _TIGHT·‖u‖`` (``(len(idx), n_c)`` bool)."""
    a = (u @ pb.Xc.T) / pb.row_norm[None, :]
    return a.abs() <= _TIGHT * u.norm(dim=1, keepdim=True)


def _bases(pb: Blocks, tight: torch.Tensor):
    """Eigenvectors ``V`` (B, r, r) of ``Σ_{i∈T_j} x̂_i x̂_iᵀ`` and the mask of the free ones (null space)."""
    Xn = pb.Xc / pb.row_norm[:, None]
    Gm = torch.einsum("bi,ij,ik->bjk", tight.to(Xn.dtype), Xn, Xn)
    w, V = torch.linalg.eigh(Gm)
    return V, w <= _NULL * torch.clamp(tight.sum(1, keepdim=True).to(w.dtype), min=1.0)


def _phi(pb, r, c, bid, B):
    norms = torch.zeros(B, dtype=c.dtype, device=c.device).index_add_(0, bid, c * c).sqrt()
    return 0.5 * float(r @ r) + pb.beta * float(norms.sum()), norms


def _direction(Hs: torch.Tensor, gs: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """Descent direction for the Jacobi-scaled Hessian ``Hs`` and gradient ``gs``: ``(step, linear)``.

    The Newton step when ``Hs`` is safely positive definite (Cholesky, no pivot below ``10⁻⁶`` of
    the largest; with more free coordinates than samples the loss part is singular and only the
    norms' curvature can make it so). Otherwise ``Hs = QΛQᵀ``: if the
    gradient has a component in the (numerical) null space, the objective is linear along
    ``−Q₀Q₀ᵀgs`` and that direction is returned with ``linear=True`` (the caller goes as far as the
    constraints allow, so a block leaves: a pivot, as in the simplex method); else the Newton step on
    the range of ``Hs``.
    """
    L, info = torch.linalg.cholesky_ex(Hs)
    if int(info) == 0 and float(L.diagonal().min()) ** 2 > 1e-12 * float(L.diagonal().max()) ** 2:
        return -torch.cholesky_solve(gs[:, None], L)[:, 0], False
    if len(gs) > _EIGH_MAX:  # too large to factor twice: Levenberg–Marquardt
        L, info = torch.linalg.cholesky_ex(Hs + 1e-10 * torch.eye(len(gs), dtype=gs.dtype, device=gs.device))
        if int(info) == 0:
            return -torch.cholesky_solve(gs[:, None], L)[:, 0], False
    lam, Q = torch.linalg.eigh(Hs)
    null = lam <= 1e-10 * float(lam.max().clamp_min(1e-300))
    g0 = Q[:, null] @ (Q[:, null].T @ gs)
    if float(g0.norm()) > 1e-8 * float(gs.norm()):
        return -g0, True
    rng = ~null
    return -Q[:, rng] @ ((Q[:, rng].T @ gs) / lam[rng]), False


def _woodbury_step(Gm, chat, nb, bid, B, beta, grad):
    """``−H'⁻¹·grad`` for ``H' = GᵀG + Σ_b (β/‖c_b‖)(I − ĉ_bĉ_bᵀ) + ε_b ĉ_bĉ_bᵀ`` (``ε_b = 10⁻³β/‖c_b‖``),
    through ``(I + G D'⁻¹ Gᵀ)`` of size ``n``: the Newton step with the norms' zero radial curvature
    replaced by a small one (an inexact Newton step, a descent direction), for many free
    coordinates. ``None`` when the ``n × n`` factorization fails."""
    eps = 1e-3

    def dinv(V):  # D'⁻¹ on the last axis: (‖c‖/β)(v − ĉ(ĉᵀv)) + (‖c‖/(εβ)) ĉ(ĉᵀv), per block
        V2 = V.reshape(-1, V.shape[-1])
        proj = torch.zeros(V2.shape[0], B, dtype=V.dtype, device=V.device).index_add_(1, bid, V2 * chat)[:, bid]
        out = (nb / beta) * (V2 - chat * proj) + (nb / (eps * beta)) * chat * proj
        return out.reshape(V.shape)

    C = torch.eye(Gm.shape[0], dtype=grad.dtype, device=grad.device) + dinv(Gm) @ Gm.T
    L, info = torch.linalg.cholesky_ex(C)
    if int(info) != 0:
        return None
    dg = dinv(grad)
    return -(dg - dinv(Gm.T @ torch.cholesky_solve((Gm @ dg)[:, None], L)[:, 0]))


def _newton(pb: Blocks, idx, u, tight, max_steps: int, counter: list):
    """Newton's method on the faces ``tight`` of the blocks ``idx`` from ``u``.

    Returns ``(u, tight, changed, good)``: after convergence (the gradient on the faces below
    ``10⁻¹¹β``), or as soon as a row became tight or a block reached zero (``changed``: the caller
    rebuilds the faces); ``good`` is False when no descent direction was found.
    """
    X, y, beta, Xc = pb.X, pb.y, pb.beta, pb.Xc
    B = u.shape[0]
    M, sig, S = pb.maskf(idx), pb.sign(idx), pb.signs(idx)
    V, free = _bases(pb, tight)
    cp = torch.einsum("brk,br->bk", V, u) * free        # coordinates in the eigenbasis, zero off the face
    u = torch.einsum("brk,bk->br", V, cp)
    if not bool((u.norm(dim=1) > 0).all()):             # a block projected to zero leaves
        return u, tight, True, True
    FV = torch.einsum("bn,nr,brk->nbk", M * sig[:, None], X, V)  # (n, B, r)
    Gm = FV[:, free]                                     # (n, K) columns of the face coordinates
    bid = torch.nonzero(free)[:, 0]
    c = cp[free]
    for _ in range(max_steps):
        counter[0] += 1
        r = y - Gm @ c
        phi, norms = _phi(pb, r, c, bid, B)
        nb = norms[bid].clamp_min(1e-300)
        chat = c / nb
        grad = -(Gm.T @ r) + beta * chat
        if float(grad.norm()) <= 1e-11 * beta:  # stationary on the faces
            break
        step, linear = None, False
        if len(c) > max(2 * pb.n, _EIGH_MAX):  # many more free coordinates than samples: Woodbury (size n)
            step = _woodbury_step(Gm, chat, nb, bid, B, beta, grad)
        if step is None:
            H = Gm.T @ Gm
            same = bid[:, None] == bid[None, :]
            H = H - beta * same * (chat[:, None] * chat[None, :]) / nb[:, None]
            H.diagonal().add_(beta / nb)
            dg = H.diagonal().clamp_min(1e-12 * float(H.diagonal().max())).sqrt()  # Jacobi: tiny blocks curve hard
            step, linear = _direction(H / (dg[:, None] * dg[None, :]), grad / dg)
            step = step / dg
        slope = float(grad @ step)
        if not math.isfinite(slope) or slope >= 0:
            return u, tight, False, False
        if -slope <= 1e-30 * phi:
            break
        # largest step keeping the rows off the faces feasible
        dp = torch.zeros_like(cp)
        dp[free] = step
        du = torch.einsum("brk,bk->br", V, dp)
        a = S * (u @ Xc.T)
        da = S * (du @ Xc.T)
        ratio = torch.where((da < 0) & ~tight, a.clamp_min(0) / (-da), torch.full_like(a, math.inf))
        amax = float(ratio.min()) if ratio.numel() else math.inf
        if linear and not math.isfinite(amax):
            return u, tight, False, False
        alpha = amax if linear else min(1.0, amax)   # along a flat direction: as far as feasible
        Gs = Gm @ step
        for _ in range(40):  # Armijo backtracking
            new, _ = _phi(pb, r - alpha * Gs, c + alpha * step, bid, B)
            if new <= phi + 1e-4 * alpha * slope or alpha < 1e-14:
                break
            alpha *= 0.5
        c = c + alpha * step
        cp = cp + alpha * dp
        u = torch.einsum("brk,bk->br", V, cp)
        if alpha >= amax * (1 - 1e-12):  # blocked: the rows that reached zero join the faces
            return u, tight | (ratio <= amax * (1 + 1e-9)), True, True
        if alpha < 1e-14:  # no progress: converged to rounding if the decrease left is tiny
            return u, tight, False, -slope <= 1e-12 * phi
    return u, tight, False, True


def _face_release(pb: Blocks, u, idx, tight, g):
    """Per block: the row to release (Farkas, see the module docstring), the bound
    ``ν = ‖g + A_Tᵀz‖`` and the residual ``‖ρ‖`` of the stationarity system (0 at a KKT point)."""
    beta = pb.beta
    grad = (beta * u / u.norm(dim=1, keepdim=True) - g).cpu().numpy()   # gradient of the block objective
    S = pb.signs(idx).cpu().numpy()
    Xc = pb.Xc.cpu().numpy()
    tn, gn = tight.cpu().numpy(), g.cpu().numpy()
    release = np.zeros_like(tn)
    nu, res = np.empty(len(idx)), np.empty(len(idx))
    for b in range(len(idx)):
        rows = np.flatnonzero(tn[b])
        if rows.size == 0:
            rho, p = grad[b], gn[b]
        else:
            A = S[b, rows, None] * Xc[rows]
            z, _ = nnls(A.T, grad[b], maxiter=50 * rows.size)
            rho, p = grad[b] - A.T @ z, gn[b] + A.T @ z
            push = -(A @ rho)                            # A d for the descent direction d = −ρ
            best = int(np.argmax(push / np.linalg.norm(A, axis=1)))
            # one row per block (as an active-set QP drops one constraint: the next Newton step on the
            # larger face then moves off it), the one the descent direction leaves fastest
            if push[best] > 1e-9 * np.linalg.norm(rho) * np.linalg.norm(A[best]):
                release[b, rows[best]] = True
        nu[b], res[b] = np.linalg.norm(p), np.linalg.norm(rho)
        if res[b] <= 1e-9 * beta:
            release[b] = False
    return torch.as_tensor(release, device=tight.device), nu, res


def solve_active_set(pb: Blocks, idx: torch.Tensor, u: torch.Tensor, check: torch.Tensor, *,
                     tight: torch.Tensor | None = None, max_major: int = 200, deadline: float | None = None,
                     mult: Multipliers | None = None) -> ActiveSet:
    """The active-set method from the blocks ``idx`` with values ``u`` (zeros dropped).

    ``check`` holds every block whose KKT condition must hold at the end (the working set or all
    blocks); violators among them enter. ``tight`` gives the initial faces (default: the rows tight
    at ``u``). Returns when the KKT conditions hold on ``check``, after ``max_major`` changes or at the
    ``deadline``; the point is feasible throughout and the objective never increases except when a
    face is first imposed on ``u``.
    """
    keep = u.norm(dim=1) > 0
    idx, u = idx[keep], u[keep]
    tight = tight_rows(pb, u, idx) if tight is None else tight[keep] | tight_rows(pb, u, idx)
    mult = mult if mult is not None else Multipliers(pb.J, pb.rank, pb.dt)
    counter = [0]
    ok, major, nu_max, stalls = False, 0, math.inf, 0
    cycles: dict[int, tuple[int, float]] = {}
    while major < max_major:
        major += 1
        if deadline is not None and time.perf_counter() > deadline:
            break
        changed, good = False, True
        if len(idx):
            u, tight, changed, good = _newton(pb, idx, u, tight, 50, counter)
        if not good:
            break
        alive = u.norm(dim=1) > 0
        if len(idx):
            alive &= _bases(pb, tight)[1].any(dim=1)     # a face of dimension 0: the block is zero
        if not bool(alive.all()):
            idx, u, tight = idx[alive], u[alive], tight[alive]
            changed = True
        if changed:
            continue
        r = pb.y - pb.fit(u, idx)
        if len(idx):
            release, nu_act, rho = _face_release(pb, u, idx, tight, pb.grad(r, idx))
        else:
            release, nu_act, rho = tight, np.zeros(0), np.zeros(0)
        n_free = int(_bases(pb, tight)[1].sum()) if len(idx) else 0
        entered = _enter(pb, r, idx, check, mult, n_free)
        phi = pb.value(u, idx)[0]
        # a block released twice without any decrease of φ is degenerate (its KKT residual ρ is at
        # rounding level and the next Newton step returns to the same face): its face is kept and
        # its bound ν ≤ β + ‖ρ‖ enters the certificate as it is
        for b in torch.nonzero(release.any(dim=1)).reshape(-1).tolist():
            count, last = cycles.get(int(idx[b]), (0, math.inf))
            count = count + 1 if phi >= last * (1 - 1e-14) else 0
            cycles[int(idx[b])] = (count, phi)
            if count >= 2:
                release[b] = False
        frozen = torch.as_tensor([cycles.get(int(j), (0, 0.0))[0] >= 2 for j in idx.tolist()], dtype=torch.bool,
                                 device=idx.device)
        stuck = torch.as_tensor(rho > 1e-9 * pb.beta, device=idx.device) & ~release.any(dim=1) & ~frozen
        if bool(stuck.any()):
            # not stationary on its face and no row to release: Newton did not finish. A small block
            # shrinking toward zero (where the curvature β/‖c‖ grows and Newton slows down) is set to
            # zero and re-enters if it must; otherwise Newton runs again.
            stalls += 1
            if stalls > 20:
                break
            small = stuck & (u.norm(dim=1) <= 1e-3 * float(u.norm(dim=1).max()))
            idx, u, tight = idx[~small], u[~small], tight[~small]
            continue
        if bool(release.any()):
            tight = tight & ~release
        if len(entered[0]):
            idx = torch.cat([idx, entered[0]])
            u = torch.cat([u, entered[1]])
            tight = torch.cat([tight, tight_rows(pb, entered[1], entered[0])])
        if not bool(release.any()) and not len(entered[0]):
            ok = True
            nu_max = max(float(np.max(nu_act, initial=0.0)), entered[2])
            break
    return ActiveSet(idx=idx, u=u, tight=tight, ok=ok, major=major, newton=counter[0], nu_max=nu_max)


def screen(pb: Blocks, r: torch.Tensor, sel: torch.Tensor, mult: Multipliers, above: float):
    """Bounds ``ν_j ≥ ‖Π_{K_j}(g_j)‖`` for the blocks ``sel``, exact (NNLS, multipliers stored) where
    the cheap bound (``‖g_j‖``, stored multipliers) exceeds ``above``; also the unit maximizers of
    those solved exactly, ``{position in sel: e_j}``."""
    bounds = torch.empty(len(sel), **pb.dt)
    dirs: dict[int, np.ndarray] = {}
    Xc = pb.Xc.cpu().numpy()
    for lo in range(0, len(sel), 4096):
        part = sel[lo:lo + 4096]
        g = pb.grad(r, part)
        bound = torch.minimum(g.norm(dim=1), mult.bound(pb, g, part))
        hot = torch.nonzero(bound > above).reshape(-1)
        if len(hot) > _PG_ABOVE:  # many: batched projected gradient first, exact NNLS where still above
            pg, zpg = projected_gradient_bounds(pb, g[hot], part[hot])
            bound[hot] = torch.minimum(bound[hot], pg)
            done = pg <= above
            mult.store_many(part[hot[done]], zpg[done])
            hot = hot[~done]
        if len(hot):
            gh = g[hot].cpu().numpy()
            Sh = pb.signs(part[hot]).cpu().numpy()
            for k in range(len(hot)):
                A = Xc * Sh[k][:, None]
                try:
                    z, _ = nnls(A.T, -gh[k], maxiter=50 * A.shape[0])
                except RuntimeError:
                    z = np.zeros(A.shape[0])
                p = gh[k] + A.T @ z
                v = float(np.linalg.norm(p))
                mult.store(int(part[hot[k]]), z)
                bound[hot[k]] = v
                if v > 0:
                    dirs[lo + int(hot[k])] = p / v
        bounds[lo:lo + 4096] = bound
    return bounds, dirs


def _enter(pb: Blocks, r: torch.Tensor, active: torch.Tensor, check: torch.Tensor, mult: Multipliers,
           n_free: int = 0):
    """Zero blocks of ``check`` that violate ``‖Π_K(g)‖ ≤ β``: ``(indices, initial values, max bound)``.

    Screens with :func:`screen`. The entering values are ``α_j e_j`` (``e_j`` the unit projection,
    ``α_j`` the minimizer along it alone, shared among those entering); at most as many enter as keep
    the free coordinates below ``n`` (the worst violators first).
    """
    beta, dt = pb.beta, pb.dt
    inactive = torch.ones(pb.J, dtype=torch.bool, device=r.device)
    inactive[active] = False
    sel = check[inactive[check]]
    thr = beta * (1 + _ENTER)
    bounds, dirs = screen(pb, r, sel, mult, thr)
    nu_max = float(bounds.max()) if len(bounds) else 0.0
    viol = [k for k in dirs if float(bounds[k]) > thr]
    if not viol:
        return torch.zeros(0, dtype=torch.long, device=r.device), torch.zeros(0, pb.rank, **dt), nu_max
    room = max(1, min(_MAX_ENTER, (pb.n - n_free) // max(pb.rank, 1)))  # keep ≤ n free coordinates
    viol = sorted(viol, key=lambda k: -float(bounds[k]))[:room]          # the worst violators first
    ids = sel[torch.as_tensor(viol, device=r.device)]
    vals = bounds[torch.as_tensor(viol, device=r.device)]
    E = torch.as_tensor(np.stack([dirs[k] for k in viol]), **dt)
    F = (E @ pb.X.T) * pb.maskf(ids)                    # (m, n): D_j X e_j (sign aside)
    alpha = (vals - beta) / (F * F).sum(1).clamp_min(1e-300)
    alpha = torch.maximum(alpha / len(ids), 1e-3 * alpha)   # shared when many enter, never negligible
    return ids, alpha[:, None] * E, nu_max
