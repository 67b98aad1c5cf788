"""
Reproducing a figure of the paper: rank-one data (Theorem 4.1, Figure 3b)
=========================================================================

Each figure of the paper is a module of :mod:`deepdual.experiments` with ``compute(config)``,
which returns a JSON-serializable *record* (configuration, data, timings and the paper's claims
with PASS / FAIL and the measured number), and ``plot(record)``, which draws it.
``deepdual reproduce`` runs them all and writes the HTML report; here one runs alone at its
``"tiny"`` size (the one the tests use) with more L-BFGS epochs.

Figure 3b: on rank-one data :math:`X = c\\,a_0^\\top` with :math:`c \\ge 0`, Theorem 4.1 gives the
optimal deep ReLU network in closed form — every layer of rank one — and a five-layer network
trained by L-BFGS collapses to rank one in every layer (Proposition 4.1).
"""

import matplotlib.pyplot as plt

from deepdual.experiments import fig3b

config = dict(fig3b.CONFIGS["tiny"], epochs=15)
print(config)
record = fig3b.compute(config)
for c in record["claims"]:
    print(f"{c['status']:<5} {c['id']}: {c['claim']} — measured {c['measured']}")
print(f"({record['seconds']:.1f} s)")

fig = fig3b.plot(record)
plt.show()
