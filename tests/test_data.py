"""Data pipelines (issue 3): decontamination, classifier filter, bad input, tokenization, dedup, mixture, CLI.

Small corpora only; every datatrove run goes through `run_pipeline` (one worker, in-process, under a
SIGALRM timeout) so a hung executor fails the test instead of the suite.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from smolrecipe.data import executor

REPO = Path(__file__).resolve().parents[1]
GSM8K_TEST = REPO / "evaluation" / "data" / "gsm8k" / "test.jsonl"           # shipped, MIT licence
GSM8K_TRAIN = REPO / "tests" / "fixtures" / "gsm8k" / "train-first-2000.jsonl"


@contextmanager
def time_limit(seconds: int):
    def boom(*_):
        raise TimeoutError(f"datatrove run exceeded {seconds} s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_pipeline(pipeline, tmp_path: Path, name: str, seconds: int = 120, **kw) -> dict:
    args = argparse.Namespace(tasks=1, workers=1, logging_dir=str(tmp_path / "logs"), slurm=False)
    with time_limit(seconds):
        return executor.run(pipeline, args, name, **kw)


def write_jsonl(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return path


def read_jsonl_gz(folder: Path) -> list[dict]:
    out = []
    for f in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh)
    return out


@pytest.fixture(scope="module")
def small_tokenizer(tmp_path_factory) -> Path:
    """A 600-token byte-level BPE with the recipe's special tokens, trained in about a second."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from smolrecipe.data.local_corpus import code_docs

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([d["text"] for d in code_docs()[:40]], trainer)
    from transformers import PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tok")
    PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|pad|>").save_pretrained(folder)
    return folder / "tokenizer.json"  # datatrove loads the file; the folder is what transformers loads


# ---- decontamination: the done-when test ----------------------------------------------------

def test_gsm8k_planted_test_problems_are_all_removed(tmp_path):
    from datatrove.pipeline.writers import JsonlWriter

    from smolrecipe.data.decont import NGramsDecontFilter, build_index, default_config, report
    from smolrecipe.data.readers import SafeJsonlReader

    test = [json.loads(line) for line in open(GSM8K_TEST)]
    train = [json.loads(line) for line in open(GSM8K_TRAIN)]
    assert len(test) == 1319 and len(train) == 2000
    bench = tmp_path / "gsm8k.jsonl"
    bench.write_text(GSM8K_TEST.read_text())
    rng = random.Random(0)
    filler = ["The library lends books for three weeks and renews them once if nobody else is waiting.",
              "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen inside the leaf.",
              "A linked list stores each element with a pointer to the next one, so inserting is cheap."]
    docs = [{"id": f"train/{k}", "text": f"{p['question']}\n{p['answer']}", "kind": "train"} for k, p in enumerate(train)]
    planted = rng.sample(test, 100)
    for k, p in enumerate(planted):  # inside other text, as a scraped page would quote it
        docs.append({"id": f"planted/{k}", "kind": "planted",
                     "text": f"{rng.choice(filler)}\n\nHomework help: {p['question']}\nSolution: {p['answer']}\n\n{rng.choice(filler)}"})
    docs += [{"id": f"other/{k}", "text": rng.choice(filler) * 3, "kind": "other"} for k in range(200)]
    rng.shuffle(docs)
    write_jsonl(tmp_path / "corpus" / "part.jsonl", docs)

    ngrams = build_index(tmp_path / "index", benchmark_files=[bench])
    assert ngrams["gsm8k"] > 10_000
    stats = run_pipeline([SafeJsonlReader(str(tmp_path / "corpus")),
                          NGramsDecontFilter(str(tmp_path / "index"), config=default_config(),
                                             exclusion_writer=JsonlWriter(str(tmp_path / "removed"), compression="gzip")),
                          JsonlWriter(str(tmp_path / "kept"), compression="gzip")], tmp_path, "decont", seconds=240)
    removed = read_jsonl_gz(tmp_path / "removed")
    kinds = [d["metadata"]["kind"] for d in removed]
    assert kinds.count("planted") == 100
    assert kinds.count("train") < 0.01 * len(train), f"{kinds.count('train')} train problems removed"
    assert kinds.count("other") == 0
    assert all(d["metadata"]["contaminated_task"] == "gsm8k" for d in removed)
    assert report(stats) == {"gsm8k": len(removed)}
    assert len(read_jsonl_gz(tmp_path / "kept")) == len(docs) - len(removed)


def test_benchmark_file_errors_name_the_line(tmp_path):
    from smolrecipe.data.decont import benchmark_pairs, build_index
    from smolrecipe.errors import RecipeError

    bad = write_jsonl(tmp_path / "b.jsonl", [{"question": "q", "answer": "a"}, {"question": "no gold here"}])
    with pytest.raises(RecipeError, match="line 2 has no gold field"):
        benchmark_pairs(bad)
    mc = write_jsonl(tmp_path / "mc.jsonl", [{"query": "Sky colour?", "choices": ["red", "blue"], "gold": 1}])
    assert benchmark_pairs(mc) == [("Sky colour?", "blue")]
    with pytest.raises(RecipeError, match="no benchmark"):
        build_index(tmp_path / "idx")


# ---- classifier ------------------------------------------------------------------------------------

GOOD = ("Photosynthesis is the process by which plants turn light into chemical energy. For example, a leaf "
        "uses chlorophyll to absorb light, which means it can split water and release oxygen. This is why "
        "plants need sunlight: without it, they cannot make the sugar that feeds them. Note that ")
BAD = "BUY NOW!!! cheap deals click here >>> $$$ 50% off ||| login | cart | menu "


def test_classifier_filter_drops_low_scores_and_stores_them(tmp_path, small_tokenizer):
    from datatrove.pipeline.writers import JsonlWriter

    from smolrecipe.data.classifier import EduClassifierFilter, train
    from smolrecipe.data.readers import SafeJsonlReader

    rng = random.Random(0)
    rows = []
    for k in range(240):
        if k % 2:
            rows.append({"text": GOOD * rng.randint(1, 3) + f" topic {k}.", "score": rng.choice([4.0, 5.0])})
        else:
            rows.append({"text": BAD * rng.randint(1, 3) + f" item {k}", "score": rng.choice([0.0, 1.0])})
    ann = write_jsonl(tmp_path / "ann.jsonl", rows)
    info = train(ann, tmp_path / "clf", tokenizer_file=small_tokenizer, threshold=3, epochs=8, batch_size=16, max_length=64)
    assert info["val"]["f1"] > 0.9, info
    assert json.loads((tmp_path / "clf" / "classifier.json").read_text())["threshold"] == 3

    docs = [{"id": f"g{k}", "text": GOOD + f" lesson {k}."} for k in range(20)]
    docs += [{"id": f"b{k}", "text": BAD + f" deal {k}"} for k in range(20)]
    write_jsonl(tmp_path / "in" / "d.jsonl", docs)
    stats = run_pipeline([SafeJsonlReader(str(tmp_path / "in")),
                          EduClassifierFilter(tmp_path / "clf", score_key="edu_score",
                                              exclusion_writer=JsonlWriter(str(tmp_path / "dropped"), compression="gzip")),
                          JsonlWriter(str(tmp_path / "kept"), compression="gzip")], tmp_path, "clf")
    kept, dropped = read_jsonl_gz(tmp_path / "kept"), read_jsonl_gz(tmp_path / "dropped")
    assert len(kept) + len(dropped) == 40
    assert all(d["metadata"]["edu_score_int"] >= 3 for d in kept)
    assert all(d["metadata"]["edu_score_int"] < 3 for d in dropped)
    assert all(isinstance(d["metadata"]["edu_score"], float) for d in kept + dropped)
    assert {d["id"][0] for d in kept} == {"g"} and {d["id"][0] for d in dropped} == {"b"}
    assert executor.stat(stats, "Edu classifier", "dropped") == 20


def test_binary_metrics():
    from smolrecipe.data.classifier import binary_metrics

    m = binary_metrics([3.4, 2.4, 4.0, 1.0], [3, 3, 4, 0], threshold=3)
    assert (m["precision"], m["recall"], round(m["f1"], 3)) == (1.0, 0.6667, 0.8)


# ---- LLM judge replies (the calls themselves: tests/test_fulldata.py, through datatrove's inference runner) ----

def test_judge_scores_are_read_from_the_reply_and_clipped_to_the_scale():
    from smolrecipe.data.annotate import PROMPTS, parse_score

    assert parse_score("Clear and focused.\nEducational score: 4", "edu") == 4.0
    assert parse_score("Score 2 at first... Educational score: **3**", "edu") == 3.0  # the last one counts
    assert parse_score("blah\nMath score: 7", "math5") == 5.0 and parse_score("Math score: 0", "math3") == 1.0
    assert parse_score("no score", "edu") is None
    assert all("{text}" in prompt for prompt in PROMPTS.values())


# ---- bad input -------------------------------------------------------------------------------------

def test_bad_input_is_counted_and_skipped_never_fatal(tmp_path, capsys):
    from datatrove.pipeline.writers import JsonlWriter

    from smolrecipe.data.readers import SafeJsonlReader, bad_input_summary

    f = tmp_path / "in" / "mixed.jsonl"
    f.parent.mkdir()
    lines = [json.dumps({"id": "ok1", "text": "fine document one"}).encode(),
             b'{"id": "broken", "text": "no closing brace"',
             b'{"id": "latin1", "text": "caf\xe9"}',
             json.dumps({"id": "nofield", "body": "wrong key"}).encode(),
             json.dumps({"id": "empty", "text": "   "}).encode(),
             json.dumps(["not", "an", "object"]).encode(),
             b'{"id": "surrogate", "text": "bad \\ud800 escape"}',
             json.dumps({"id": "ok2", "text": "fine document two"}).encode()]
    f.write_bytes(b"\n".join(lines) + b"\n")
    with gzip.open(tmp_path / "in" / "more.jsonl.gz", "wb") as g:
        g.write(b'{"id": "ok3", "text": "gzipped"}\n{oops\n')
    stats = run_pipeline([SafeJsonlReader(str(tmp_path / "in")), JsonlWriter(str(tmp_path / "out"), compression="gzip")],
                         tmp_path, "bad")
    assert sorted(d["id"] for d in read_jsonl_gz(tmp_path / "out")) == ["ok1", "ok2", "ok3"]
    summary = bad_input_summary(stats)
    assert "skipped 2 input line(s): malformed json" in summary
    assert "skipped 2 input line(s): not utf8" in summary
    assert "skipped 1 input line(s): missing text" in summary
    assert "skipped 1 input line(s): empty text" in summary
    assert "skipped 1 input line(s): not an object" in summary
    # every pipeline script gets these lines from executor.run; the tiny build collects them for its own summary
    assert "skipped 2 input line(s): malformed json" in capsys.readouterr().out
    run_pipeline([SafeJsonlReader(str(tmp_path / "in")), JsonlWriter(str(tmp_path / "out2"), compression="gzip")],
                 tmp_path, "bad-quiet", report_bad_input=False)
    assert "skipped" not in capsys.readouterr().out


# ---- tokenization, dedup, mixture ------------------------------------------------------------------

def test_tokenized_folder_metadata_names_the_tokenizer(tmp_path, small_tokenizer):
    from datatrove.utils.dataset import DatatroveFolderDataset
    from tokenizers import Tokenizer

    from smolrecipe.data.readers import SafeJsonlReader
    from smolrecipe.data.tokenize import folder_tokens, tokenizer_step

    texts = [f"def f{k}(x):\n    return x + {k}\n" for k in range(50)]
    write_jsonl(tmp_path / "in" / "d.jsonl", [{"id": str(k), "text": t} for k, t in enumerate(texts)])
    run_pipeline([SafeJsonlReader(str(tmp_path / "in")), tokenizer_step(str(tmp_path / "tok"), str(small_tokenizer))],
                 tmp_path, "tok")
    tokens, name, files = folder_tokens(tmp_path / "tok")
    enc = Tokenizer.from_file(str(small_tokenizer)).encode_batch(texts)
    assert files == 1
    assert tokens == sum(len(e.ids) for e in enc) + len(texts)  # + one EOS per document
    meta = next((tmp_path / "tok").glob("*.ds.metadata")).read_text().splitlines()
    assert meta[0] == f"{small_tokenizer.parent}|2"  # the folder: the file path is refused by AutoTokenizer ...
    from transformers import AutoTokenizer

    # ... which is what nanotron's NanosetDatasetsArgs.__post_init__ calls on the first metadata line's name
    assert len(AutoTokenizer.from_pretrained(meta[0].split("|")[0]).get_vocab()) == 600
    with pytest.raises(Exception):
        AutoTokenizer.from_pretrained(str(small_tokenizer))
    ds = DatatroveFolderDataset(str(tmp_path / "tok"), seq_len=16, token_size=2, return_positions=False)
    assert len(ds) == tokens // 17
    assert (next((tmp_path / "tok").glob("*.ds")).stat().st_size // 2) == tokens


def test_recipe_tokenizer_writes_exactly_what_datatrove_writes(tmp_path, small_tokenizer):
    """The pipelined tokenizer (reading overlapped with encoding, no offsets, one buffer per batch) must
    produce the same bytes as datatrove's DocumentTokenizer: tokens, document index, metadata and stats."""
    from datatrove.pipeline.tokens import DocumentTokenizer

    from smolrecipe.data.readers import SafeJsonlReader
    from smolrecipe.data.tokenize import EOS, RecipeTokenizer, tokenizer_step

    rng = random.Random(0)
    rows = [{"id": str(k), "text": "".join(rng.choice(["def ", "x = ", "é", "\n", "return ", "1", "🙂"])
                                          for _ in range(rng.randint(1, 60)))} for k in range(237)]
    write_jsonl(tmp_path / "in" / "a.jsonl", rows[:150])
    write_jsonl(tmp_path / "in" / "b.jsonl", rows[150:])
    stats = {}
    for name, step in [("ours", tokenizer_step(str(tmp_path / "ours"), str(small_tokenizer), batch_size=16)),
                       ("datatrove", DocumentTokenizer(str(tmp_path / "datatrove"), str(small_tokenizer), eos_token=EOS,
                                                       seed=42, batch_size=16))]:
        stats[name] = run_pipeline([SafeJsonlReader(str(tmp_path / "in")), step], tmp_path, name)
    assert isinstance(tokenizer_step("x", str(small_tokenizer)), RecipeTokenizer)
    ours = sorted(p.name for p in (tmp_path / "ours").iterdir())
    assert ours == sorted(p.name for p in (tmp_path / "datatrove").iterdir()) and len(ours) == 3
    for fname in ours:
        mine, theirs = (tmp_path / "ours" / fname).read_bytes(), (tmp_path / "datatrove" / fname).read_bytes()
        if fname.endswith(".metadata"):  # ours names the tokenizer folder (nanotron-loadable), datatrove the file
            theirs = theirs.replace(str(small_tokenizer).encode(), str(small_tokenizer.parent).encode(), 1)
        assert mine == theirs, fname
    assert executor.stat(stats["ours"], "Writer", "tokens") == executor.stat(stats["datatrove"], "Writer", "tokens") > 237


def test_tokenizer_missing_is_reported_before_work(tmp_path):
    from smolrecipe.data.tokenize import check_tokenizer
    from smolrecipe.errors import RecipeError

    with pytest.raises(RecipeError) as e:
        check_tokenizer(tmp_path / "nowhere")
    assert "make tokenizer RECIPE=tiny" in e.value.render() and "tokenizer.json" in e.value.render()


def test_cli_data_without_tokenizer_exits_2_with_the_fix(scratch_repo, capsys):
    from smolrecipe.cli import main

    assert main(["data", "--recipe", "tiny"]) == 2
    err = capsys.readouterr().err
    assert "tokenizer not found" in err and "make tokenizer RECIPE=tiny" in err
    assert not (scratch_repo / "outputs" / "data").exists()  # nothing started


def test_workers_1_runs_every_task_in_this_process(tmp_path):
    """The tiny build's light pipelines (tiny.IN_PROCESS) skip datatrove's worker processes: both tasks here."""
    import os

    from datatrove.pipeline.filters import LambdaFilter
    from datatrove.pipeline.writers import JsonlWriter

    from smolrecipe.data.readers import SafeJsonlReader

    for shard in range(2):
        write_jsonl(tmp_path / "in" / f"{shard}.jsonl", [{"id": f"{shard}-{k}", "text": f"doc {k}"} for k in range(3)])
    stamp = LambdaFilter(lambda doc: doc.metadata.update(pid=os.getpid()) or True)
    args = argparse.Namespace(tasks=2, workers=2, logging_dir=str(tmp_path / "logs"), slurm=False)  # --workers 2
    with time_limit(120):
        executor.run([SafeJsonlReader(str(tmp_path / "in")), stamp, JsonlWriter(str(tmp_path / "out"), compression="gzip")],
                     args, "in-process", workers=1)
    rows = read_jsonl_gz(tmp_path / "out")
    assert len(rows) == 6 and len(list((tmp_path / "out").glob("*.jsonl.gz"))) == 2  # both tasks, one shard each
    assert {r["metadata"]["pid"] for r in rows} == {os.getpid()}


def test_minhash_removes_near_duplicates(tmp_path):
    from smolrecipe.data.dedup import run_minhash

    rng = random.Random(1)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma".split()
    uniques = [" ".join(rng.choice(words) for _ in range(120)) for _ in range(30)]
    docs = [{"id": f"u{k}", "text": t} for k, t in enumerate(uniques)]
    docs += [{"id": f"d{k}", "text": uniques[k] + " tau"} for k in range(10)]  # near copies of the first ten
    write_jsonl(tmp_path / "in" / "d.jsonl", docs)
    args = argparse.Namespace(tasks=1, workers=1, logging_dir=str(tmp_path / "logs"), slurm=False)
    with time_limit(180):
        stats = run_minhash(str(tmp_path / "in"), str(tmp_path / "out"), str(tmp_path / "mh"), args, name="mh")
    assert len(read_jsonl_gz(tmp_path / "out")) == 30
    assert executor.stat(stats, "MinHash", "dropped") == 10


def _fake_tokenized(folder: Path, tokens: int):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "00000_x.ds.metadata").write_text(f"outputs/tokenizers/tiny/tokenizer.json|2\n{tokens}\n{tokens}")


def test_mixture_epochs_and_warning(scratch_repo):
    from smolrecipe.config import load_recipe
    from smolrecipe.data import mixture

    data = scratch_repo / "outputs" / "data" / "tiny" / "tokenized"
    for name in ("web", "code", "code-edu", "math", "math-edu", "textbooks", "long"):
        _fake_tokenized(data / name, 1_000_000)
    _fake_tokenized(data / "web-edu", 50_000)  # far too small: the run draws ~375k tokens from it
    mixture.reset()
    col = mixture.availability_column("outputs/data/tiny/tokenized/web", 500_000)
    assert "1.00M available" in col and "0.50 epochs here" in col and "!!" not in col
    assert "not built yet" in mixture.availability_column("outputs/data/tiny/tokenized/nope", 1)
    rows = {r["folder"].rsplit("/", 1)[-1]: r for r in mixture.mixture_report(load_recipe("tiny", check_tokenizer=False))}
    assert rows["web-edu"]["warning"] and rows["web-edu"]["epochs"] > 7
    # web by hand, tokens per stage x its share: 446,464 x .36 + 149,504 x .30 + 141,312 x .44 + 81,920 x .35
    # + 40,960 x .21 (the long context) = 305,029 of 1,000,000
    assert not rows["web"]["warning"] and rows["web"]["epochs"] == pytest.approx(0.305, abs=0.002)
    assert "!! over 4 epochs" in mixture.format_report(list(rows.values()))


def test_tiny_sources_match_the_configs():
    from smolrecipe.config import load_recipe
    from smolrecipe.data.tiny import SOURCES

    recipe = load_recipe("tiny", check_tokenizer=False)
    folders = {f for cfg in [*recipe.stages, recipe.long_context] for st in cfg.data_stages for f in st.data.dataset.folders}
    assert {f.rsplit("/", 1)[-1] for f in folders} == set(SOURCES)


def test_hub_readers_and_slurm_executor_construct():
    from datatrove.pipeline.readers import ParquetReader

    from smolrecipe.data.readers import hub_reader
    from smolrecipe.errors import RecipeError

    r = hub_reader("fineweb-edu", limit=10)
    assert isinstance(r, ParquetReader) and r.limit == 10
    assert r.data_folder.path == "datasets/HuggingFaceFW/fineweb-edu/data"
    assert type(r.data_folder.fs).__name__ == "HfFileSystem"
    assert hub_reader("stack-edu", language="Java").data_folder.path == "datasets/HuggingFaceTB/stack-edu/Java"
    with pytest.raises(RecipeError, match="unknown source"):
        hub_reader("not-a-dataset")
    args = argparse.Namespace(tasks=64, workers=-1, logging_dir="/tmp/smolrecipe-slurm-logs", slurm=True, partition="cpu",
                              time="1:00:00", cpus_per_task=1, mem_per_cpu_gb=2, venv=None)
    ex = executor.make_executor([hub_reader("dclm")], args, "dclm-filter")
    assert type(ex).__name__ == "SlurmPipelineExecutor" and ex.tasks == 64 and ex.partition == "cpu"


def test_smollm2_pipelines_cover_every_folder_the_configs_name():
    from smolrecipe.config import load_recipe
    from smolrecipe.data import smollm2

    folders = set()
    for name in ("smollm2-1.7B", "smollm2-360M", "smollm2-135M"):
        recipe = load_recipe(name, check_tokenizer=False)
        for cfg in [*recipe.stages, recipe.long_context]:
            for st in cfg.data_stages:
                folders.update(st.data.dataset.folders)
    assert folders == {smollm2.output_folder(n) for n in smollm2.names()}
    jobs = smollm2.pipelines("stack-edu", decont_index="/tmp/idx", languages=["Java", "Python"])
    assert [j for j, _ in jobs] == ["stack-edu-java", "stack-edu-python"]
    steps = jobs[0][1]
    assert [type(s).__name__ for s in steps] == ["ParquetReader", "FetchBlobContents", "NGramsDecontFilter",
                                                 "RecipeTokenizer"]
    assert steps[-1].tokenizer_name_or_path == smollm2.COSMO2 and steps[-1].save_filename == "java"
    long_steps = smollm2.pipelines("books")[0][1]
    assert type(long_steps[1]).__name__ == "MinCharsFilter" and long_steps[1].min_chars == smollm2.LONG_MIN_CHARS


def _script(name: str, *args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "data" / name), *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def test_a_data_script_rerun_on_other_input_starts_fresh_and_the_same_run_resumes(tmp_path):
    """The issue's finding: the second run on new input used to print "all tasks have already been completed",
    write nothing and exit 0. Default options only (no --logging-dir): the runs are keyed by what they read."""
    import os

    env = {**os.environ, "SMOLRECIPE_OUTPUTS": str(tmp_path / "outputs"), "PYTHONPATH": str(REPO / "src")}
    bench = write_jsonl(tmp_path / "bench.jsonl", [json.loads(line) for line in open(GSM8K_TEST)][:3])
    leaked = json.loads(GSM8K_TEST.read_text().splitlines()[1])
    write_jsonl(tmp_path / "a" / "x.jsonl", [{"id": "a1", "text": "plain text about rivers and lakes"},
                                             {"id": "a2", "text": f"{leaked['question']} {leaked['answer']}"}])
    write_jsonl(tmp_path / "b" / "y.jsonl", [{"id": f"b{k}", "text": f"another document number {k}"} for k in range(5)])
    common = ["--benchmark", str(bench), "--index", str(tmp_path / "idx"), "--tasks", "1"]
    first = _script("decontaminate.py", *common, "--input", "./a", "--out", "out-a", env=env, cwd=tmp_path)
    second = _script("decontaminate.py", *common, "--input", "./b", "--out", "out-b", env=env, cwd=tmp_path)
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-2000:]
    assert "starting fresh" in first.stdout and "starting fresh" in second.stdout
    assert "bench 1" in first.stdout and "bench 0" in second.stdout  # each run reports its own removals
    assert sorted(d["id"] for d in read_jsonl_gz(tmp_path / "out-a")) == ["a1"]
    assert sorted(d["id"] for d in read_jsonl_gz(tmp_path / "out-b")) == [f"b{k}" for k in range(5)]
    again = _script("decontaminate.py", *common, "--input", "./b", "--out", "out-b", env=env, cwd=tmp_path)
    assert again.returncode == 0 and "already complete" in again.stdout and "bench 0" in again.stdout
    # the same output folder with another input: refused before any work, with the fix
    clash = _script("decontaminate.py", *common, "--input", "./a", "--out", "out-b", env=env, cwd=tmp_path)
    assert clash.returncode == 2 and "out-b" in clash.stderr and "--overwrite" in clash.stderr
    assert "Traceback" not in clash.stderr
    assert sorted(d["id"] for d in read_jsonl_gz(tmp_path / "out-b")) == [f"b{k}" for k in range(5)]  # untouched


def test_a_changed_index_restarts_the_steps_that_read_it(tmp_path):
    """The tiny build keys each step on the content it reads: new benchmarks mean new decontamination."""
    from datatrove.pipeline.writers import JsonlWriter

    from smolrecipe.data.decont import NGramsDecontFilter, build_index, default_config
    from smolrecipe.data.readers import SafeJsonlReader

    problem = json.loads(GSM8K_TEST.read_text().splitlines()[0])
    write_jsonl(tmp_path / "in" / "d.jsonl", [{"id": "p", "text": f"{problem['question']}\n{problem['answer']}"},
                                              {"id": "q", "text": "an unrelated note about gardening"}])
    args = argparse.Namespace(tasks=1, workers=1, logging_dir=str(tmp_path / "logs"), slurm=False)
    said: list[str] = []

    def build():
        steps = [SafeJsonlReader(str(tmp_path / "in")), NGramsDecontFilter(str(tmp_path / "idx"), config=default_config()),
                 JsonlWriter(str(tmp_path / "out"), compression="gzip")]
        with time_limit(120):
            executor.run(steps, args, "clean", reads=[tmp_path / "in", tmp_path / "idx"], writes=[tmp_path / "out"],
                         overwrite=True, log=said.append)
        return sorted(d["id"] for d in read_jsonl_gz(tmp_path / "out"))

    other = write_jsonl(tmp_path / "other.jsonl", [{"question": "How many legs has a spider?", "answer": "It has 8."}])
    build_index(tmp_path / "idx", benchmark_files=[other])
    assert build() == ["p", "q"] and "starting fresh" in said[-1]
    build_index(tmp_path / "idx", benchmark_files=[other])  # rebuilt, same content: nothing to redo
    assert build() == ["p", "q"] and "already complete" in said[-1]
    gsm = write_jsonl(tmp_path / "gsm8k.jsonl", [problem])
    build_index(tmp_path / "idx", benchmark_files=[gsm])
    assert build() == ["q"]
    assert any("replacing the previous contents" in m for m in said) and "starting fresh" in said[-1]


LIGHTEVAL_TASKS = '''
from lighteval.metrics.metrics import Metrics
from lighteval.tasks.lighteval_task import LightevalTaskConfig
from lighteval.tasks.requests import Doc


def prompt(line, task_name=None):
    return Doc(task_name=task_name, query=line["question"], choices=[line["answer"]], gold_index=0)


TASKS_TABLE = [LightevalTaskConfig(name="localmath", prompt_function=prompt, hf_repo="{repo}", hf_subset="default",
                                   metrics=[Metrics.exact_match], hf_avail_splits=["test"], evaluation_splits=["test"])]
'''


def test_indexer_reads_lighteval_013_tasks(tmp_path):
    """The adaptation STACK.md asks for: datatrove's indexer calls Registry(cache_dir=...), gone in lighteval 0.13."""
    from datatrove.data import Document

    from smolrecipe.data import mathgen
    from smolrecipe.data.decont import BenchmarkIndexer, NGramsDecontFilter, default_config

    problems = mathgen.held_out(5)
    write_jsonl(tmp_path / "bench" / "test.jsonl", [{"question": p["question"], "answer": p["answer"]} for p in problems])
    (tmp_path / "tasks.py").write_text(LIGHTEVAL_TASKS.format(repo=tmp_path / "bench"))
    idx = BenchmarkIndexer(str(tmp_path / "idx"), lighteval_tasks=["localmath|0"], custom_tasks=str(tmp_path / "tasks.py"))
    with time_limit(120):
        idx.run()
    assert (tmp_path / "idx" / "localmath_0.index.hashes").stat().st_size > 0
    f = NGramsDecontFilter(str(tmp_path / "idx"), config=default_config())
    leaked = Document(text="Practice sheet.\n" + problems[2]["question"] + "\n" + problems[2]["answer"], id="x")
    assert f.filter(leaked) == (False, "contaminated") and leaked.metadata["contaminated_task"] == "localmath_0"
    assert f.filter(Document(text=mathgen.problems(1, seed=99)[0]["text"], id="y")) is True


def test_cli_data_for_a_smollm2_recipe_lists_the_cluster_pipelines(capsys):
    from smolrecipe.cli import main

    assert main(["data", "--recipe", "smollm2-1.7B"]) == 0
    out = capsys.readouterr().out
    for name in ("fineweb-edu", "dclm", "stack-edu", "finemath-4plus", "cosmopedia-v2", "books"):
        assert f"--smollm2 {name} " in out
    assert "folder not built" in out


def test_the_two_parallel_chains_of_the_tiny_build_cover_every_source_once_and_never_read_each_others_output(tmp_path):
    """The raw corpus and the classifiers are built by two processes at once: a classifier trained in one chain on a
    raw source written by the other would race it (a half-written folder, or none). `all-modules` is the standard
    library itself, which no chain writes."""
    from smolrecipe.data import local_corpus, tiny

    sources = [s for chain_sources, _ in tiny.CHAINS for s in chain_sources]
    classifiers = [c for _, chain_classifiers in tiny.CHAINS for c in chain_classifiers]
    assert sorted(sources) == sorted(local_corpus.RAW_SOURCES)
    assert sorted(classifiers) == sorted(tiny.CLASSIFIERS)
    for chain_sources, chain_classifiers in tiny.CHAINS:
        for name in chain_classifiers:
            raw = tiny.CLASSIFIERS[name][0]
            assert raw == "all-modules" or raw in chain_sources, f"classifier {name} reads raw/{raw} from the other chain"
    # a chain builds only its own sources (and the held-out math benchmark with math)
    assert local_corpus.build(tmp_path, sources=("math",), math_problems=20, benchmark_problems=5) == {"math": 20}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["benchmarks", "math"]
    with pytest.raises(ValueError, match="unknown raw sources"):
        local_corpus.build(tmp_path, sources=("poetry",))
