"""
The two-layer convex program on 2-D data (Pilanci & Ergen 2020)
===============================================================

Beyond the closed forms, a two-layer ReLU network on *any* data is the solution of a convex program
over the activation patterns :math:`D_i = \\mathrm{diag}(\\mathbb 1[Xg \\ge 0])` of the data
(the dual of the paper's eq. (4) with :math:`L = 2`; see :doc:`/user_guide/convex_program`):

.. math::

    \\min_{v_i, w_i}\\ \\tfrac12\\Bigl\\|\\sum_i D_iX(v_i - w_i) - y\\Bigr\\|^2
        + \\beta\\sum_i(\\|v_i\\| + \\|w_i\\|)
    \\quad\\text{s.t.}\\quad (2D_i - I)Xv_i \\ge 0,\\ (2D_i - I)Xw_i \\ge 0 .

On 2-D data with a bias column the patterns can be enumerated (about :math:`n^2` of them), so
:func:`deepdual.convex_relu` solves the *exact* program and certifies the network it returns with a
dual bound. Here: 60 points of scikit-learn's two moons, targets :math:`\\pm 1`.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons

import deepdual as dd

X, labels = make_moons(60, noise=0.15, random_state=0)
y = 2.0 * labels - 1.0
beta = 0.1
sol = dd.convex_relu(X, y, beta=beta, bias=True)
print(f"{sol.details['n_patterns']} patterns ({sol.details['pattern_source']}, complete: {sol.details['complete']})")
print(f"P = {sol.objective:.8f}, certified lower bound = {sol.lower_bound:.8f}, relative gap = {sol.relative_gap:.1e}")
print(f"{sol.network.layer_shapes[0][0]} neurons; training accuracy "
      f"{np.mean(np.sign(sol.predict(X).ravel()) == y):.2f}")

# %%
# The same model trained by gradient descent (hidden biases regularized with the weights, as in the
# program) from three random initializations: no run can end below the certified lower bound.
trained = []
for seed in range(3):
    net = dd.ParallelNet(2, 1, depth=2, branches=50, activation="relu", bias=True, penalize_bias=True, seed=seed)
    hist = dd.train(net, X, y, beta=beta, optimizer="adam", lr=0.03, epochs=600)
    trained.append(hist)
    print(f"Adam, seed {seed}: P = {hist.final_objective:.6f} "
          f"({(hist.final_objective - sol.lower_bound) / sol.lower_bound:.1e} above the bound)")

xx, yy = np.meshgrid(np.linspace(-1.6, 2.6, 200), np.linspace(-1.2, 1.7, 150))
grid = np.column_stack([xx.ravel(), yy.ravel()])
f = sol.predict(grid).reshape(xx.shape)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
cs = axes[0].contourf(xx, yy, f, levels=20, cmap="RdBu_r", vmin=-1.5, vmax=1.5)
axes[0].contour(xx, yy, f, levels=[0.0], colors="k")
axes[0].scatter(*X[labels == 0].T, marker="o", facecolors="white", edgecolors="k", s=28, label="y = −1")
axes[0].scatter(*X[labels == 1].T, marker="^", facecolors="black", edgecolors="white", s=32, label="y = +1")
axes[0].legend(fontsize=8, loc="lower left")
axes[0].set_title("certified optimal network (black: f = 0)")
fig.colorbar(cs, ax=axes[0], fraction=0.046)
for seed, hist in enumerate(trained):
    axes[1].semilogy(hist.objective - sol.lower_bound, label=f"Adam, seed {seed}")
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("P(θ) − certified lower bound")
axes[1].axhline(sol.gap, color="k", ls="--", label="convex program")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()
