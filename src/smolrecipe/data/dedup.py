"""MinHash deduplication with datatrove's four stages (signatures, buckets, clusters, filter).

FineMath used a single band of MinHash (SmolLM2 paper, REFERENCE.md section 3); FineWeb used 14 bands of
8 hashes on 5-grams. Both are a `MinhashConfig`; `minhash_config("fineweb")` / `("single-band")`.
The buckets stage runs one task per band; the others run with the pipeline's task count. The input is read
twice (signatures, then the final filter), so it must be a stored folder, not a stream.
"""
from __future__ import annotations

from pathlib import Path

from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature
from datatrove.pipeline.dedup.minhash import MinhashConfig
from datatrove.pipeline.writers import JsonlWriter

from smolrecipe.data import executor
from smolrecipe.data.readers import SafeJsonlReader


def minhash_config(kind: str = "fineweb") -> MinhashConfig:
    if kind == "fineweb":
        return MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8)
    if kind == "single-band":  # FineMath: one band, i.e. near-exact duplicates only
        return MinhashConfig(n_grams=5, num_buckets=1, hashes_per_bucket=8)
    raise ValueError(f"unknown MinHash config {kind!r} (fineweb | single-band)")


def run_minhash(input_dir: str, output_dir: str, work_dir: str, args, *, name: str, config: MinhashConfig | None = None,
                text_key: str = "text", report_bad_input: bool = True, overwrite: bool | None = None,
                light_stages_in_process: bool = False, log=print) -> dict:
    """Dedup input_dir (jsonl) into output_dir; returns merged stats of the final stage.

    The four stages are one keyed run (executor.keyed_name): their logging dirs sit under `<name>-<key>/`.
    light_stages_in_process: run stages 2-4 locally in this process (small inputs: their work takes less time
    than starting worker processes); the signatures, the costly stage, keep --workers."""
    cfg = config or minhash_config()
    executor.check_executor_args(args)
    run_name, key = executor.keyed_name(name, args, reads=[input_dir], writes=[output_dir, work_dir],
                                        config={"minhash": repr(cfg), "text_key": text_key})
    sigs, buckets, clusters = (str(Path(work_dir) / x) for x in ("signatures", "buckets", "remove_ids"))
    s1 = executor.make_executor([SafeJsonlReader(input_dir, text_key=text_key), MinhashDedupSignature(sigs, config=cfg)],
                                args, f"{run_name}/1-signatures")
    light = 1 if light_stages_in_process else None
    s2 = executor.make_executor([MinhashDedupBuckets(sigs, buckets, config=cfg)], args, f"{run_name}/2-buckets",
                                tasks=cfg.num_buckets, depends=s1, workers=light)
    s3 = executor.make_executor([MinhashDedupCluster(buckets, clusters, config=cfg)], args, f"{run_name}/3-clusters",
                                tasks=1, depends=s2)
    s4 = executor.make_executor([SafeJsonlReader(input_dir, text_key=text_key), MinhashDedupFilter(clusters),
                                 JsonlWriter(output_dir, compression="gzip")], args, f"{run_name}/4-filter", depends=s3,
                                workers=light)
    replace = getattr(args, "overwrite", False) if overwrite is None else overwrite
    executor.start_or_resume(name, key, s1.logging_dir.path.rsplit("/", 1)[0], args.tasks, [output_dir, work_dir],
                             overwrite=replace, last_stage_dir=s4.logging_dir.path, log=log)
    s4.run()  # runs its dependencies first (local) or submits the chain (Slurm)
    if getattr(args, "slurm", False):
        return {}
    return executor.finished(Path(s4.logging_dir.path), report_bad_input)
