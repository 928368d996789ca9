"""smolrecipe: the small library behind the SmolLM2 recipe repository.

Configs and recipes (pretraining/, post_training/, data/, evaluation/) say what runs; this package
says how. Entry point: `python -m smolrecipe --help` (the Makefile dispatches to it).
"""
import os

# OpenMP threads that wait by spinning (the default) collapse when the machine is shared: measured on the 2-core
# machine kind with 8 other busy processes, a tiny-model step took 21.2 s with 2 spinning threads, 2.8 s with
# OMP_WAIT_POLICY=PASSIVE and 3.7 s with 1 thread (benchmarks/README.md). It must be set before torch loads
# OpenMP, hence here; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
