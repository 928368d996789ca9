"""Record nanotron's config field names at a commit, for the schema drift test.

Usage: python scripts/extract_nanotron_schema.py <nanotron checkout or bare git dir> <commit> > tests/fixtures/nanotron_schema.json

Reads nanotron's src/nanotron/config/*.py with `ast` (nothing is imported or copied) and writes, per
dataclass, its field names and which have no default. Run it when bumping NANOTRON_COMMIT in
src/smolrecipe/versions.py; tests/test_nanotron_schema.py then checks our schema against the record.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys

FILES = ["config.py", "models_config.py", "parallelism_config.py", "lighteval_config.py"]


def read(repo: str, commit: str, name: str) -> str:
    return subprocess.run(["git", "-C", repo, "show", f"{commit}:src/nanotron/config/{name}"],
                          check=True, capture_output=True, text=True).stdout


def main() -> int:
    repo, commit = sys.argv[1], sys.argv[2]
    classes = {}
    for name in FILES:
        for node in ast.walk(ast.parse(read(repo, commit, name))):
            if isinstance(node, ast.ClassDef) and any(
                (isinstance(d, ast.Name) and d.id == "dataclass") or (isinstance(d, ast.Call) and getattr(d.func, "id", "") == "dataclass")
                for d in node.decorator_list
            ):
                fields, required = [], []
                for stmt in node.body:
                    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                        fields.append(stmt.target.id)
                        if stmt.value is None:
                            required.append(stmt.target.id)
                classes[node.name] = {"fields": fields, "required": required}
    rev = subprocess.run(["git", "-C", repo, "rev-parse", commit], check=True, capture_output=True, text=True).stdout.strip()
    json.dump({"nanotron_commit": rev, "classes": classes}, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
