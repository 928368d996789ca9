"""Train the tiny recipe's byte-level BPE tokenizer on text that exists on any machine with Python.

    python -m smolrecipe tokenizer --recipe tiny        # or: make tokenizer RECIPE=tiny

The full-size recipes use the published `HuggingFaceTB/cosmo2-tokenizer` (49152 tokens) from the Hub;
the tiny recipe trains its own, offline, on the Python standard library's source (code and docstrings)
and the interpreter's documentation topics. Special tokens follow cosmo2's layout: id 0 is
<|endoftext|> (bos = eos = 0 in the base configs), then the ChatML markers, then a separate pad token so
padding is never confused with end-of-text. The chat template is ChatML with `{% generation %}` markers,
so TRL's `assistant_only_loss` can mask everything but the assistant's turns.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from smolrecipe.data.local_corpus import stdlib_modules
from smolrecipe.errors import ConfigError
from smolrecipe.paths import shown
from smolrecipe.publish import publishing

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"]

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def stdlib_files(max_bytes: int) -> list[Path]:
    """Standard-library .py files in a stable order, up to `max_bytes` in total (tests and vendored code skipped)."""
    files, total = [], 0
    for p in stdlib_modules():
        size = p.stat().st_size
        if total + size > max_bytes:
            break
        files.append(p)
        total += size
    return files


def training_texts(max_bytes: int):
    for p in stdlib_files(max_bytes):
        yield p.read_text(encoding="utf-8", errors="replace")
    try:
        from pydoc_data.topics import topics
    except ImportError:  # some distributions strip pydoc_data; the source alone is enough
        topics = {}
    for key in sorted(topics):
        yield topics[key]


def train_tokenizer(out_dir: Path, vocab_size: int = 4096, max_bytes: int = 12_000_000, force: bool = False) -> Path:
    """Train and save a transformers tokenizer folder (with tokenizer.json). Skips work when already built."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size <= len(SPECIAL_TOKENS) + 256:
        raise ConfigError(f"vocab_size={vocab_size} leaves no room for merges", field="vocab_size", fix="use at least 512")
    spec = {"vocab_size": vocab_size, "max_bytes": max_bytes, "files": [p.name for p in stdlib_files(max_bytes)][-50:],
            "special_tokens": SPECIAL_TOKENS, "template": CHAT_TEMPLATE}
    fingerprint = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
    marker = out_dir / "smolrecipe_tokenizer.json"
    if not force and marker.exists() and json.loads(marker.read_text()).get("fingerprint") == fingerprint:
        print(f"tokenizer up to date: {shown(out_dir)} (fingerprint {fingerprint})")
        return out_dir

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=sys.stderr.isatty(),  # the bar is noise in logs
    )
    tok.train_from_iterator(training_texts(max_bytes), trainer=trainer)
    for i, t in enumerate(SPECIAL_TOKENS):  # the layout the configs rely on
        assert tok.token_to_id(t) == i, (t, tok.token_to_id(t))

    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|pad|>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        model_max_length=8192,
    )
    fast.chat_template = CHAT_TEMPLATE
    with publishing(out_dir) as tmp:  # a half-written tokenizer is never visible at out_dir
        fast.save_pretrained(tmp)
        (tmp / "smolrecipe_tokenizer.json").write_text(json.dumps({"fingerprint": fingerprint, **spec}, indent=1))
    print(f"tokenizer saved: {shown(out_dir)} ({tok.get_vocab_size()} tokens, trained on {max_bytes / 1e6:.0f} MB of stdlib text)")
    return out_dir
