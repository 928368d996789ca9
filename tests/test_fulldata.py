"""Full-size data paths run for real against local stand-ins (issue 10).

Stack-Edu: the Hub's parquet layout in a local mirror folder, Software Heritage's bucket as an S3 GET server on
127.0.0.1 (s3fs talks to it through endpoint_url) or as a local folder. LLM steps: datatrove's inference runner
against a stub OpenAI-compatible endpoint on the loopback range, or datatrove's own dummy server. Expected texts
are the strings the blobs were made from; expected scores are the stub's own answers.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from local_servers import OpenAIStub, S3Stub
from smolrecipe.data import executor, inference

REPO = Path(__file__).resolve().parents[1]


# Two encodings that disagree on the same bytes: windows-1252's curly quotes are C1 controls in Latin-1
# and invalid in UTF-8, so only the file's own src_encoding gives the original text back.
FILES = {
    "a" * 40: ("UTF-8", 'def area(r):\n    """π r², in square metres."""\n    return 3.14159 * r * r\n'),
    "b" * 40: ("windows-1252", "// “Bonjour” from the café\nint main(void) { return 0; }\n"),
    "c" * 40: ("UTF-8", "# naïve sort\ndef sort(xs):\n    return sorted(xs)\n"),
    "d" * 40: ("ISO-8859-1", "-- señor's table\nSELECT * FROM años;\n"),
}
MISSING_BLOB = "e" * 40


@contextmanager
def time_limit(seconds: int):
    def boom(*_):
        raise TimeoutError(f"exceeded {seconds} s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def exec_args(tmp_path: Path, tasks: int = 1) -> argparse.Namespace:
    return argparse.Namespace(tasks=tasks, workers=1, logging_dir=str(tmp_path / "logs"), slurm=False)


def stack_edu_mirror(root: Path) -> Path:
    """HuggingFaceTB/stack-edu's layout, two parquet files of the Python configuration: ids and metadata, no text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = root / "HuggingFaceTB" / "stack-edu" / "Python"
    folder.mkdir(parents=True)
    shards = [["a" * 40, "b" * 40, MISSING_BLOB], ["c" * 40, "d" * 40]]
    for k, blobs in enumerate(shards):
        enc = [FILES[b][0] if b in FILES else "UTF-8" for b in blobs]
        pq.write_table(pa.table({
            "blob_id": blobs, "language": ["Python"] * len(blobs), "repo_name": [f"octo/r{k}"] * len(blobs),
            "path": [f"src/f{i}.py" for i in range(len(blobs))], "src_encoding": enc,
            "length_bytes": [len(FILES[b][1].encode(FILES[b][0])) if b in FILES else 9 for b in blobs],
            "score": [3.5] * len(blobs), "int_score": [3] * len(blobs),
            "detected_licenses": [["mit"]] * len(blobs), "license_type": ["permissive"] * len(blobs)}),
            folder / f"train-{k:05d}-of-00002.parquet")
    return root


def blob_bytes(blob: str) -> bytes:
    enc, text = FILES[blob]
    return gzip.compress(text.encode(enc))


def read_rows(folder: Path) -> list[dict]:
    rows = []
    for f in sorted(folder.glob("*.jsonl*")):
        opener = gzip.open if f.name.endswith(".gz") else open
        with opener(f, "rt", encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return rows


# ---- Stack-Edu: contents fetched from the bucket -------------------------------------------------------------

def test_stack_edu_fetch_decodes_two_encodings_counts_a_miss_and_resumes(tmp_path, capsys):
    from datatrove.pipeline.writers import JsonlWriter

    from smolrecipe.data.readers import hub_reader
    from smolrecipe.data.stack_edu import FetchBlobContents

    mirror = stack_edu_mirror(tmp_path / "hub")
    s3 = S3Stub({f"softwareheritage/content/{b}": blob_bytes(b) for b in FILES})
    s3.fail["c" * 40] = 100  # task 1's first blob fails on every try in the first run

    def pipeline():
        return [hub_reader("stack-edu", language="Python", hub_mirror=str(mirror)),
                FetchBlobContents("s3://softwareheritage/content", endpoint_url=s3.url, retries=2, retry_wait=0.01,
                                  misses_writer=JsonlWriter(str(tmp_path / "misses"), compression="gzip")),
                JsonlWriter(str(tmp_path / "out"), compression="gzip")]

    kw = dict(reads=[mirror], writes=[tmp_path / "out"], config={"contents": "s3://softwareheritage/content"})
    with time_limit(120), pytest.raises(RuntimeError, match="still failing after 2 retries"):
        executor.run(pipeline(), exec_args(tmp_path, tasks=2), "stack-edu", **kw)
    assert {a for _, a in s3.gets} == {None}, "the bucket is read anonymously (unsigned requests)"
    first = [k.rsplit("/", 1)[-1] for k, _ in s3.gets]
    assert first.count("c" * 40) == 3  # the first try and 2 retries

    s3.gets.clear()
    s3.fail = {"c" * 40: 0, "d" * 40: 1}  # the outage is over; one transient error left, retried
    capsys.readouterr()
    with time_limit(120):
        stats = executor.run(pipeline(), exec_args(tmp_path, tasks=2), "stack-edu", **kw)
    assert "resuming run" in capsys.readouterr().out
    again = sorted(k.rsplit("/", 1)[-1] for k, _ in s3.gets)
    assert again == ["c" * 40, "d" * 40, "d" * 40], "task 0 (a, b, e) completed in the first run and is not redone"

    rows = {r["id"]: r for r in read_rows(tmp_path / "out")}
    assert {b: r["text"] for b, r in rows.items()} == {b: text for b, (_, text) in FILES.items()}
    assert rows["b" * 40]["metadata"]["src_encoding"] == "windows-1252"
    misses = read_rows(tmp_path / "misses")
    assert [(m["id"], m["metadata"]["fetch_error"]) for m in misses] == [(MISSING_BLOB, "missing_blob")]
    fetch = next(v for k, v in stats.items() if "Software Heritage" in k)
    assert fetch["fetched"] == 4 and fetch["missing_blob"] == 1 and fetch["fetch_retries"] == 1


def test_a_local_folder_laid_out_like_the_bucket_reads_the_same_and_counts_what_it_cannot_use(tmp_path):
    from datatrove.data import Document

    from smolrecipe.data.stack_edu import FetchBlobContents, fetch_summary

    folder = tmp_path / "content"
    folder.mkdir()
    for b in FILES:
        (folder / b).write_bytes(blob_bytes(b))
    (folder / ("f" * 40)).write_bytes(b"plain bytes, not gzip")
    (folder / ("0" * 40)).write_bytes(gzip.compress(b"caf\xe9 au lait"))  # Latin-1 bytes labelled UTF-8
    docs = [Document(text=b, id=b, metadata={"blob_id": b, "src_encoding": enc}) for b, (enc, _) in FILES.items()]
    docs += [Document(text=b, id=b, metadata={"blob_id": b, "src_encoding": "UTF-8"})
             for b in (MISSING_BLOB, "f" * 40, "0" * 40, "../../etc/passwd")]
    step = FetchBlobContents(str(folder), batch_size=3, retry_wait=0.01)
    out = {d.id: d.text for d in step.run(iter(docs))}
    assert {b: out[b] for b in FILES} == {b: text for b, (_, text) in FILES.items()}
    assert out["0" * 40] == "caf\ufffd au lait"  # kept, with the replacement character, and counted
    assert set(out) == {*FILES, "0" * 40}
    stats = {k: v.total if hasattr(v, "total") else v for k, v in step.stats.stats.items()}
    assert (stats["missing_blob"], stats["corrupt_blob"], stats["bad_blob_id"], stats["decoded_with_replacement"]) == (1, 1, 1, 1)
    line = fetch_summary({step.name: stats})[0]
    assert "5 files fetched" in line and "1 missing blob" in line and "1 bad blob id" in line


def test_stack_edu_folder_is_fetched_and_tokenized_by_the_cluster_script(tmp_path):
    """data/tokenize_folder.py --smollm2 stack-edu: Hub ids -> fetched files -> tokens that decode to those files."""
    import numpy as np
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    mirror = stack_edu_mirror(tmp_path / "hub")
    folder = tmp_path / "content"
    folder.mkdir()
    for b in FILES:
        (folder / b).write_bytes(blob_bytes(b))
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator([t for _, t in FILES.values()], trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.save(str(tmp_path / "tokenizer.json"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
           "SMOLRECIPE_OUTPUTS": str(tmp_path / "outputs")}
    r = subprocess.run([sys.executable, str(REPO / "data" / "tokenize_folder.py"), "--smollm2", "stack-edu",
                        "--language", "python", "--hub-mirror", str(mirror), "--contents", str(folder),
                        "--tokenizer", str(tmp_path / "tokenizer.json"), "--root", str(tmp_path / "smollm2"),
                        "--tasks", "1", "--logging-dir", str(tmp_path / "logs")],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "stack-edu-python: Stack-Edu contents: 4 files fetched, 1 missing blob" in r.stdout
    out = tmp_path / "smollm2" / "tokenized" / "stack-edu"
    ids = np.fromfile(next(out.glob("python*.ds")), dtype="<u2").tolist()
    docs = tok.decode(ids, skip_special_tokens=False).split("<|endoftext|>")
    assert sorted(d for d in docs if d) == sorted(text for _, text in FILES.values())
    assert len(read_rows(tmp_path / "smollm2" / "stack-edu-misses" / "Python")) == 1


def test_stack_edu_job_submits_to_slurm_with_the_fetch_step(tmp_path):
    """The cluster path without a cluster: a stand-in `sbatch` on PATH receives datatrove's array script, and the
    pickled pipeline it would run loads back with the fetch step configured for the bucket."""
    import dill

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text('#!/bin/sh\necho "$@" >> "$(dirname "$0")/calls"\necho "Submitted batch job 4242"\n')
    (bin_dir / "sbatch").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
           "SMOLRECIPE_OUTPUTS": str(tmp_path / "outputs")}
    r = subprocess.run([sys.executable, str(REPO / "data" / "tokenize_folder.py"), "--smollm2", "stack-edu",
                        "--language", "Rust", "--root", str(tmp_path / "smollm2"), "--slurm", "--partition", "cpu",
                        "--tasks", "16", "--logging-dir", str(tmp_path / "logs")],
                       capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len((bin_dir / "calls").read_text().splitlines()) == 2  # the array job and its stats merge
    (logdir,) = (tmp_path / "logs").glob("tokenize-stack-edu-rust-*")
    script = (logdir / "launch_script.slurm").read_text()
    assert "#SBATCH --partition=cpu" in script and "#SBATCH --array=0-15" in script
    with open(logdir / "executor.pik", "rb") as f:
        steps = dill.load(f).pipeline
    fetch = steps[1]
    assert type(fetch).__name__ == "FetchBlobContents" and fetch.contents == "s3://softwareheritage/content"
    assert fetch.anonymous and steps[0].data_folder.path == "datasets/HuggingFaceTB/stack-edu/Rust"


# ---- chat data as text -------------------------------------------------------------------------------------

def test_smoltalk_messages_are_rendered_with_the_chat_template_before_the_text_filters(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from smolrecipe.data.filters import web_filters
    from smolrecipe.data.readers import SafeJsonlReader, hub_reader

    answer = ("Water evaporates from the sea and from lakes when the sun warms them. The vapour rises, cools and "
              "condenses into the tiny droplets that make up clouds. When the droplets grow heavy enough they fall "
              "back as rain or snow, which feeds rivers that carry the water to the sea again.")
    talk = [{"role": "user", "content": "How does the water cycle work?"}, {"role": "assistant", "content": answer}]
    folder = tmp_path / "hub" / "HuggingFaceTB" / "smoltalk" / "data" / "all"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"messages": [talk, [{"role": "narrator", "content": "x"}]], "source": ["a", "b"]}),
                   folder / "train-00000.parquet")
    reader = hub_reader("smoltalk", hub_mirror=str(tmp_path / "hub"))
    docs = list(reader.run())
    expected = ("<|im_start|>user\nHow does the water cycle work?<|im_end|>\n"
                f"<|im_start|>assistant\n{answer}<|im_end|>\n")
    assert [d.text for d in docs] == [expected]
    assert reader.stats["skipped_bad_messages"].total == 1
    # the filters judge the rendered text (a list used to crash them): the prose answer passes Gopher and C4, and
    # FineWeb's line rule drops it because ChatML's marker lines end without punctuation
    verdicts = {f.name: f.filter(docs[0]) for f in web_filters(tiny=True)}
    assert verdicts == {"👯 Gopher Repetition": True, "🥇 Gopher Quality": True, "⛰ C4 Quality": True,
                        "🍷 FineWeb Quality": (False, "line_punct_ratio")}
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "x.jsonl").write_text(json.dumps({"id": "1", "messages": talk}) + "\n")
    assert [d.text for d in SafeJsonlReader(str(tmp_path / "local"), text_key="messages").run()] == [expected]


# ---- LLM calls through datatrove's inference runner -----------------------------------------------------

def edu_reply(prompt: str) -> tuple[int, str]:
    k = int(re.search(r"doc-(\d+)", prompt).group(1))
    return 200, f"The extract is a short note.\nEducational score: {k % 6}"


def seed_docs(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    with open(folder / "seeds.jsonl", "w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"doc-{i}", "text": f"doc-{i}: notes on the water cycle, part {i}, "
                                                           "with evaporation, clouds and rain."}) + "\n")
    return folder


def saved_documents(logs: Path, per_chunk: int) -> int:
    """Documents the runner has checkpointed: completed chunks (last_chunk) + lines of the open chunk files."""
    folders = list(logs.glob("annotate-*/inference-checkpoints"))
    if not folders:
        return 0
    last = folders[0] / "last_chunk" / "00000.txt"
    n = per_chunk * (int(last.read_text()) + 1) if last.exists() and last.read_text().strip() else 0
    return n + sum(f.read_bytes().count(b"\n") for f in folders[0].glob("00000/chunk_*.jsonl"))


def test_offline_annotation_writes_the_same_rows_and_a_rerun_skips(tmp_path):
    """annotate.py --heuristic (the tiny recipe's judge): the rows the LLM path writes, keyed and resumable."""
    from smolrecipe.data.annotate import heuristic_score

    seeds = tmp_path / "in"
    seeds.mkdir()
    lesson = ("Plants make sugar from light because chlorophyll absorbs it. For example, a leaf in the sun releases "
              "oxygen, which means water was split. This is why plants need light, and note that roots bring water. ")
    with open(seeds / "seeds.jsonl", "w") as f:  # prose of growing length: the edu heuristic scores them apart
        for i in range(12):
            f.write(json.dumps({"id": f"doc-{i}", "text": f"doc-{i}. " + lesson * (i % 4)}) + "\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
           "SMOLRECIPE_OUTPUTS": str(tmp_path / "outputs")}
    cmd = [sys.executable, str(REPO / "data" / "annotate.py"), "--input", str(seeds), "--sample", "10", "--heuristic",
           "--scale", "edu", "--out", str(tmp_path / "out"), "--logging-dir", str(tmp_path / "logs")]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180)
    assert first.returncode == 0, first.stdout + first.stderr
    rows = read_rows(tmp_path / "out")
    texts = {json.loads(line)["id"]: json.loads(line)["text"] for line in (seeds / "seeds.jsonl").open()}
    assert [r["id"] for r in rows] == [f"doc-{i}" for i in range(10)]  # --sample 10: the first 10 read
    assert all(r["score"] == heuristic_score(texts[r["id"]], "edu") and r["annotator"] == "heuristic" for r in rows)
    assert len({r["score"] for r in rows}) > 1
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180)
    assert again.returncode == 0 and "already complete" in again.stdout


def test_annotation_killed_midway_resumes_without_repeating_finished_requests(tmp_path):
    seeds = seed_docs(tmp_path / "in", 30)
    stub = OpenAIStub(edu_reply, stall_after=10)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
           "OPENAI_API_KEY": "sk-test-key", "SMOLRECIPE_OUTPUTS": str(tmp_path / "outputs")}
    cmd = [sys.executable, str(REPO / "data" / "annotate.py"), "--input", str(seeds), "--sample", "30",
           "--out", str(tmp_path / "out"), "--server", "endpoint", "--endpoint", stub.url, "--model", "judge",
           "--records-per-chunk", "4", "--max-concurrent", "2", "--logging-dir", str(tmp_path / "logs")]
    with open(tmp_path / "run1.log", "w") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 90
        while time.time() < deadline and not (len(stub.answered) >= 10 and saved_documents(tmp_path / "logs", 4) >= 10):
            assert proc.poll() is None, (tmp_path / "run1.log").read_text()
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)  # the whole process group this test started
        proc.wait()
    assert len(stub.answered) == 10, (tmp_path / "run1.log").read_text()
    written = read_rows(tmp_path / "out")
    assert len(written) >= 8, "complete chunks are in the output before the run ends"
    answered_first = set(stub.answered)

    stub.requests.clear()
    stub.release()
    r = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "resuming run" in r.stdout
    asked_again = [m for m, _ in stub.requests]
    assert not answered_first & set(asked_again), "a finished request was sent again"
    assert sorted(asked_again) == sorted({f"doc-{i}" for i in range(30)} - answered_first)
    assert {auth for _, auth in stub.requests} == {"Bearer sk-test-key"}
    rows = read_rows(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == sorted(f"doc-{i}" for i in range(30))
    assert all(row["score"] == int(row["id"].split("-")[1]) % 6 and row["annotator"] == "llm:judge" for row in rows)
    assert not list((tmp_path / "logs").rglob("replay.sqlite3")), "the request cache is removed once the task is done"
    assert "annotated 30 documents" in r.stdout


def test_a_rejected_request_skips_its_document_and_keeps_the_others(tmp_path, capsys):
    """The old client lost every score on one HTTP 400; the runner skips that document, counts it, writes the rest,
    and a transient 503 is retried."""
    from smolrecipe.data.annotate import annotation_row, judge_rollout
    from smolrecipe.data.readers import SafeJsonlReader

    seeds = seed_docs(tmp_path / "in", 8)
    calls = []

    def reply(prompt):
        calls.append(prompt)
        if len(calls) == 1:
            return 503, "overloaded"  # transient: the client retries it
        return (400, "prompt too long") if "doc-3:" in prompt else edu_reply(prompt)

    stub = OpenAIStub(reply)
    parser = argparse.ArgumentParser()
    inference.add_inference_args(parser)
    args = parser.parse_args(["--server", "endpoint", "--endpoint", stub.url, "--model", "judge", "--records-per-chunk", "3"])
    for k, v in vars(exec_args(tmp_path)).items():
        setattr(args, k, v)
    with time_limit(120):
        stats = inference.run([SafeJsonlReader(str(seeds))], judge_rollout, args, "annotate", output=str(tmp_path / "out"),
                              reads=[seeds], config=inference.key_config(args), adapter=annotation_row,
                              shared_context={"scale": "edu", "annotator": "llm:judge"})
    rows = read_rows(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == [f"doc-{i}" for i in range(8) if i != 3]
    assert all(row["score"] == int(row["id"].split("-")[1]) % 6 for row in rows)
    assert len(calls) == 9  # 8 documents + the one retried after the 503
    assert "1 skipped bad requests" in inference.summary(stats)[0]


def test_the_api_key_never_follows_a_redirect_to_another_host():
    """The old urllib client re-sent `Authorization` to wherever a redirect pointed; the runner's client does not."""
    import asyncio

    from datatrove.pipeline.inference.run_inference import InferenceConfig

    other = OpenAIStub(edu_reply, host="127.0.0.3")
    first = OpenAIStub(edu_reply, host="127.0.0.2", redirect_to=other.url)
    config = InferenceConfig(server_type="endpoint", model_name_or_path="judge", endpoint_url=first.url)

    async def one_request():  # as the runner makes it, inside its event loop
        server = inference.OpenAIEndpoint(config, 0, "SMOLRECIPE_TEST_KEY")
        return await server._make_request({"model": "judge", "messages": [{"role": "user", "content": "doc-4: a note"}]})

    os.environ["SMOLRECIPE_TEST_KEY"] = "sk-secret"
    try:
        reply = asyncio.run(one_request())
    finally:
        del os.environ["SMOLRECIPE_TEST_KEY"]
    assert reply["choices"][0]["message"]["content"].endswith("Educational score: 4")
    assert first.requests == [("doc-4", "Bearer sk-secret")]
    assert other.requests and all(auth != "Bearer sk-secret" for _, auth in other.requests)


# ---- SmolTalk-style synthetic data ----------------------------------------------------------------------

@pytest.mark.parametrize("reply,kept", [
    ("* water evaporates\n* clouds form\n* rain falls", {"three-bullets", "lowercase", "no-commas", "max-50-words"}),
    ("<<Rain>>\nWater rises, cools and falls.\nP.S. Bring an umbrella. Is there anything else I can help with?",
     {"title", "postscript", "end-phrase", "max-50-words"}),
    ("* 1\n* 2\n* 3", {"three-bullets", "no-commas", "max-50-words"}),  # no letters: not "lowercase letters"
])
def test_constraint_checkers_keep_exactly_the_replies_that_follow_the_instruction(reply, kept):
    from smolrecipe.data.smoltalk import INSTRUCTIONS

    assert {i.name for i in INSTRUCTIONS if i.check(reply)} == kept


def test_synthetic_rewrites_are_chat_data_the_sft_recipes_load(tmp_path):
    """data/smoltalk.py with datatrove's dummy server -> jsonl that TRL's dataset mixture loads, and whose assistant
    turn is what the chat template's generation mask selects (the tokens assistant_only_loss trains on)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    from trl.data_utils import is_conversational
    from trl.scripts.utils import DatasetMixtureConfig, get_dataset

    from smolrecipe.tokenizer import CHAT_TEMPLATE, SPECIAL_TOKENS

    seeds = seed_docs(tmp_path / "in", 6)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
           "SMOLRECIPE_OUTPUTS": str(tmp_path / "outputs")}
    r = subprocess.run([sys.executable, str(REPO / "data" / "smoltalk.py"), "--subset", "rewrite", "--input", str(seeds),
                        "--sample", "6", "--server", "dummy", "--model", "dummy", "--logging-dir", str(tmp_path / "logs")],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    out = tmp_path / "outputs" / "data" / "smoltalk" / "rewrite"
    assert "smol-rewrite: 6 conversations" in r.stdout

    ds = get_dataset(DatasetMixtureConfig(datasets=[{"path": "json", "data_files": [str(p) for p in out.glob("*.jsonl")],
                                                     "columns": ["messages"]}]))["train"]
    assert len(ds) == 6 and is_conversational(ds[0])
    seeds_text = {json.loads(line)["text"] for line in (seeds / "seeds.jsonl").open()}
    assert {row["messages"][1]["content"] for row in ds} == seeds_text
    assert {row["messages"][0]["role"] for row in ds} == {"system"}

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(list(seeds_text), trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|pad|>",
                                 chat_template=CHAT_TEMPLATE)
    enc = hf.apply_chat_template(ds[0]["messages"], tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    masked = [t for t, m in zip(enc["input_ids"], enc["assistant_masks"]) if m]
    assert hf.decode(masked) == ds[0]["messages"][2]["content"] + "<|im_end|>"


def test_constraints_subset_drops_answers_that_break_their_instruction(tmp_path):
    from smolrecipe.data.readers import SafeJsonlReader
    from smolrecipe.data.smoltalk import conversation, conversation_row, smoltalk_rollout

    seeds = seed_docs(tmp_path / "in", 14)
    bullets = "* water evaporates\n* clouds form\n* rain falls"
    stub = OpenAIStub(lambda p: (200, bullets))
    parser = argparse.ArgumentParser()
    inference.add_inference_args(parser)
    args = parser.parse_args(["--server", "endpoint", "--endpoint", stub.url, "--model", "judge"])
    for k, v in vars(exec_args(tmp_path)).items():
        setattr(args, k, v)
    with time_limit(120):
        inference.run([SafeJsonlReader(str(seeds))], smoltalk_rollout, args, "smoltalk-constraints",
                      output=str(tmp_path / "out"), reads=[seeds], config=inference.key_config(args),
                      adapter=conversation_row, shared_context={"subset": "constraints"})
    follows = {"three-bullets", "lowercase", "no-commas", "max-50-words"}  # by hand, for this reply (see above)
    asked = {f"doc-{i}": conversation("constraints", f"doc-{i}", "x")[1] for i in range(14)}
    rows = read_rows(tmp_path / "out")
    assert sorted(r["seed_id"] for r in rows) == sorted(d for d, name in asked.items() if name in follows)
    assert 0 < len(rows) < 14
    assert all(r["messages"][-1] == {"role": "assistant", "content": bullets} and r["subset"] == "smol-constraints"
               for r in rows)


# ---- make data RECIPE=smollm2-1.7B ---------------------------------------------------------------------

def test_full_size_plan_prints_the_commands_the_readmes_give(capsys):
    from smolrecipe.cli import main

    assert main(["data", "--recipe", "smollm2-1.7B"]) == 0
    out = capsys.readouterr().out
    assert "Printed only" in out and "SLURM=1" in out
    commands = [line for line in out.splitlines() if line.startswith("python data/")]
    assert len(commands) == 14  # the decontamination index + the 13 folders the 1.7B configs read
    assert any("--smollm2 stack-edu" in c and "--contents s3://softwareheritage/content" in c for c in commands)
    for readme in ("data/README.md", "recipes/smollm2-1.7B/README.md"):
        text = (REPO / readme).read_text()
        missing = [c for c in commands if c not in text]
        assert not missing, f"{readme} does not give: {missing}"


def test_stack_edu_languages_are_the_hub_configurations():
    from smolrecipe.data.readers import STACK_EDU_LANGUAGES, hub_reader, stack_edu_language
    from smolrecipe.errors import RecipeError

    assert len(STACK_EDU_LANGUAGES) == 15 and "CSharp" in STACK_EDU_LANGUAGES  # the card's config names
    assert stack_edu_language("C-Sharp") == stack_edu_language("c#") == stack_edu_language("csharp") == "CSharp"
    assert hub_reader("stack-edu", language="C-Sharp").data_folder.path == "datasets/HuggingFaceTB/stack-edu/CSharp"
    assert hub_reader("starcoderdata", language="CSharp").data_folder.path == "datasets/bigcode/starcoderdata/c-sharp"
    with pytest.raises(RecipeError, match="unknown Stack-Edu language"):
        stack_edu_language("Cobol")


def test_the_classifier_reads_the_annotation_folder_annotate_writes(tmp_path):
    from smolrecipe.data.classifier import read_annotations
    from smolrecipe.errors import RecipeError

    folder = tmp_path / "ann"
    folder.mkdir()
    rows = [{"id": f"doc-{i}", "text": f"text {i}", "score": None if i % 5 == 0 else float(i % 6)} for i in range(30)]
    (folder / "00000_chunk_0.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:20]))
    with gzip.open(folder / "00001.jsonl.gz", "wt") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rows[20:]))
    got = read_annotations(folder)
    assert sorted(got) == sorted((r["text"], r["score"]) for r in rows if r["score"] is not None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RecipeError, match="no annotations found"):
        read_annotations(tmp_path / "empty")
