"""Evaluation with lighteval: suites, the in-process runner, the results table, checkpoint sweeps."""
