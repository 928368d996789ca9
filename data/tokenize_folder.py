"""Tokenize a folder (or a Hub source, or a SmolLM2 data folder by name) with datatrove's DocumentTokenizer.

Usage:
    python data/tokenize_folder.py --input outputs/data/web-edu --out outputs/data/tiny/tokenized/web-edu \
        --tokenizer outputs/tokenizers/tiny/tokenizer.json
    # the SmolLM2 recipes' folders (pretraining/configs/smollm2-*), cosmo2 tokenizer, on Slurm:
    python data/tokenize_folder.py --smollm2 fineweb-edu --decont-index s3://bucket/decont-index \
        --slurm --partition cpu --tasks 1000 --logging-dir logs/
    # Stack-Edu: blob ids from the Hub, each file fetched from Software Heritage's bucket before tokenizing
    python data/tokenize_folder.py --smollm2 stack-edu --language Python --contents s3://softwareheritage/content \
        --decont-index s3://bucket/decont-index --slurm --partition cpu --tasks 100 --logging-dir logs/
    python data/tokenize_folder.py --smollm2 list

One folder per source, an EOS (<|endoftext|>, id 0) after every document; each *.ds.metadata names the
tokenizer and the token count (nanotron's Nanoset and DatatroveFolderDataset read the folder).
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from smolrecipe.data import executor, smollm2, stack_edu  # noqa: E402
from smolrecipe.data.readers import reader_for  # noqa: E402
from smolrecipe.data.tokenize import check_tokenizer, folder_tokens, tokenizer_step, write_tokenizer_record  # noqa: E402
from smolrecipe.errors import RecipeError  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", help="local jsonl folder or Hub source name")
    p.add_argument("--out", help="tokenized folder")
    p.add_argument("--tokenizer", default=None, help="tokenizer.json file, or a Hub tokenizer name on the cluster")
    p.add_argument("--smollm2", default=None, help="a SmolLM2 data folder name, or 'list'")
    p.add_argument("--language", action="append", default=None, help="code languages (starcoderdata / stack-edu)")
    p.add_argument("--decont-index", default=None)
    p.add_argument("--root", default="outputs/data/smollm2")
    p.add_argument("--limit", type=int, default=-1)
    p.add_argument("--hub-mirror", default=None, help="read Hub sources from a local folder laid out as <repo>/<path>")
    stack_edu.add_contents_args(p)
    executor.add_executor_args(p)
    a = p.parse_args()
    if a.smollm2 == "list":
        for n in smollm2.names():
            print(f"{n:<20} -> {smollm2.output_folder(n, a.root)}")
        return 0
    if a.smollm2:
        jobs = smollm2.pipelines(a.smollm2, tokenizer=a.tokenizer or smollm2.COSMO2, root=a.root,
                                 decont_index=a.decont_index, limit=a.limit, languages=a.language,
                                 hub_mirror=a.hub_mirror, contents=a)
        out = smollm2.output_folder(a.smollm2, a.root)
        for name, steps in jobs:
            # code languages share one folder (each writes its own file prefix): only a single job owns it outright
            stats = executor.run(steps, a, f"tokenize-{name}", reads=[a.decont_index],
                                 writes=[out] if len(jobs) == 1 else [],
                                 config={**executor.script_config(a), "job": name, "out": out})
            for line in stack_edu.fetch_summary(stats):
                print(f"{name}: {line}")
    else:
        if not (a.input and a.out and a.tokenizer):
            raise RecipeError("tokenizing a folder needs --input, --out and --tokenizer", field="--input/--out/--tokenizer",
                              fix="pass all three, or --smollm2 <name>")
        local = a.tokenizer.endswith(".json") or Path(a.tokenizer).exists()  # else a Hub name (cluster)
        tok = check_tokenizer(a.tokenizer) if local else a.tokenizer
        executor.run([reader_for(a.input, limit=a.limit), tokenizer_step(a.out, tok)], a, "tokenize",
                     reads=[a.input, tok], writes=[a.out], config=executor.script_config(a))
        if local and not a.slurm:
            write_tokenizer_record(a.out, tok)
        out = a.out
    if "://" not in out:
        tokens, name, files = folder_tokens(out)
        print(f"{out}: {tokens:,} tokens in {files} file(s), tokenizer {name}")
    return 0


if __name__ == "__main__":
    executor.script_entry(main)
