"""`make chat MODEL=<folder>`: talk to a model in the terminal with its chat template, the answer streamed as it comes.

Usage:
    python -m smolrecipe chat --model outputs/post_training/tiny/dpo --prompt "What is 7 + 5?"   # one answer, then exit
    python -m smolrecipe chat --model outputs/post_training/tiny/sft                           # a conversation (REPL)
    options: --temperature 0 (greedy, the default) | 0.7 ...   --top-p 0.9   --max-new-tokens 128   --seed 0
             --chat-template FILE (a model folder without one, e.g. post_training/chat_template.jinja)
    (make chat MODEL=<folder> [PROMPT="..."] [TEMPERATURE=] [TOP_P=] [MAX_NEW_TOKENS=] [DRY_RUN=1])

In the conversation, /reset forgets the history and /exit (or Ctrl-D) leaves. Generation stops at the end of the
assistant's turn (`<|im_end|>`) or at the tokenizer's end-of-text. transformers 5's own `transformers chat` talks to
a `transformers serve` server; this is a small loop on `generate` with a streamer that needs no server.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smolrecipe.errors import RecipeError
from smolrecipe.paths import shown, user_path

END_OF_TURN = "<|im_end|>"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="smolrecipe chat", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="transformers folder or local-engine checkpoint (MODEL=)")
    p.add_argument("--prompt", default=None, help="one user message: print the answer and exit (PROMPT=)")
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default); above 0 samples (TEMPERATURE=)")
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass when sampling (TOP_P=)")
    p.add_argument("--max-new-tokens", type=int, default=128, help="answer length limit (MAX_NEW_TOKENS=)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    p.add_argument("--chat-template", default=None, help="a .jinja chat template, for a tokenizer without one")
    p.add_argument("--dry-run", action="store_true", help="check the model, tokenizer and template; generate nothing")
    return p.parse_args(argv)


def check_args(args) -> None:
    if not args.model.strip():
        raise RecipeError("no model given", field="MODEL", fix='make chat MODEL=outputs/post_training/tiny/dpo PROMPT="What is 7 + 5?"')
    if args.temperature < 0:
        raise RecipeError(f"--temperature {args.temperature} is negative", field="TEMPERATURE", fix="use 0 (greedy) or e.g. 0.7")
    if not 0 < args.top_p <= 1:
        raise RecipeError(f"--top-p {args.top_p} is outside (0, 1]", field="TOP_P", fix="use e.g. 0.9, or 1 for no cut")
    if args.max_new_tokens < 1:
        raise RecipeError(f"--max-new-tokens {args.max_new_tokens} would generate nothing", field="MAX_NEW_TOKENS",
                          fix="use e.g. 128")
    if args.prompt is not None and not args.prompt.strip():
        raise RecipeError("the prompt is empty", field="PROMPT", fix='give a question, e.g. PROMPT="What is 7 + 5?"')


def find_model(args) -> tuple[Path, Path, str]:
    """(model folder, tokenizer folder, chat template) or an error naming the path and the fix."""
    from smolrecipe.evaluation.run import check_model, find_tokenizer

    path = user_path(args.model)
    if not path.exists():
        hint = "run make sft RECIPE=tiny first" if "post_training" in str(args.model) else "check the path"
        raise RecipeError("no such model folder", file=args.model, field="MODEL",
                          fix=f"{hint}, or point MODEL at a transformers folder")
    model_dir = check_model(path)
    tok_dir = find_tokenizer(model_dir, None)
    if args.chat_template:
        tpl = user_path(args.chat_template)
        if not tpl.is_file():
            raise RecipeError("chat template file not found", file=args.chat_template, field="--chat-template",
                              fix="use post_training/chat_template.jinja")
        return model_dir, tok_dir, tpl.read_text(encoding="utf-8")
    from transformers import AutoTokenizer

    template = AutoTokenizer.from_pretrained(tok_dir).chat_template
    if not template:
        raise RecipeError("the tokenizer has no chat template", file=shown(tok_dir), field="MODEL",
                          fix="chat with a post-training output, or pass --chat-template post_training/chat_template.jinja")
    return model_dir, tok_dir, template


class Chat:
    def __init__(self, model_dir: Path, tok_dir: Path, template: str, args):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(tok_dir)
        self.tok.chat_template = template
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        vocab = self.tok.get_vocab()
        self.stop = sorted({i for i in (self.tok.eos_token_id, vocab.get(END_OF_TURN)) if i is not None})
        self.args = args
        self.history: list[dict] = []

    def answer(self, text: str, out=sys.stdout) -> str:
        """Stream the assistant's answer to `text` (the history before it as context); returns it."""
        import torch
        from transformers import TextStreamer

        self.history.append({"role": "user", "content": text})
        ids = self.tok.apply_chat_template(self.history, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)["input_ids"]
        streamer = TextStreamer(self.tok, skip_prompt=True, skip_special_tokens=True)
        streamer.on_finalized_text = lambda chunk, stream_end=False: print(chunk, end="" if not stream_end else "\n",
                                                                          file=out, flush=True)
        sample = self.args.temperature > 0
        torch.manual_seed(self.args.seed)
        with torch.no_grad():
            gen = self.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=self.args.max_new_tokens,
                                      do_sample=sample, temperature=self.args.temperature if sample else None,
                                      top_p=self.args.top_p if sample else None, top_k=None, eos_token_id=self.stop,
                                      pad_token_id=self.tok.pad_token_id or self.stop[0], streamer=streamer)
        new = gen[0, ids.shape[1]:]
        reply = self.tok.decode(new, skip_special_tokens=True).strip()
        self.history.append({"role": "assistant", "content": reply})
        ended = bool(len(new)) and int(new[-1]) in self.stop
        if not ended:
            print(f"[stopped at --max-new-tokens {self.args.max_new_tokens}]", file=out)
        return reply


def repl(chat: Chat) -> None:
    print("type a message; /reset forgets the conversation, /exit or Ctrl-D leaves")
    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            print()
            return
        if line in ("/exit", "/quit"):
            return
        if line == "/reset":
            chat.history.clear()
            print("(conversation cleared)")
            continue
        if line:
            print("assistant> ", end="", flush=True)
            chat.answer(line)


def main(argv: list[str]) -> int:
    import os

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers' "Loading weights" bar before each answer
    args = parse_args(argv)
    check_args(args)
    model_dir, tok_dir, template = find_model(args)
    if args.dry_run:
        mode = f"answer {args.prompt!r}" if args.prompt else "start a conversation"
        print(f"dry run: would load {shown(model_dir)} (tokenizer {shown(tok_dir)}) and {mode}; nothing generated")
        return 0
    chat = Chat(model_dir, tok_dir, template, args)
    if args.prompt is not None:
        print(f"user: {args.prompt}\nassistant: ", end="", flush=True)
        chat.answer(args.prompt)
        return 0
    repl(chat)
    return 0
