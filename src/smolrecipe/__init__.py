"""smolrecipe: the small library behind the SmolLM2 recipe repository.

Configs and recipes (pretraining/, post_training/, data/, evaluation/) say what runs; this package
says how. Entry point: `python -m smolrecipe --help` (the Makefile dispatches to it).
"""
__version__ = "0.1.0"
