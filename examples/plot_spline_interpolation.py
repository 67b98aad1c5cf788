"""
Two-layer ReLU networks on 1-D data are linear splines (Theorem 4.2, Corollary 4.1)
===================================================================================

With unregularized biases, the two-layer ReLU problem on scalar inputs equals a finite Lasso over
ReLU atoms placed at the data points (SPEC §4). ``closed_form(..., activation="relu", bias=True)``
solves that Lasso exactly, so the optimal network is a linear spline whose kinks sit at data
points; as :math:`\\beta \\to 0` it becomes the linear interpolant of the data (Corollary 4.1).
:func:`deepdual.certify_spline` checks the dual over *all* breakpoints: an exact global optimality
test for any two-layer network on 1-D data.
"""

import matplotlib.pyplot as plt
import numpy as np

import deepdual as dd

rng = np.random.default_rng(1)
x = np.sort(rng.uniform(-1.0, 1.0, 12))
y = np.sin(3 * x) + 0.2 * rng.standard_normal(x.size)
grid = np.linspace(-1.2, 1.2, 961)


def as_function(sol):
    """The network of a solution as a function of scalar inputs."""
    return lambda t: sol.predict(np.asarray(t, dtype=float)[:, None]).ravel()


fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(x, y, "ko", label="data", zorder=5)
for i, beta in enumerate([0.0, 0.01, 0.1, 1.0]):
    sol = dd.closed_form(x[:, None], y, beta=beta, depth=2, activation="relu", bias=True)
    f = sol.predict(grid[:, None]).ravel()
    knots = dd.kinks(as_function(sol), -1.2, 1.2)  # exact breakpoints of the piecewise-linear network
    at_data = np.min(np.abs(knots[:, None] - x[None, :]), axis=1).max() if knots.size else 0.0
    cert = dd.certify_spline(sol.network, x, y, beta=beta) if beta > 0 else None
    gap = "interpolates" if cert is None else f"gap {cert.gap:.1e}"
    ax.plot(grid, f, color=f"C{i}", label=f"β = {beta:g}: {knots.size} kinks, {gap}")
    value = "Σ‖W‖²" if beta == 0 else "P"  # β = 0: the minimum-norm problem, whose objective is the penalty
    print(f"beta = {beta:<5g} {value} = {sol.objective:.6f}  kinks = {knots.size:2d}  "
          f"max distance kink-to-data = {at_data:.1e}  {gap}")

interpolant = dd.closed_form(x[:, None], y, beta=0.0, depth=2, activation="relu", bias=True)
print("β = 0: sup distance to the linear interpolant of the data =",
      f"{dd.sup_distance_to_spline(as_function(interpolant), x, y):.1e}")
ax.set_xlabel("x")
ax.set_ylabel("f(x)")
ax.set_title("optimal two-layer ReLU networks with bias")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
