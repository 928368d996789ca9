"""Chat data as text: a conversation rendered with the chat template, before any text filter sees it.

    render_chat([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}])
    -> '<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\nHello!<|im_end|>\\n'

SFT data sets (SmolTalk, this project's synthetic subsets) hold a `messages` list in TRL's conversational
format. The heuristic filters, decontamination and tokenization read `Document.text`, a string, so a chat
row becomes the text a chat model is trained on: the recipe's ChatML template (smolrecipe.tokenizer,
SmolLM2-Instruct's format), rendered by transformers' own template engine, so the text is exactly what
`apply_chat_template` produces.
"""
from __future__ import annotations

ROLES = ("system", "user", "assistant")


def message_problem(messages) -> str | None:
    """Why `messages` is not a conversation in TRL's format (a list of {role, content} with string content), or None."""
    if not isinstance(messages, list) or not messages:
        return "not a non-empty list of messages"
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("content"), str):
            return f"message {i} has no string content"
        if m.get("role") not in ROLES:
            return f"message {i} has role {m.get('role')!r}, not one of {', '.join(ROLES)}"
    return None


def render_chat(messages: list[dict], chat_template: str | None = None) -> str:
    """The conversation as text, rendered with `chat_template` (default: the recipe's ChatML template)."""
    from transformers.utils.chat_template_utils import render_jinja_template

    from smolrecipe.tokenizer import CHAT_TEMPLATE

    rendered, _ = render_jinja_template(conversations=[[{"role": m["role"], "content": m["content"]} for m in messages]],
                                        chat_template=chat_template or CHAT_TEMPLATE)
    return rendered[0]
