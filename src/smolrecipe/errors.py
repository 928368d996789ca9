"""Errors a user can act on: each names the file, the field and a fix.

The CLI prints these without a stack trace (see cli.main); anything else is a bug.
"""
from __future__ import annotations


class RecipeError(Exception):
    """A problem with the user's input, reported before expensive work starts."""

    def __init__(self, problem: str, *, file: str | None = None, field: str | None = None, fix: str | None = None):
        self.problem, self.file, self.field, self.fix = problem, file, field, fix
        super().__init__(self.render())

    def render(self) -> str:
        where = ": ".join(str(p) for p in (self.file, self.field) if p)
        text = f"{where}: {self.problem}" if where else self.problem
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class ConfigError(RecipeError):
    """A config file that does not load or does not make sense."""


class NotBuiltYet(RecipeError):
    """A pipeline step whose implementation has not landed yet (never a silent no-op)."""
