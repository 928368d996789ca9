"""The local engine reads tokens in nanotron's order (pinned smollm3 commit bc1f5a61), worked out independently:
small cases by hand (each expected list is derived in the comments), the long case by the blending algorithm
of helpers.cpp run on weights normalised once, as BlendableDataset does."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from smolrecipe.config import load_recipe
from smolrecipe.engine.data import (Blend, DataExhausted, LaunchData, StageData, StageReader, TokenFolder,
                                    blend_count_bounds, normalised_weights, stage_data)


def write_folder(folder: Path, files: list[np.ndarray], dtype="<u2", tokenizer="test") -> Path:
    """A datatrove DocumentTokenizer-format folder: <k>.ds (ids), .ds.index (document ends), .ds.metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, toks in enumerate(files):
        name = folder / f"{i:03d}_00000.ds"
        np.asarray(toks).astype(dtype).tofile(name)
        np.asarray([len(toks)], dtype="<u8").tofile(f"{name}.index")
        Path(f"{name}.metadata").write_text(f"{tokenizer}|{np.dtype(dtype).itemsize}\n{len(toks)}")
    return folder


def reference_blend(weights_once: list[float], n: int) -> list[int]:
    """helpers.cpp build_blending_indices, written from its description: argmax of w*max(i,1) - count, first on ties."""
    w = np.asarray(weights_once, dtype=np.float64)
    counts = np.zeros(len(w), dtype=np.float64)
    out = []
    for i in range(n):
        d = int(np.argmax(w * max(float(i), 1.0) - counts))
        out.append(d)
        counts[d] += 1
    return out


# ---------------------------------------------------------------------------------------------- by hand

def test_two_folders_three_to_two_by_hand():
    # raw weights [3, 2] -> [0.6, 0.4]. i=0,1 use x=1: i0 errors [0.6, 0.4] -> a; i1 [-0.4, 0.4] -> b;
    # i2 x=2: [0.2, -0.2] -> a; i3 x=3: [-0.2, 0.2] -> b; i4 x=4: [0.4, -0.4] -> a; i5 x=5: 0.6*5-3 vs 0.4*5-2 is a
    # tie in exact arithmetic that float rounding decides, so the hand case stops at i4.
    assert [d for d, _ in Blend(normalised_weights([3, 2])).take(5)] == [0, 1, 0, 1, 0]


def test_windows_drop_each_files_remainder(tmp_path):
    # seq 24 -> windows of 25 tokens. File 0: 210 tokens = 8 windows + 10 dropped; file 1: 80 = 3 windows + 5 dropped.
    a = write_folder(tmp_path / "a", [np.arange(0, 210), np.arange(1000, 1080)])
    folder = TokenFolder(a, 24)
    assert len(folder) == 11
    assert folder.window(7).tolist() == list(range(175, 200))
    assert folder.window(8).tolist() == list(range(1000, 1025))  # not 200..209 + 1000..1014: the remainder is dropped
    assert folder.window(10).tolist() == list(range(1050, 1075))


def test_reader_follows_the_blend_and_wraps_only_with_the_old_reader(tmp_path):
    # one folder of 3 windows (seq 4, 5 tokens each), weight 1: samples 0, 1, 2 are windows 0, 1, 2; sample 3 is
    # past the end: nanotron's default reader raises IndexError, use_old_brrr_dataloader wraps to window 0.
    write_folder(tmp_path / "a", [np.arange(100, 116)])  # 16 tokens: 3 windows, 1 dropped
    for wraps in (True, False):
        data = StageData("s", 1, ["a"], [1.0], 4, wraps)
        reader = StageReader(data, [0], [TokenFolder(tmp_path / "a", 4)])
        assert reader.next_samples(3)[:, 0].tolist() == [100, 105, 110]
        if wraps:
            assert reader.next_samples(1)[0].tolist() == [100, 101, 102, 103, 104]
        else:
            with pytest.raises(DataExhausted, match="use_old_brrr_dataloader: true"):
                reader.next_samples(1)


def _config(tmp_path, stages, *, seq=24, mbs=2, accum=2, steps=None):
    """A tiny-recipe config with the given data stages [(name, start, {folder: weight}, wraps)] and batch layout."""
    from smolrecipe.config import load_nanotron_yaml

    cfg = load_nanotron_yaml(Path(__file__).resolve().parents[1] / "pretraining" / "configs" / "tiny" / "stage2.yaml")
    template = cfg.data_stages[-1]
    import copy

    cfg.data_stages = []
    for name, start, mix, wraps in stages:
        st = copy.deepcopy(template)
        st.name, st.start_training_step, st.sequence_length = name, start, seq
        st.data.dataset.dataset_folder = [str(tmp_path / f) for f in mix]
        st.data.dataset.dataset_weights = list(mix.values())
        st.data.dataset.use_old_brrr_dataloader = wraps
        cfg.data_stages.append(st)
    cfg.tokens.sequence_length, cfg.tokens.micro_batch_size, cfg.tokens.batch_accumulation_per_replica = seq, mbs, accum
    cfg.tokens.train_steps = steps or 100
    cfg.tokenizer.tokenizer_name_or_path = "test"
    return cfg


def test_stage_switch_carries_the_offsets_nanotron_records(tmp_path):
    """Stage 1 (steps 1-3, gbs 4) on a:b = 1:1, stage 2 from step 4 on a:b = 1:3. Stage 2's folders start after what
    nanotron RECORDED for stage 1, and stage 3's after what it recorded for stage 2, which nanotron counts on
    stage 2's blend from position (4 - 1) * 4 = 12 (the global step), not from stage 2's first sample."""
    for name, base in (("a", 0), ("b", 10_000)):
        write_folder(tmp_path / name, [base + np.arange(25 * 40)])  # 40 windows of 25 tokens: window k starts at base + 25k
    one = _config(tmp_path, [("s1", 1, {"a": 1, "b": 1}, False)])
    d1 = LaunchData(one, None, 0)
    first = [d1.next_samples(4, step=it)[:, 0].tolist() for it in (1, 2, 3)]
    for it in (1, 2, 3):
        d1.record_iteration(it)
    # [0.5, 0.5]: i0 tie -> a; i1 -> b; i2 x=2 errors [0, 0] tie -> a; ... strictly alternating (exact binary weights)
    assert first == [[0, 10_000, 25, 10_025], [50, 10_050, 75, 10_075], [100, 10_100, 125, 10_125]]
    meta1 = d1.meta()
    assert meta1[-1]["consumed_tokens_per_dataset_folder"] == {str(tmp_path / "a"): 6 * 24, str(tmp_path / "b"): 6 * 24}

    two = _config(tmp_path, [("s1", 1, {"a": 1, "b": 1}, False), ("s2", 4, {"a": 1, "b": 3}, False)])
    d2 = LaunchData(two, meta1, 3)
    assert d2.offsets == [6, 6]  # 6 windows x 24 tokens recorded per folder // 24
    # [0.25, 0.75] by hand: i0 x=1 [.25, .75] -> b; i1 x=1 [.25, -.25] -> a; i2 x=2 [-.5, .5] -> b; i3 x=3 [-.25, .25] -> b;
    # i4 x=4 [0, 0] tie -> a; then every 4th position from i4 goes to a: a at 1, 4, 8, 12, 16, ...
    got = [d2.next_samples(4, step=it)[:, 0].tolist() for it in (4, 5)]
    a, b = lambda k: 25 * (6 + k), lambda k: 10_000 + 25 * (6 + k)  # noqa: E731
    assert got == [[b(0), a(0), b(1), b(2)], [a(1), b(3), b(4), b(5)]]
    for it in (4, 5):
        d2.record_iteration(it)
    meta2 = d2.meta()
    # trained positions 0-7: a at 1, 4 (2 samples). Recorded positions 12-19: a at 12, 16 -> also 2, b 6.
    assert meta2[-1]["per_folder"][str(tmp_path / "a")]["samples"] == 2
    assert meta2[-1]["consumed_tokens_per_dataset_folder"] == {str(tmp_path / "a"): 2 * 24, str(tmp_path / "b"): 6 * 24}

    # A stage switch after an odd number of samples shows the difference: stage 2 at gbs 3 from step 4 records
    # positions 9-14 for steps 4-5: a at 12 only (1 sample), while it trained a at positions 1 and 4 (2 samples).
    odd = _config(tmp_path, [("s1", 1, {"a": 1, "b": 1}, False), ("s2", 4, {"a": 1, "b": 3}, False)], mbs=3, accum=1)
    d3 = LaunchData(odd, meta1, 3)
    for it in (4, 5):
        d3.next_samples(3, step=it)
        d3.record_iteration(it)
    m3 = d3.meta()[-1]
    assert m3["per_folder"][str(tmp_path / "a")]["samples"] == 2
    assert m3["consumed_tokens_per_dataset_folder"] == {str(tmp_path / "a"): 1 * 24, str(tmp_path / "b"): 5 * 24}
    three = _config(tmp_path, [("s1", 1, {"a": 1, "b": 1}, False), ("s2", 4, {"a": 1, "b": 3}, False),
                               ("s3", 6, {"a": 1}, False)], mbs=3, accum=1)
    assert LaunchData(three, d3.meta(), 5).offsets == [6 + 1]  # recorded, not trained: nanotron re-reads window 7


def test_resume_mid_stage_continues_exactly(tmp_path):
    for name, base in (("a", 0), ("b", 10_000)):
        write_folder(tmp_path / name, [base + np.arange(25 * 40)])
    two = _config(tmp_path, [("s1", 1, {"a": 1, "b": 3}, False)])
    straight = LaunchData(two, None, 0)
    rows = []
    for it in (1, 2, 3, 4):
        rows.append(straight.next_samples(4, step=it))
        straight.record_iteration(it)
    cut = LaunchData(two, None, 0)
    for it in (1, 2):
        cut.next_samples(4, step=it)
        cut.record_iteration(it)
    resumed = LaunchData(two, cut.meta(), 2)  # what a checkpoint at step 2 restores
    for it, expected in ((3, rows[2]), (4, rows[3])):
        assert resumed.next_samples(4, step=it).tolist() == expected.tolist()
        resumed.record_iteration(it)
    assert resumed.meta()[-1]["consumed_tokens_per_dataset_folder"] == straight.meta()[-1]["consumed_tokens_per_dataset_folder"]


def test_a_longer_sequence_offsets_folders_by_tokens_over_the_new_length(tmp_path):
    # stage 1 at seq 24 records 6 windows of a (6 x 24 = 144 tokens); the long-context stage at seq 48 starts a
    # at 144 // 48 = 3 windows of 49 tokens: its first window is tokens 147..195 of the file.
    write_folder(tmp_path / "a", [np.arange(2000)])
    write_folder(tmp_path / "b", [10_000 + np.arange(2000)])
    one = _config(tmp_path, [("s1", 1, {"a": 1, "b": 1}, False)])
    d1 = LaunchData(one, None, 0)
    for it in (1, 2, 3):
        d1.next_samples(4, step=it)
        d1.record_iteration(it)
    lc = _config(tmp_path, [("s1", 1, {"a": 1, "b": 1}, False), ("lc", 4, {"a": 1}, False)], seq=48)
    d = LaunchData(lc, d1.meta(), 3)
    assert d.offsets == [3]
    assert d.next_samples(1, step=4)[0].tolist() == list(range(147, 196))


def test_a_launch_trains_the_last_stage_and_starts_where_nanotron_would(tmp_path):
    write_folder(tmp_path / "a", [np.arange(2000)])
    two = _config(tmp_path, [("s1", 1, {"a": 1}, False), ("s2", 10, {"a": 1}, False)])
    from smolrecipe.errors import ConfigError

    with pytest.raises(ConfigError, match="start_training_step: 1 for a new stage"):
        LaunchData(two, None, 0)  # a fresh run of a config whose last stage starts at 10: nanotron refuses


# ---------------------------------------------------------------------------------------------- the 1.7B mixture

def test_the_17B_stage4_weights_are_normalised_once(tmp_path):
    """The weights sum to 0.9999999999999999 in float64; normalising twice moves them by one ulp and the blend
    diverges at stage-local sample 35 (14,340 of the first 200,000 samples change folder: the issue's numbers)."""
    data = stage_data(load_recipe("smollm2-1.7B", check_tokenizer=False).stages[3], -1)
    assert float(np.sum(np.array(data.raw_weights, dtype=np.float64))) == 0.9999999999999999
    once = np.array(data.raw_weights, dtype=np.float64)
    once /= once.sum()
    expected = reference_blend(list(once), 200_000)
    # the engine's reader, end to end: folder d's window k holds the token d * 1000 + (k % 1000) first
    folders = []
    for d in range(len(data.folders)):
        write_folder(tmp_path / f"f{d}", [d * 1000 + np.repeat(np.arange(1000), 5)])  # 1000 windows of 5 tokens
        folders.append(TokenFolder(tmp_path / f"f{d}", 4))
    reader = StageReader(StageData("s4", 1, data.folders, data.raw_weights, 4, True), [0] * len(folders), folders)
    firsts = np.concatenate([reader.next_samples(10_000)[:, 0].numpy() for _ in range(20)])
    assert (firsts // 1000).tolist() == expected
    twice = list(once / once.sum())
    wrong = reference_blend(twice, 200_000)
    diff = [i for i, (x, y) in enumerate(zip(expected, wrong)) if x != y]
    assert diff[0] == 35 and len(diff) == 14_340  # the test would catch a second normalisation


def test_long_stages_are_bounded_without_a_replay_and_resume_costs_nothing():
    """Resuming at sample 10^8 of a 3-folder blend: the checkpoint's stored counts make it O(1)."""
    weights = normalised_weights([0.5, 0.25, 0.25])  # exact binary weights: the state at 4k samples is [2k, k, k]
    n = 10**8
    t = time.time()
    blend = Blend.from_state(weights, {"position": n, "counts": [n // 2, n // 4, n // 4]})
    nxt = [d for d, _ in blend.take(8)]
    assert time.time() - t < 1.0
    # by hand from the all-zero errors at a multiple of 4: x=n: errors [0, 0, 0] tie -> 0; x=n+1: [-.5, .25, .25] -> 1;
    # x=n+2: [0, -.5, .5] -> 2; x=n+3: [.5, -.25, -.25] -> 0; then the same pattern again
    assert nxt == [0, 1, 2, 0, 0, 1, 2, 0]
    for (lo, hi), c in zip(blend_count_bounds([3, 2, 1], 60_000), Blend(normalised_weights([3, 2, 1]), 60_000).counts):
        assert lo <= c <= hi


def test_check_flags_a_folder_a_launch_would_read_past_its_end_and_only_that_one(tmp_path):
    """Reach by hand (what `make check` / `make plan` report): stage 1 runs steps 1-5 at gbs 4 on a:b = 1:1, so it
    reads 10 windows of each (the blend alternates); stage 2 (steps 6-10, all on a) then needs windows 10..30 of a.
    a has 20 windows of 24 + 1 tokens: stage 1 fits, stage 2 runs past the end, unless the old reader wraps."""
    from smolrecipe.engine.reach import launch_reach

    for name in ("a", "b"):
        write_folder(tmp_path / name, [np.arange(25 * 20)])
    one = _config(tmp_path, [("s1", 1, {"a": 1, "b": 1}, False)], steps=5)
    rows = launch_reach(one, {})
    assert [(r.first, r.last_high, r.available, r.exhausted) for r in rows] == [(0, 10, 20, False), (0, 10, 20, False)]
    history = {"s1": (1, 5, one)}
    for wraps, exhausted in ((False, True), (True, False)):
        two = _config(tmp_path, [("s1", 1, {"a": 1, "b": 1}, False), ("s2", 6, {"a": 1}, wraps)], steps=10)
        two.checkpoints.resume_checkpoint_path = str(tmp_path / "checkpoints" / "5")
        (row,) = launch_reach(two, history)
        assert (row.first, row.last_high, row.available, row.exhausted) == (10, 30, 20, exhausted)
    assert "reads windows 10..30 of" in row.describe() and "which has 20" in row.describe()
