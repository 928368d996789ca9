"""`python -m smolrecipe push` end to end against a local Hub (tests/hubserver.py) reached through HF_ENDPOINT.

Real uploads by huggingface_hub 1.33: files arrive byte for byte (one above the Hub's 10 MB limit, through the LFS
batch + PUT path), a run's checkpoints become one branch each, the cards parse back with huggingface_hub, a 401,
a read-only token and a 403 stop before anything is sent, a server failure mid-upload is reported (what was sent,
what was not) and a rerun completes it, the default Xet-era pipeline (pipelined multi-commit upload_folder) works
for regular files, a dry run sends nothing, and the token appears in no output, log, card or uploaded file.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from huggingface_hub import ModelCard, parse_eval_result_entries

from hubkit import checkpoints, hub_call, lighteval_results, model_folder, push, tokenizer_folder
from hubserver import FakeHub, LFS_SIZE

WRITE, READ_ONLY, READER = "hf_writeTokenAlice0123456789", "hf_readOnlyTokenAlice98765", "hf_teamReaderCarol555"
TOKENS = {WRITE: {"user": "alice", "role": "write", "orgs": {"smol-team": "write", "readers": "read"}},
          READ_ONLY: {"user": "alice", "role": "read", "orgs": {}},
          READER: {"user": "carol", "role": "write", "orgs": {"readers": "read"}}}


@pytest.fixture
def hub():
    with FakeHub(dict(TOKENS)) as h:
        yield h


def card_of(data: bytes, tmp: Path) -> ModelCard:
    path = tmp / "README.md"
    path.write_bytes(data)
    return ModelCard.load(path)


def test_a_model_arrives_byte_for_byte_with_a_large_file_through_lfs_and_a_card_that_parses(hub, tmp_path):
    model, n_params = model_folder(tmp_path / "model", hidden=384, layers=2, intermediate=1024, vocab=300)
    weights = (model / "model.safetensors").stat().st_size
    assert weights > LFS_SIZE  # large enough for the client's large-file path
    results = lighteval_results(tmp_path / "evals" / "results_2026-01-01T00-00-00.json", str(model))
    r = push(["--model", str(model), "--repo", "smol-team/tiny-llama", "--eval", str(results)],
             cwd=tmp_path, endpoint=hub.url, token=WRITE)
    assert r.returncode == 0, r.stdout + r.stderr
    got = hub.files("smol-team/tiny-llama")
    local = {p.name: p.read_bytes() for p in model.iterdir() if p.is_file()}
    for name, data in local.items():
        assert got[name] == data, name
    assert "model.safetensors" in hub.lfs_paths("smol-team/tiny-llama")
    sha = hashlib.sha256(local["model.safetensors"]).hexdigest()
    assert ("PUT", f"/lfs-upload/{sha}", 200) in hub.log  # sent by the LFS PUT, not inside the commit

    card = card_of(got["README.md"], tmp_path)
    meta = card.data.to_dict()
    assert meta["library_name"] == "transformers" and meta["pipeline_tag"] == "text-generation"
    assert meta["license"] == "apache-2.0" and "smolrecipe" in meta["tags"]
    assert f"{n_params:,}" in card.text  # the count torch reports, read by the card from the safetensors headers
    values = {(e.dataset_name, e.metric_type): e.metric_value for e in card.data.eval_results}
    assert values == {("hellaswag_cf", "acc"): 0.3125, ("tiny_arith", "em"): 0.5}
    assert "LogProbCharNorm(ignore_first_space=True)" in card.text and "cloze (CF)" in card.text
    entries = parse_eval_result_entries(yaml.safe_load(got[".eval_results/hellaswag.yaml"]))
    assert [(e.dataset_id, e.task_id, e.value) for e in entries] == [("Rowan/hellaswag", "hellaswag_cf", 0.3125)]
    assert ".eval_results/local-data.yaml" not in got  # a local data set has no Hub id to report against
    assert str(tmp_path) not in got["README.md"].decode()  # no path of this machine in the card


def test_checkpoints_become_branches_and_a_server_failure_mid_upload_is_reported_then_completed(hub, tmp_path):
    tok = tokenizer_folder(tmp_path / "tok")
    tokens = checkpoints(tmp_path / "run", [10, 20, 30], tok)
    assert tokens == {10: 1280, 20: 2560, 30: 3840}  # 8 samples x 16 tokens per step
    branches = ["step10-tokens1.28k", "step20-tokens2.56k", "step30-tokens3.84k"]
    hub.fail_commits_to = {branches[1]}
    args = ["--run", str(tmp_path / "run"), "--repo", "alice/tiny-ckpts"]

    first = push(args, cwd=tmp_path, endpoint=hub.url, token=WRITE)
    assert first.returncode == 1, first.stdout + first.stderr
    err = first.stderr
    assert "Traceback" not in err and f"broke off at revision {branches[1]}" in err
    assert f"sent:     {branches[0]} (" in err
    assert f"{branches[1]}: 0 of " in err and "model.safetensors" in err
    assert f"not sent: {branches[2]} (" in err and "main (" in err
    assert "run the same command again" in err
    assert set(hub.branches("alice/tiny-ckpts")) == {"main", branches[0], branches[1]}
    assert set(hub.files("alice/tiny-ckpts", branches[1])) == {".gitattributes"}  # created, nothing committed
    puts_before = [e for e in hub.log if e[0] == "PUT"]

    hub.fail_commits_to = set()
    second = push(args, cwd=tmp_path, endpoint=hub.url, token=WRITE)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "resuming push" in second.stdout and f"{branches[0]}: already on the Hub" in second.stdout
    assert set(hub.branches("alice/tiny-ckpts")) == {"main", *branches}
    for step, branch in zip([10, 20, 30], branches):
        got = hub.files("alice/tiny-ckpts", branch)
        for p in (tmp_path / "run" / str(step) / "model").iterdir():
            assert got[p.name] == p.read_bytes(), (branch, p.name)
        assert got["tokenizer.json"] == (tok / "tokenizer.json").read_bytes()
        assert json.loads(got["training_metadata.json"])["step"] == step
    assert hub.files("alice/tiny-ckpts", "main")["model.safetensors"] == hub.files("alice/tiny-ckpts", branches[2])["model.safetensors"]
    # the failed branch's LFS objects were uploaded before its commit failed: the rerun did not send them again
    sha20 = hashlib.sha256((tmp_path / "run" / "20" / "model" / "model.safetensors").read_bytes()).hexdigest()
    assert [e for e in hub.log if e[0] == "PUT" and sha20 in e[1]] == [e for e in puts_before if sha20 in e[1]]

    out = hub_call(
        "from huggingface_hub import HfApi, ModelCard, hf_hub_download\n"
        "api = HfApi()\n"
        "print(sorted(b.name for b in api.list_repo_refs('alice/tiny-ckpts').branches))\n"
        f"card = ModelCard.load(hf_hub_download('alice/tiny-ckpts', 'README.md', revision='{branches[1]}'))\n"
        "print(card.data.library_name, 'step 20 ' in card.text.replace(',', ''))\n"
        "print(all(b in ModelCard.load('alice/tiny-ckpts').text for b in %r))\n" % branches,
        cwd=tmp_path, endpoint=hub.url, token=WRITE)
    assert out.split("\n")[:3] == [str(sorted(["main", *branches])), "transformers True", "True"]


@pytest.mark.parametrize("token, repo, says", [
    ("hf_wrongTokenNobodyHas42", "alice/tiny", ["refused the token (401", "HF_TOKEN", "fix:"]),
    (READ_ONLY, "alice/tiny", ["read-only", "fix:", "write access"]),
    (READER, "readers/shared-model", ["no write access to readers/shared-model (403", "fix:"]),
    (WRITE, "someone-else/tiny", ["cannot write to the namespace 'someone-else'", "REPO", "fix:"]),
])
def test_bad_tokens_and_missing_rights_stop_before_anything_is_sent(hub, tmp_path, token, repo, says):
    from hubserver import Blob, Repo

    shared = hub.repos[("model", "readers/shared-model")] = Repo(private=False)
    hub.commit(shared, "main", {".gitattributes": Blob(data=b"")}, "initial")
    model, _ = model_folder(tmp_path / "model")
    r = push(["--model", str(model), "--repo", repo], cwd=tmp_path, endpoint=hub.url, token=token)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    for s in says:
        assert s in r.stderr, (s, r.stderr)
    assert hub.writes() == []  # no repo created, no preupload, no LFS, no commit
    assert not (tmp_path / "outputs" / "hub").exists()


def test_the_token_appears_in_no_output_log_card_or_uploaded_file(hub, tmp_path):
    secret = "hf_SuperSecretValueThatMustNeverLeak77"
    hub.tokens[secret] = {"user": "alice", "role": "write", "orgs": {}}
    tok = tokenizer_folder(tmp_path / "tok")
    checkpoints(tmp_path / "run", [10], tok)
    results = lighteval_results(tmp_path / "run" / "10" / "eval" / "results_x.json", str(tmp_path / "run" / "10" / "model"))
    ok = push(["--model", str(tmp_path / "run" / "10"), "--repo", "alice/leak-check"], cwd=tmp_path, endpoint=hub.url, token=secret)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert results.name in hub.files("alice/leak-check")["README.md"].decode()  # found beside the checkpoint
    wrong = "hf_AnotherSecretThatIsWrongButStillSecret"
    bad = push(["--model", str(tmp_path / "run" / "10"), "--repo", "alice/leak-check"], cwd=tmp_path, endpoint=hub.url, token=wrong)
    assert bad.returncode == 2 and "401" in bad.stderr

    # a recipe file in the model folder that holds the token is refused, not published
    leaky, _ = model_folder(tmp_path / "leaky")
    (leaky / "sft.yaml").write_text(f"learning_rate: 0.001\nhub_token: {secret}\n")
    refused = push(["--model", str(leaky), "--repo", "alice/leaky"], cwd=tmp_path, endpoint=hub.url, token=secret)
    assert refused.returncode == 2 and "contains your Hub token" in refused.stderr and "sft.yaml" in refused.stderr
    assert ("model", "alice/leaky") not in hub.repos

    assert any(secret in a for a in hub.authorizations)  # it was used (sent in the Authorization header only)
    for text in (ok.stdout, ok.stderr, bad.stdout, bad.stderr, refused.stdout, refused.stderr):
        assert secret not in text and wrong not in text
    written = [p for p in (tmp_path / "outputs").rglob("*") if p.is_file() and not p.is_symlink()]
    assert any(p.name == "push.jsonl" for p in written) and any(p.name == "README.md" for p in written)
    for p in written:
        assert secret.encode() not in p.read_bytes(), p
    for (rtype, repo_id), repo in hub.repos.items():
        for branch in repo.branches:
            for path, data in hub.files(repo_id, branch, rtype).items():
                assert secret.encode() not in data and wrong.encode() not in data, (repo_id, path)


def test_the_default_pipelined_upload_of_huggingface_hub_1_33_works_and_a_revision_can_be_named(tmp_path):
    with FakeHub(dict(TOKENS), regular_only=True) as hub:  # regular files only: the Xet storage is not emulated
        model, _ = model_folder(tmp_path / "model")
        r = push(["--model", str(model), "--repo", "alice/xet-era", "--private"], cwd=tmp_path, endpoint=hub.url,
                 token=WRITE, xet=True)
        assert r.returncode == 0, r.stdout + r.stderr
        got = hub.files("alice/xet-era")
        for p in model.iterdir():
            assert got[p.name] == p.read_bytes()
        assert hub.repos[("model", "alice/xet-era")].private
        assert not hub.lfs_paths("alice/xet-era")
        again = push(["--model", str(model), "--repo", "alice/xet-era", "--revision", "experiment"], cwd=tmp_path,
                     endpoint=hub.url, token=WRITE, xet=True)
        assert again.returncode == 0, again.stdout + again.stderr
        branch = hub.files("alice/xet-era", "experiment")
        assert {k: v for k, v in branch.items() if k != "README.md"} == {k: v for k, v in got.items() if k != "README.md"}
        assert 'revision="experiment"' in branch["README.md"].decode()


def test_a_dry_run_lists_every_file_with_its_size_prints_the_card_and_sends_nothing(hub, tmp_path):
    model, _ = model_folder(tmp_path / "model")
    r = push(["--model", str(model), "--repo", "alice/tiny", "--dry-run"], cwd=tmp_path, endpoint=hub.url, token=None)
    assert r.returncode == 0, r.stdout + r.stderr
    for p in model.iterdir():
        assert f"{p.stat().st_size:,}  {p.name}" in r.stdout, p.name
    assert "repo      alice/tiny (model, public)" in r.stdout and "revision  main:" in r.stdout
    card = r.stdout.split("-----\n", 1)[1].split("----- end of README.md")[0]
    staged = (tmp_path / "outputs" / "hub" / "alice__tiny" / "main" / "README.md").read_text()
    assert card.strip() == staged.strip() and ModelCard(staged).data.library_name == "transformers"
    assert hub.log == []  # not a single request
    offline = push(["--model", str(model), "--repo", "alice/tiny", "--dry-run"], cwd=tmp_path, endpoint=None, token=None, offline=True)
    assert offline.returncode == 0 and "nothing was sent" in offline.stdout
