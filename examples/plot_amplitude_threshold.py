"""
The scalar problem behind every closed form
===========================================

Every closed form of the paper reduces to one scalar problem per singular value or class
(SPEC §1):

.. math::

    s^\\star(\\sigma;\\beta,L) = \\operatorname*{argmin}_{s\\ge 0}\\ \\tfrac12(\\sigma-s)^2
        + \\tfrac{\\beta L}{2}\\, s^{2/L}.

For :math:`L = 2` it is the soft threshold :math:`(\\sigma-\\beta)_+`. For deeper networks the
penalty :math:`s^{2/L}` is concave, the problem is non-convex, and its minimizer *jumps* from 0
to a positive value at the threshold :math:`\\tau_L(\\beta)` returned by
:func:`deepdual.amplitude_threshold`. :func:`deepdual.optimal_amplitude` solves it exactly with a
bracketing root finder (never on a grid).
"""

# %%
# The optimal amplitude for depths 2 to 5
# ---------------------------------------
import matplotlib.pyplot as plt
import numpy as np

import deepdual as dd

beta = 1.0
sigma = np.linspace(0.0, 4.0, 801)
fig, ax = plt.subplots(figsize=(6, 4))
for i, L in enumerate([2, 3, 4, 5]):
    s = np.array([dd.optimal_amplitude(v, beta=beta, depth=L) for v in sigma])
    tau = dd.amplitude_threshold(beta=beta, depth=L)
    ax.plot(sigma, s, color=f"C{i}", label=f"L = {L}")
    ax.axvline(tau, color=f"C{i}", ls=":", lw=1)
    print(f"L = {L}: threshold tau_L({beta}) = {tau:.4f}, s* just above it = "
          f"{dd.optimal_amplitude(tau * (1 + 1e-9), beta=beta, depth=L):.4f}")
ax.plot(sigma, sigma, color="0.7", lw=0.8, label="s = σ (β = 0)")
ax.set_xlabel("σ")
ax.set_ylabel("s*(σ; β = 1, L)")
ax.set_title("optimal amplitude (dotted: τ_L(β))")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Why it jumps: the scalar objective at :math:`L = 3`
# ---------------------------------------------------
# Below the threshold the only minimizer is :math:`s = 0`; at the threshold a second local
# minimizer has the same value, and above it that one wins.
L = 3
tau = dd.amplitude_threshold(beta=beta, depth=L)
s = np.linspace(0.0, 3.0, 601)
fig, ax = plt.subplots(figsize=(6, 4))
for j, v in enumerate([0.8 * tau, tau, 1.2 * tau]):
    h = 0.5 * (v - s) ** 2 + 0.5 * beta * L * s ** (2 / L)
    ax.plot(s, h - h[0], color=f"C{j + 4}", label=f"σ = {v / tau:.1f} τ₃")
    star = dd.optimal_amplitude(v, beta=beta, depth=L)
    ax.plot([star], [0.5 * (v - star) ** 2 + 0.5 * beta * L * star ** (2 / L) - 0.5 * v**2], "o",
            color=f"C{j + 4}")
ax.axhline(0.0, color="0.6", lw=0.8)
ax.set_xlabel("s")
ax.set_ylabel("objective − objective at s = 0")
ax.set_title("L = 3, β = 1 (dots: s*)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
