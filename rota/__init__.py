"""The rota solver, on its own: the problem and its solution as plain values
(``model``), the legal rules (``rules``), the CP-SAT model (OR-Tools, ``cpmodel``) with a
greedy hint and repair, scoring, and JSON in and out. It knows nothing of the hub;
``hub/rostering`` is the hub's use of it, and ``python -m rota`` runs it from files."""
