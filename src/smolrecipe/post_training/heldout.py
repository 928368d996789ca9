"""Held-out check of the tiny recipe's chat models: what `make eval SUITE=tiny` cannot see.

Usage:
    python -m smolrecipe.post_training.heldout --model outputs/post_training/tiny/sft [--ref outputs/post_training/tiny/sft]
        [--model ...] [--json out.json]

For each model, on the 270 held-out items of evaluation/data/tiny/chat/test.jsonl (prompts never trained on):
- exact match of the greedy answer, generated with the model's chat template until `<|im_end|>` or end-of-text
  (no stop string cuts it: whether the model ends its turn is measured, not imposed),
- the share of answers that end with `<|im_end|>` within 16 new tokens,
- with --ref: DPO's preference accuracy on held-out pairs (the answer chosen over each of its 3 wrong answers),
  i.e. how often the implicit reward log pi(chosen)/ref(chosen) - log pi(rejected)/ref(rejected) is positive, and
  for every model how often it gives the right answer a higher log-probability than a wrong one.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from smolrecipe.paths import repo_root, shown, user_path

MAX_NEW = 16


def items() -> list[dict]:
    path = repo_root() / "evaluation" / "data" / "tiny" / "chat" / "test.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load(folder: Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from smolrecipe.evaluation.run import check_model, find_tokenizer
    from smolrecipe.tokenizer import CHAT_TEMPLATE

    model_dir = check_model(folder)
    tok = AutoTokenizer.from_pretrained(find_tokenizer(model_dir, None))
    tok.chat_template = tok.chat_template or CHAT_TEMPLATE
    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval(), tok


def prompt_ids(tok, prompt: str) -> list[int]:
    return tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                   return_dict=True)["input_ids"]


def generate_all(model, tok, data: list[dict], batch: int = 32) -> list[tuple[str, bool]]:
    """(answer text, ended with <|im_end|>) per item, greedy, left-padded batches."""
    import torch

    end = tok.convert_tokens_to_ids("<|im_end|>")
    stop = sorted({end, tok.eos_token_id} - {None})
    pad = tok.pad_token_id if tok.pad_token_id is not None else stop[0]
    out = []
    for k in range(0, len(data), batch):
        ids = [prompt_ids(tok, it["prompt"]) for it in data[k:k + batch]]
        width = max(map(len, ids))
        x = torch.tensor([[pad] * (width - len(i)) + i for i in ids])
        mask = torch.tensor([[0] * (width - len(i)) + [1] * len(i) for i in ids])
        with torch.no_grad():
            gen = model.generate(x, attention_mask=mask, max_new_tokens=MAX_NEW, do_sample=False, eos_token_id=stop,
                                 pad_token_id=pad)[:, width:]
        for row in gen.tolist():
            ended = end in row and all(t == pad or t in stop for t in row[row.index(end):])
            text = tok.decode([t for t in row if t not in stop and t != pad], skip_special_tokens=False)
            out.append((text.strip(), ended))
    return out


def answer_logprob(model, tok, prompt: str, answer: str) -> float:
    """log p(answer + <|im_end|> | chat prompt), summed over its tokens."""
    import torch

    p = prompt_ids(tok, prompt)
    full = tok.apply_chat_template([{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
                                   return_dict=True)["input_ids"]
    full = full[:len(full) - 1] if full[-1] != tok.convert_tokens_to_ids("<|im_end|>") else full  # drop the "\n"
    x = torch.tensor([full])
    with torch.no_grad():
        logp = torch.log_softmax(model(x).logits[0, :-1].float(), -1)
    target = x[0, 1:]
    return float(logp[len(p) - 1:].gather(1, target[len(p) - 1:, None]).sum())


def preference(model, tok, data, ref=None) -> dict:
    """Share of (item, wrong answer) pairs where the model prefers the right answer; with `ref`, DPO's reward
    accuracy (the log-ratio to the reference is larger for the right answer)."""
    better = reward = n = 0
    for it in data:
        right = answer_logprob(model, tok, it["prompt"], it["answer"])
        right_ref = answer_logprob(ref[0], ref[1], it["prompt"], it["answer"]) if ref else 0.0
        for wrong in it["wrong"]:
            w = answer_logprob(model, tok, it["prompt"], wrong)
            better += right > w
            if ref:
                reward += (right - right_ref) > (w - answer_logprob(ref[0], ref[1], it["prompt"], wrong))
            n += 1
    out = {"prefers_right_answer": better / n, "pairs": n}
    if ref:
        out["reward_accuracy_vs_ref"] = reward / n
    return out


def report(folder: Path, ref: Path | None = None) -> dict:
    model, tok = load(folder)
    data = items()
    answers = generate_all(model, tok, data)
    per_task: dict[str, list[int]] = {}
    for it, (text, _) in zip(data, answers):
        per_task.setdefault(it["task"], []).append(int(text == it["answer"]))
    result = {"model": shown(folder), "items": len(data),
              "exact_match": sum(text == it["answer"] for it, (text, _) in zip(data, answers)) / len(data),
              "ends_with_im_end": sum(ended for _, ended in answers) / len(data),
              "exact_match_per_task": {k: sum(v) / len(v) for k, v in sorted(per_task.items())},
              "examples": [{"prompt": it["prompt"], "answer": it["answer"], "generated": text, "ended": ended}
                           for it, (text, ended) in list(zip(data, answers))[:5]]}
    result.update(preference(model, tok, data, load(ref) if ref else None))
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", action="append", required=True, help="a model folder (repeat for several)")
    p.add_argument("--ref", default=None, help="reference model for DPO's reward accuracy (the SFT model)")
    p.add_argument("--json", default=None, help="write the results here too")
    args = p.parse_args(argv)
    results = []
    for m in args.model:
        r = report(user_path(m), user_path(args.ref) if args.ref and user_path(m) != user_path(args.ref) else None)
        results.append(r)
        extra = f", DPO reward accuracy vs ref {r['reward_accuracy_vs_ref']:.1%}" if "reward_accuracy_vs_ref" in r else ""
        print(f"{r['model']}: exact match {r['exact_match']:.1%}, ends with <|im_end|> {r['ends_with_im_end']:.1%}, "
              f"prefers the right answer {r['prefers_right_answer']:.1%} of {r['pairs']} pairs{extra}")
        print("  per task: " + ", ".join(f"{k} {v:.0%}" for k, v in r["exact_match_per_task"].items()))
    if args.json:
        from smolrecipe.publish import atomic_write_text

        atomic_write_text(user_path(args.json), json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
