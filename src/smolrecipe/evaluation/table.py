"""The Markdown table of one evaluation, with the published SmolLM2 numbers beside the measured ones.

    markdown_table(summary, suite)      # summary = results.json of smolrecipe.evaluation.run.evaluate
    row_scores(results, suite)          # {benchmark label: (mean in percent, stderr in percent, tasks found)}

A benchmark made of several lighteval tasks (ARC = easy + challenge, BBH = 27 subsets) is their unweighted
mean, as SmolLM2 reports it. The header says what produced the numbers: lighteval's version, the task file's
hash, the chat template, the model's weights digest (and step and tokens for a local checkpoint).
"""
from __future__ import annotations

import math

from smolrecipe.evaluation.suites import Suite, published


def _task_matches(full_name: str, task: str) -> bool:
    name = full_name.split("|")[0]
    return name == task or name.startswith(task + ":")


def row_scores(results: dict, suite: Suite) -> dict[str, tuple[float, float, list[str]]]:
    scores = {}
    for row in suite.rows:
        found = [k for k in results if k != "all" and any(_task_matches(k, t) for t in row.tasks)
                 and row.metric in results[k]]
        if not found:
            continue
        values = [results[k][row.metric] for k in found]
        errs = [results[k].get(f"{row.metric}_stderr") or 0.0 for k in found]
        mean = sum(values) / len(values)
        stderr = math.sqrt(sum(e * e for e in errs)) / len(errs)
        scale = 100 if row.percent else 1
        scores[row.label] = (scale * mean, scale * stderr, sorted(found))
    return scores


def _fewshot(specs: list[str], tasks: tuple[str, ...]) -> str:
    shots = sorted({s.split("|")[1] for s in specs if any(_task_matches(s, t) for t in tasks)})
    return ", ".join(shots) or "-"


def reference_scores(suite: Suite) -> tuple[str | None, dict[str, float], str]:
    ref = published()
    if suite.reference is None:
        return None, {}, ref["source"]
    return suite.reference, ref["models"][suite.reference]["scores"], ref["source"]


def markdown_table(summary: dict, suite: Suite) -> str:
    scores = row_scores(summary["results"], suite)
    ref_name, ref, source = reference_scores(suite)
    m = summary["model"]
    where = ", ".join(f"{k} {m[k]}" for k in ("run", "step", "consumed_tokens") if m.get(k) is not None)
    lines = [
        f"# {suite.name} suite: {m['path']}",
        "",
        f"- model: `{m['path']}`, weights {m['weights']}" + (f" ({where})" if where else ""),
        f"- lighteval {summary['versions'].get('lighteval')}, task file evaluation/tasks.py sha256 "
        f"{summary['tasks_file_sha256'][:16]}, task list evaluation/{suite.task_list}",
        f"- chat template: {'applied' if summary['chat_template'] else 'not applied'}; "
        f"tokenizer `{summary['tokenizer']}`; evaluation key {summary['key']}",
    ]
    if summary["settings"].get("max_samples"):
        lines.append(f"- **partial**: at most {summary['settings']['max_samples']} items per task (not comparable)")
    if ref_name:
        lines.append(f"- published: {ref_name} ({source})")
    lines += ["", "| benchmark | lighteval tasks | formulation | normalisation | few-shot | measured |"
              + (f" {ref_name} published |" if ref_name else ""),
              "|---|---|---|---|---|---|" + ("---|" if ref_name else "")]
    for row in suite.rows:
        got = scores.get(row.label)
        measured = "not run" if not got else f"{got[0]:.1f} ± {got[1]:.1f}" if row.percent else f"{got[0]:.3f}"
        tasks = ", ".join(row.tasks) + (f" ({len(got[2])} tasks)" if got and len(got[2]) > len(row.tasks) else "")
        cells = [row.label, tasks, row.formulation, row.normalisation, _fewshot(summary["task_specs"], row.tasks),
                 measured]
        if ref_name:
            cells.append(f"{ref[row.label]:.1f}" if row.label in ref else "-")
        lines.append("| " + " | ".join(cells) + " |")
    if summary["failed_tasks"]:
        lines += ["", "Not run (data did not load):"]
        lines += [f"- {task}: {why}" for task, why in summary["failed_tasks"].items()]
    lines += ["", f"Accuracies in percent (± standard error); {summary['seconds']} s. Details: lighteval/ beside this file."]
    return "\n".join(lines) + "\n"
