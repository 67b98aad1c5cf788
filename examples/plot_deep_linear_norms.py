"""
Deep linear networks: balanced layers and the closed form (Proposition 3.1, Theorem 3.6)
========================================================================================

A deep linear network trained on problem (2) ends *balanced*: every layer has the same operator
norm and the same Frobenius norm (Proposition 3.1, Figure 3a), and its rank is the closed form's.
With orthonormal data columns Theorem 3.6 gives the global optimum
:math:`W^\\star = U\\,\\mathrm{diag}(s^\\star(\\sigma_i;\\beta,L))\\,V^\\top`, so the trained
objective can be compared with :math:`P^\\star`: no run may end below it.

For :math:`L > 2` a direction whose :math:`\\sigma_i` lies between the *stationary* threshold
(the smallest :math:`\\sigma` for which :math:`\\tfrac12(\\sigma-s)^2 + \\tfrac{\\beta L}{2}s^{2/L}`
has a stationary point :math:`s > 0`) and the jump :math:`\\tau_L(\\beta)` gives gradient training a
spurious local minimum. Here :math:`\\beta` puts :math:`\\sigma_3` below the stationary threshold and
:math:`\\sigma_2` above the jump, so the optimum keeps two directions and training can find it.
"""

import matplotlib.pyplot as plt
import numpy as np

import deepdual as dd

rng = np.random.default_rng(1)
X = np.linalg.qr(rng.standard_normal((50, 5)))[0]  # XᵀX = I
U, V = np.linalg.qr(rng.standard_normal((5, 5)))[0], np.linalg.qr(rng.standard_normal((5, 5)))[0]
Y = X @ U @ np.diag([6.0, 5.0, 1.0, 0.5, 0.2]) @ V.T + 0.05 * rng.standard_normal((50, 5))
widths = [5, 30, 20, 20, 5]
L = len(widths) - 1
sigma = np.linalg.svd(X.T @ Y, compute_uv=False)


def stationary_threshold(beta, L):
    s0 = (beta * (L - 2) / L) ** (L / (2 * L - 2))
    return s0 + beta * s0 ** ((2 - L) / L)


# Both thresholds scale as β^{L/(2L−2)} (positive homogeneity): put the stationary one at √(σ₂σ₃).
beta = (np.sqrt(sigma[1] * sigma[2]) / stationary_threshold(1.0, L)) ** ((2 * L - 2) / L)
print(f"σ(XᵀY) = {np.round(sigma, 3)}; β = {beta:.4f}: stationary threshold "
      f"{stationary_threshold(beta, L):.3f}, jump τ_L(β) = {dd.amplitude_threshold(beta=beta, depth=L):.3f}")
sol = dd.closed_form(X, Y, beta=beta, depth=L)
print(f"{sol.theorem}: P* = {sol.objective:.6f}, ranks {sol.ranks}")

net = dd.MLP(widths, activation="linear", seed=1)
hist = dd.train(net, X, Y, beta=beta, optimizer="lbfgs", lr=1.0, epochs=40, record=("norms", "ranks"))
print(f"L-BFGS: P = {hist.final_objective:.6f} "
      f"(relative excess {(hist.final_objective - sol.objective) / sol.objective:.1e}), "
      f"final layer ranks {hist.records['ranks'][-1]}")

op = np.array([[n.operator for n in row] for row in hist.records["norms"]])
fro = np.array([[n.frobenius for n in row] for row in hist.records["norms"]])
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
for layer in range(L):
    axes[0].plot(hist.record_epochs, op[:, layer], color=f"C{layer}", label=f"layer {layer + 1}")
    axes[1].plot(hist.record_epochs, fro[:, layer], color=f"C{layer}")
axes[0].set_title("operator norm ‖W_l‖₂")
axes[1].set_title("Frobenius norm ‖W_l‖_F")
axes[0].legend(fontsize=8)
axes[2].semilogy(np.arange(1, hist.epochs_run + 1), np.maximum(hist.objective - sol.objective, 1e-16))
axes[2].set_title("P(θ) − P* (Theorem 3.6)")
for ax in axes:
    ax.set_xlabel("L-BFGS epoch")
fig.tight_layout()
plt.show()
