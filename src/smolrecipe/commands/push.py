"""Publish a model, a pretraining run's checkpoints, a data set or a classifier to the Hub, with a generated card.

Usage:
    python -m smolrecipe push --model outputs/checkpoints/tiny-long-context/400 --repo me/smollm2-tiny [--dry-run]
    python -m smolrecipe push --run outputs/checkpoints/tiny --repo me/smollm2-tiny-checkpoints   # a branch per checkpoint
    python -m smolrecipe push --data outputs/data/tiny --repo me/smollm2-tiny-corpus
    python -m smolrecipe push --model outputs/data/tiny/classifiers/edu --repo me/tiny-edu-classifier
    (make push MODEL=<dir> REPO=<org/name> [DRY_RUN=1] [PRIVATE=1]; RUN=<dir> or DATA=<dir> instead of MODEL)

--model takes a transformers folder, a local-engine checkpoint (<run>/<step>, its tokenizer and training config
come along), a post-training output, or a classifier folder (classifier.json + model/). --run pushes every
checkpoint of a run as a branch `step<N>-tokens<T>` and the newest one to main. The card is built from the
artifacts: architecture and parameters, stages and mixtures with token counts, the schedule and loss plots,
lineage, post-training records, lighteval results (found beside the model or in outputs/eval, or --eval) with
their protocol, and the upstream versions.

--dry-run lists every file with its size, the repo and the revision, writes the staged folders to
outputs/hub/<repo>/ and prints the card: it sends nothing and needs no token. A real push takes the token from
HF_TOKEN or the huggingface_hub login (never printed or written anywhere), checks it and its write access before
any upload (exit 2 with a fix), and a failure mid-upload says what was and was not sent (exit 1); the same
command again resumes.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from smolrecipe.errors import RecipeError
from smolrecipe.hub.cards import CardOptions
from smolrecipe.paths import shown, user_path

REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="smolrecipe push", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_argument_group("what to push (one of)")
    what.add_argument("--model", default="", help="a model, checkpoint, post-training output or classifier folder (MODEL)")
    what.add_argument("--run", default="", help="a pretraining run's checkpoints folder: one branch per checkpoint (RUN)")
    what.add_argument("--data", default="", help="a data set folder: outputs/data/<recipe>, a tokenized folder, data files (DATA)")
    p.add_argument("--repo", default="", help="target repo, namespace/name (REPO)")
    p.add_argument("--revision", default="main",
                   help="branch to push a single model to (created from main if missing; it then holds exactly this model)")
    p.add_argument("--steps", default="", help="with --run: only these steps, comma-separated (STEPS)")
    p.add_argument("--eval", action="append", type=Path, default=[], help="lighteval results file or folder (repeatable)")
    p.add_argument("--private", action="store_true", help="create the repo as private")
    p.add_argument("--license", default=None, help="license id for the card (default: apache-2.0 for models)")
    p.add_argument("--base-model", action="append", default=[], help="Hub id of the model this one derives from (card metadata)")
    p.add_argument("--dataset", action="append", default=[], help="Hub id of a data set it was trained on (card metadata)")
    p.add_argument("--dry-run", action="store_true", help="list files and print the card; send nothing, no token needed")
    return p


def check_repo(repo: str) -> str:
    if not repo:
        raise RecipeError("no target repo", field="REPO", fix="add REPO=<namespace>/<name>, e.g. REPO=your-name/smollm2-tiny")
    if "/" not in repo:
        raise RecipeError(f"{repo!r} has no namespace", field="REPO",
                          fix=f"write it as <your user or organisation>/{repo}, e.g. REPO=your-name/{repo}")
    if not REPO_ID.fullmatch(repo) or "--" in repo or ".." in repo or len(repo) > 96:
        raise RecipeError(f"{repo!r} is not a valid repo id", field="REPO",
                          fix="use namespace/name with letters, digits, '-', '_' and '.' (no '--' or '..', at most 96 characters)")
    return repo


def source(args) -> tuple[str, Path]:
    given = [(k, v) for k, v in (("model", args.model), ("run", args.run), ("data", args.data)) if v]
    if not given:
        raise RecipeError("nothing to push", field="MODEL",
                          fix="add MODEL=<model or checkpoint folder> (or RUN=<checkpoints folder>, DATA=<data folder>), "
                              "e.g. MODEL=outputs/checkpoints/tiny-long-context/400")
    if len(given) > 1:
        raise RecipeError(f"{' and '.join(k.upper() for k, _ in given)} are both set", field=given[1][0].upper(),
                          fix="push one thing at a time")
    kind, path = given[0]
    return kind, user_path(path)


def steps_of(text: str) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        raise RecipeError(f"{text!r} is not a list of step numbers", field="STEPS", fix="e.g. STEPS=200,400") from None


def build_plan(args):
    from smolrecipe.hub import plan as hub_plan

    repo = check_repo(args.repo)
    kind, path = source(args)
    opts = CardOptions(repo_id=repo, revision=args.revision, license=args.license,
                       base_model=args.base_model, datasets=args.dataset)
    if kind == "run":
        if args.revision != "main":
            raise RecipeError("--revision does not apply to a run", field="REVISION",
                              fix="a run's checkpoints get one branch each (step<N>-tokens<T>); drop REVISION")
        return hub_plan.plan_run(path, opts, private=args.private, steps=steps_of(args.steps))
    if kind == "data":
        return hub_plan.plan_data(path, opts, private=args.private)
    return hub_plan.plan_model(path, opts, private=args.private, eval_files=[user_path(e) for e in args.eval])


def dry_run(plan, staged: dict[str, Path]) -> int:
    from smolrecipe.hub.plan import print_plan

    print("dry run: nothing is sent and no token is needed\n")
    print_plan(plan)
    main = next((r for r in plan.revisions if r.name == "main"), plan.revisions[-1])
    print(f"\nstaged in {shown(staged[main.name].parent)}/ (one folder per revision)")
    print(f"\n----- README.md of {plan.repo_id}@{main.name} -----")
    print(main.card)
    print("----- end of README.md -----")
    print(f"\ndry run done: {len(plan.revisions)} revision(s) of {plan.repo_id} would be sent; nothing was sent")
    return 0


def main(argv: list[str]) -> int:
    from smolrecipe.hub import upload

    args = parser().parse_args(argv)
    check_repo(args.repo)
    source(args)
    token = None if args.dry_run else upload.find_token()  # before any work: a missing token is reported at once
    if not args.dry_run:
        upload.check_online()
    plan = build_plan(args)
    if args.dry_run:
        return dry_run(plan, upload.stage(plan))
    with upload.redacted(token):
        from huggingface_hub import HfApi

        api = HfApi()
        upload.refuse_token_in_files(plan, token)
        access = upload.check_access(api, plan, token)
        print(f"pushing to {plan.repo_id} as {access.user} (token from {access.token_source}; "
              f"the repo {'exists' if access.exists else 'will be created'})")
        from smolrecipe.hub.plan import print_plan, repo_url

        print_plan(plan)
        staged = upload.stage(plan)
        try:
            urls = upload.push(api, plan, staged, access, token)
        except upload.UploadFailed as e:
            print(f"error: {e}", file=sys.stderr)
            return 130 if e.interrupted else 1
        print(f"\ndone: {len(urls)} revision(s) uploaded: {repo_url(plan)}" if urls
              else f"\ndone: everything was already on the Hub ({repo_url(plan)}); nothing sent")
    return 0
