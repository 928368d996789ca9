"""`make demo`: the tiny recipe end to end, offline, on a CPU, one line per step.

Usage:
    python -m smolrecipe demo            # (make demo) every step in order; a rerun skips what is done and says so
    python -m smolrecipe demo --redo     # (make demo REDO=1) delete outputs/ first and run everything again
    python -m smolrecipe demo --list     # the steps and the command each runs

Each step runs one command of this CLI (the same as its make target). Its whole output, datatrove's banners and
the progress bars included, goes to outputs/demo/logs/<nn>-<step>.log; the terminal shows one line per step (a
live timer while it runs, on a terminal), the log's last lines and its path if a step fails, and a summary at
the end: where every artifact is, the time per step, the loss per stage.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from smolrecipe.paths import outputs_dir, resolve, shown

# what a command prints when it found its work already done
DONE_EARLIER = re.compile(r"already complete|tokenizer up to date|nothing to redo|finished earlier")
DID_WORK = re.compile(r"starting fresh|resuming run|; training |tokenizer saved|classifier \S+: F1|cooldown config:")


@dataclass
class Step:
    key: str
    title: str
    argv: list[str]
    result: str = ""          # filled from the log after the run (a loss, a count)
    seconds: float = 0.0
    status: str = ""
    artifacts: list[str] = field(default_factory=list)


def steps() -> list[Step]:
    stages = [Step(f"stage{s}", f"pretrain stage {s} (local engine)", ["pretrain", "--recipe", "tiny", "--stage", str(s),
                                                                        "--engine", "local"],
                   artifacts=["outputs/checkpoints/tiny", f"outputs/runs/tiny-stage{s}/loss_lr.png"]) for s in (1, 2, 3, 4)]
    return [
        Step("versions", "upstream versions", ["versions"]),
        Step("tokenizer", "tokenizer: byte-level BPE trained on the standard library", ["tokenizer", "--recipe", "tiny"],
             artifacts=["outputs/tokenizers/tiny"]),
        Step("check", "check every recipe's nanotron YAML", ["check", "--all"]),
        Step("data", "data: datatrove pipelines -> 8 tokenized folders", ["data", "--recipe", "tiny"],
             artifacts=["outputs/data/tiny/REPORT.json"]),
        Step("plan", "plan: stages, mixture, epochs per source, LR", ["plan", "--recipe", "tiny"],
             artifacts=["outputs/plots/tiny-schedule.png"]),
        *stages,
        Step("long-context", "context extension 256 -> 512 tokens from step 380", ["long-context", "--recipe", "tiny",
                                                                                   "--engine", "local"],
             artifacts=["outputs/checkpoints/tiny-long-context/400/model"]),
        Step("cooldown", "schedules: a 1-sqrt cooldown branched from the constant-LR checkpoint at step 200",
             ["cooldown", "--from", "outputs/checkpoints/tiny/200", "--shape", "1-sqrt", "--fraction", "0.2", "--engine", "local"]),
        Step("average", "schedules: uniform average of the last stable-phase checkpoints",
             ["average", "outputs/checkpoints/tiny", "--last", "5", "--until", "200"], artifacts=["outputs/averages"]),
        Step("eval-base", "evaluation: the tiny suite on the base model (lighteval, offline)",
             ["eval", "--model", "outputs/checkpoints/tiny-long-context/400", "--suite", "tiny"], artifacts=["outputs/eval"]),
        Step("sft", "post-training: SFT with TRL on generated chats (held-out prompts excluded)", ["sft", "--recipe", "tiny"],
             artifacts=["outputs/post_training/tiny/sft"]),
        Step("dpo", "post-training: DPO with TRL from the SFT model (correct answer chosen over a wrong one)",
             ["dpo", "--recipe", "tiny"], artifacts=["outputs/post_training/tiny/dpo"]),
        Step("eval-sft", "evaluation: the tiny suite on the SFT model", ["eval", "--model", "outputs/post_training/tiny/sft",
                                                                          "--suite", "tiny"]),
        Step("eval-dpo", "evaluation: the tiny suite on the DPO model", ["eval", "--model", "outputs/post_training/tiny/dpo",
                                                                          "--suite", "tiny"]),
        Step("chat", "chat: one answer from the DPO model (make chat PROMPT=...)",
             ["chat", "--model", "outputs/post_training/tiny/dpo", "--prompt", "What is 7 + 5?"]),
        Step("nanotron", "the 1.7B stage 3 on a GPU cluster: the nanotron command (dry run)",
             ["pretrain", "--recipe", "smollm2-1.7B", "--stage", "3", "--engine", "nanotron", "--dry-run"]),
        Step("report", "report card: Markdown + PNGs and one self-contained HTML page", ["report", "--recipe", "tiny"],
             artifacts=["outputs/report/tiny/report.html"]),
        Step("push", "publish: dry run of the push of the final model (nothing is sent, no token needed)",
             ["push", "--model", "outputs/checkpoints/tiny-long-context/400", "--repo", "your-name/smollm2-tiny", "--dry-run"],
             artifacts=["outputs/hub/your-name__smollm2-tiny/main"]),
    ]


@contextmanager
def output_to(log: Path):
    """Send everything the process (and its children) writes to fd 1 and 2 into `log`; yield the terminal's fd."""
    sys.stdout.flush()
    sys.stderr.flush()
    term = os.dup(1)
    saved_err = os.dup(2)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield term
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(term, 1)
            os.dup2(saved_err, 2)
            os.close(saved_err)
            os.close(term)


def _ticker(term: int, prefix: str, stop: threading.Event) -> None:
    t = time.time()
    while not stop.wait(1.0):
        os.write(term, f"\r{prefix} ... {time.time() - t:.0f} s".encode())


def run_step(k: int, n: int, step: Step, logs: Path) -> bool:
    from smolrecipe.cli import main as cli

    log = logs / f"{k:02d}-{step.key}.log"
    log.unlink(missing_ok=True)
    prefix = f"[{k:>2}/{n}] {step.title}"
    live = sys.stdout.isatty()
    t = time.time()
    code = 1
    with output_to(log) as term:
        print(f"$ python -m smolrecipe {' '.join(step.argv)}", flush=True)
        stop = threading.Event()
        if live:
            threading.Thread(target=_ticker, args=(term, prefix, stop), daemon=True).start()
        try:
            code = cli(list(step.argv))
        except BaseException:  # noqa: BLE001 - a failing step is reported with its log, never a bare traceback here
            traceback.print_exc()
        finally:
            stop.set()
    step.seconds = time.time() - t
    text = log.read_text(errors="replace")
    done_earlier = bool(DONE_EARLIER.search(text)) and not DID_WORK.search(text)
    step.status = "failed" if code else ("done earlier, skipped" if done_earlier else "done")
    step.result = describe(step, text)
    end = "\r" if live else ""
    print(f"{end}{prefix}: {step.status} in {step.seconds:.0f} s{'; ' + step.result if step.result else ''}", flush=True)
    if code:
        tail = text.rstrip().splitlines()[-20:]
        print("\n".join(f"    | {line}" for line in tail))
        print(f"    the whole log: {shown(log)}")
    return code == 0


def describe(step: Step, text: str) -> str:
    """One fact from the step's output for its line (a loss, a size), when there is one."""
    m = re.search(r"loss first [\d.]+, last-10 mean ([\d.]+)", text)
    if m:
        return f"loss {m.group(1)} (mean of the last 10 steps)"
    if step.key == "data":
        tokens = re.findall(r"^\s+\S+\s+([\d,]+) tokens", text, flags=re.M)
        return f"{sum(int(t.replace(',', '')) for t in tokens) / 1e6:.1f}M tokens" if tokens else ""
    m = re.search(r"^(sft|dpo) finished in \d+ s: (.*); model ->", text, flags=re.M)
    if m:  # not "loss ...": the summary reads those as a pretraining stage's last-10 mean
        return f"training {m.group(2)}"
    m = re.search(r"^\| tiny chat tasks, exact match .*\| ([\d.]+ ± [\d.]+) \|$", text, flags=re.M)
    if m:
        return f"exact match {m.group(1)}%"
    m = re.search(r"^assistant: (.*)$", text, flags=re.M)
    if step.key == "chat" and m:
        return f"What is 7 + 5? -> {m.group(1).strip()[:60]}"
    m = re.search(r"averaged (\d+) checkpoints", text)
    if m:
        return f"{m.group(1)} checkpoints averaged"
    m = re.search(r"^(sbatch .*)$", text, flags=re.M)
    if m:
        return m.group(1)[:90] + ("..." if len(m.group(1)) > 90 else "")
    return ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="smolrecipe demo", description=__doc__.splitlines()[0])
    parser.add_argument("--redo", action="store_true", help="delete outputs/ first and run every step again")
    parser.add_argument("--list", "--dry-run", dest="list", action="store_true",
                        help="print the steps and their commands, run nothing")
    args = parser.parse_args(argv)
    plan = steps()
    if args.list:
        for k, s in enumerate(plan, 1):
            print(f"{k:>2}. {s.title}\n    python -m smolrecipe {' '.join(s.argv)}")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    out = outputs_dir()
    if args.redo and out.exists():
        print(f"demo --redo: deleting {shown(out)} first")
        shutil.rmtree(out)
    logs = out / "demo" / "logs"
    print(f"the tiny recipe end to end: {len(plan)} steps, each one's full output in {shown(logs)}/")
    t = time.time()
    for k, step in enumerate(plan, 1):
        ok = run_step(k, len(plan), step, logs)
        write_timings(plan[:k], time.time() - t)
        if not ok:
            print(f"demo stopped at step {k} ({step.key}) after {time.time() - t:.0f} s; fix it and run make demo again "
                  "(the finished steps are skipped)")
            return 1
    summary(plan, time.time() - t)
    return 0


def write_timings(done: list[Step], seconds: float) -> None:
    """outputs/demo/timings.json: what the report card shows as the demo's wall clock."""
    import json
    from datetime import date

    from smolrecipe import machine
    from smolrecipe.publish import atomic_write_text

    atomic_write_text(outputs_dir() / "demo" / "timings.json", json.dumps({
        "seconds": round(seconds, 1), "machine": machine.short(), "date": date.today().isoformat(),
        "steps": [{"key": s.key, "status": s.status, "seconds": round(s.seconds, 1)} for s in done]}, indent=1))


def summary(plan: list[Step], seconds: float) -> None:
    print(f"\ndemo finished in {seconds:.0f} s. Time per step: " +
          ", ".join(f"{s.key} {s.seconds:.0f}s" for s in plan if s.seconds >= 1))
    losses = [f"{s.key} {s.result.split()[1]}" for s in plan if s.result.startswith("loss ")]
    if losses:
        print("training loss (mean of the last 10 steps): " + ", ".join(losses))
    for line in eval_table(plan):
        print(line)
    print("where things are:")
    seen = []
    for s in plan:
        for a in s.artifacts:
            if a not in seen and resolve(a).exists():
                seen.append(a)
    for a in seen:
        print(f"  {a}")


def eval_table(plan: list[Step]) -> list[str]:
    """The numbers of every model the demo evaluated, from make eval's results.json, scored as its tables are."""
    import json

    from smolrecipe.commands.eval import results_dir
    from smolrecipe.evaluation.suites import SUITES
    from smolrecipe.evaluation.table import row_scores
    from smolrecipe.model_folder import weights_folder

    suite, rows = None, []
    for s in plan:
        if s.argv[0] != "eval" or s.status == "failed":
            continue
        model, suite = s.argv[s.argv.index("--model") + 1], s.argv[s.argv.index("--suite") + 1]
        f = results_dir(weights_folder(resolve(model)), suite) / "results.json"
        if f.is_file():
            rows.append((model, row_scores(json.loads(f.read_text())["results"], SUITES[suite])))
    if not rows:
        return []
    columns = [(r.label, r.label.split(", ")[-1].removesuffix(" (lower is better)"), r.percent) for r in SUITES[suite].rows]
    cell = lambda v, percent: "-" if v is None else f"{v[0]:.1f}%" if percent else f"{v[0]:.3f}"  # noqa: E731
    lines = [f"{suite} evaluation suite (make eval SUITE={suite}):",
             f"  {'model':<42}" + "".join(f" {short:>14}" for _, short, _ in columns)]
    for model, scores in rows:
        lines.append(f"  {model:<42}" + "".join(f" {cell(scores.get(label), pct):>14}" for label, _, pct in columns))
    return lines
