"""
Certifying a network trained by SGD (Theorem 2.4)
=================================================

:func:`deepdual.certify` needs no optimum: for a two-layer linear network the residual
:math:`R = Y - f(X)`, scaled into :math:`\\{\\Lambda : \\sigma_{\\max}(X^\\top\\Lambda) \\le \\beta\\}`,
is dual feasible, so its dual value :math:`D(\\Lambda) \\le P^\\star` (weak duality) for *any*
network. The gap :math:`P(\\theta) - D(\\Lambda) \\ge P(\\theta) - P^\\star` says how far a
trained network is from the global optimum — here along an SGD run, certified every 10 epochs.
"""

import matplotlib.pyplot as plt
import numpy as np

import deepdual as dd

rng = np.random.default_rng(0)
X, Y = rng.standard_normal((50, 10)), rng.standard_normal((50, 4))
beta = 3.0
optimum = dd.closed_form(X, Y, beta=beta, depth=2)  # certified optimum, for reference
print(optimum.theorem, f"P* = {optimum.objective:.6f} (gap {optimum.gap:.1e})")

epochs, objective, lower = [], [], []


def certify_every_10(epoch, network, history):
    if epoch % 10 == 0:
        cert = dd.certify(network, X, Y, beta=beta)
        epochs.append(epoch)
        objective.append(cert.objective)
        lower.append(cert.lower_bound)


net = dd.ParallelNet(10, 4, depth=2, branches=8, seed=0)
hist = dd.train(net, X, Y, beta=beta, optimizer="sgd", lr=1e-3, momentum=0.9, epochs=300,
                callback=certify_every_10)
cert = dd.certify(net, X, Y, beta=beta)
print(f"after {hist.epochs_run} epochs: P = {cert.objective:.6f}, lower bound = {cert.lower_bound:.6f}, "
      f"gap = {cert.gap:.2e} ({cert.method})")

# %%
# The lower bound is valid at every epoch — it never exceeds the closed form's objective — and the
# certified gap falls as SGD converges. It stays above the distance to the closed form: the bound
# uses only the residual of the network at hand, not the optimum.
epochs, objective, lower = map(np.asarray, (epochs, objective, lower))
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
axes[0].plot(epochs, objective, label="P(θ) of the SGD network")
axes[0].plot(epochs, lower, label="certified lower bound D(Λ)")
axes[0].axhline(optimum.objective, color="k", ls="--", lw=1, label="P* (closed form)")
axes[0].set_ylim(optimum.objective - 40, optimum.objective + 80)
axes[0].set_xlabel("epoch")
axes[0].legend(fontsize=8)
axes[1].semilogy(epochs, objective - lower, label="certified gap P(θ) − D(Λ)")
axes[1].semilogy(epochs, objective - optimum.objective, ls="--", label="P(θ) − P(closed form)")
axes[1].set_xlabel("epoch")
axes[1].legend(fontsize=8)
fig.tight_layout()
assert np.all(lower <= optimum.objective * (1 + 1e-12))
plt.show()
