"""
Rank of the optimal first layer against β (Remark 2.1, Figure 2a)
=================================================================

For a linear network on data with orthonormal rows or columns the optimal end-to-end map is
:math:`W^\\star = U\\,\\mathrm{diag}(s^\\star(\\sigma_i;\\beta,L))\\,V^\\top` with
:math:`X^\\top Y = U\\Sigma V^\\top` (Theorems 2.4 and 3.6). For two layers
:math:`s^\\star = (\\sigma-\\beta)_+`, so

.. math::

    \\operatorname{rank}(W_1^\\star) = \\#\\{i : \\sigma_i(Y^\\top X) > \\beta\\}:

the rank steps down exactly at the singular values of :math:`Y^\\top X`. Deeper networks keep a
direction only while :math:`\\sigma_i` exceeds the jump threshold :math:`\\tau_L(\\beta)`.
:func:`deepdual.closed_form` returns the layer ranks of the network it builds in ``Solution.ranks``.
"""

import matplotlib.pyplot as plt
import numpy as np

import deepdual as dd

rng = np.random.default_rng(0)
n, d, K = 40, 8, 5
X = np.linalg.qr(rng.standard_normal((n, d)))[0]  # orthonormal columns: XᵀX = I
Y = rng.standard_normal((n, K))
sigma = np.linalg.svd(Y.T @ X, compute_uv=False)
print("singular values of YᵀX:", np.round(sigma, 3))

betas = np.geomspace(0.05, 1.2 * sigma[0], 120)
fig, ax = plt.subplots(figsize=(7, 3.6))
for i, L in enumerate([2, 3, 4]):
    ranks = [dd.closed_form(X, Y, beta=b, depth=L).ranks[0] for b in betas]
    ax.step(betas, ranks, where="mid", color=f"C{i}", label=f"L = {L}: rank(W₁) of the closed form")
    if L == 2:
        predicted = [(sigma > b).sum() for b in betas]
        assert ranks == predicted  # the count of σᵢ(YᵀX) > β, at every β
for s in sigma:
    ax.axvline(s, color="0.6", ls=":", lw=1)
ax.set_xscale("log")
ax.set_xlabel("β (dotted: singular values of YᵀX)")
ax.set_ylabel("rank of the first layer")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Every one of these networks is certified: for :math:`L = 2` the dual certificate of
# Theorem 2.4 closes the gap to rounding.
sol = dd.closed_form(X, Y, beta=float(sigma[2]), depth=2)
print(sol.theorem, "ranks", sol.ranks, f"P = {sol.objective:.6f}", f"gap = {sol.gap:.1e}")
plt.show()
