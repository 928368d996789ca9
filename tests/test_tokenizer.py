"""The tiny tokenizer: trained offline, special-token layout, chat template with generation markers."""
import json

from transformers import AutoTokenizer

from smolrecipe.config.validate import tokenizer_vocab_size
from smolrecipe.tokenizer import SPECIAL_TOKENS, train_tokenizer


def test_train_small_tokenizer(tmp_path):
    out = train_tokenizer(tmp_path / "tok", vocab_size=600, max_bytes=400_000)
    tok = AutoTokenizer.from_pretrained(out)
    assert len(tok) == 600 == tokenizer_vocab_size(str(out))
    assert [tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS] == [0, 1, 2, 3]
    assert tok.eos_token_id == tok.bos_token_id == 0 and tok.pad_token_id == 3
    text = "def f(x):\n    return x * 2  # 12 + 30 = 42\n"
    assert tok.decode(tok(text)["input_ids"]) == text  # byte-level: lossless
    chat = [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]
    enc = tok.apply_chat_template(chat, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = enc["input_ids"], enc["assistant_masks"]
    assistant = tok.decode([i for i, m in zip(ids, mask) if m])
    assert assistant == "4<|im_end|>"
    prompt = tok.apply_chat_template(chat[:1], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>assistant\n")
    # second call is a no-op (fingerprint unchanged)
    mtime = (out / "tokenizer.json").stat().st_mtime
    train_tokenizer(tmp_path / "tok", vocab_size=600, max_bytes=400_000)
    assert (out / "tokenizer.json").stat().st_mtime == mtime
    assert json.loads((out / "smolrecipe_tokenizer.json").read_text())["vocab_size"] == 600
