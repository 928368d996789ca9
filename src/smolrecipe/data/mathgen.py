"""Generated worked math problems: the tiny recipe's "math" source (the OpenWebMath / FineMath stand-in).

Deterministic in `seed`. Each document is one problem with a solution in one of three styles, so the
math classifier has real signal to learn: a bare answer (what a scraped forum answer often is), a terse
chain of equations, or a step-by-step explanation (what FineMath's 4+ band keeps). Some documents are
short lessons that explain a method on an example. `held_out` draws from a disjoint seed stream and is
the tiny recipe's math benchmark, which decontamination keeps out of the training data.
"""
from __future__ import annotations

import random

NAMES = ["Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira", "Liam",
         "Maya", "Noor", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen", "Yusuf", "Zoe"]
ITEMS = ["apples", "pencils", "stickers", "marbles", "books", "cookies", "stamps", "shells", "cards", "eggs",
         "bottles", "tickets", "plants", "coins", "boxes", "bricks", "candles", "buttons", "ribbons", "beads"]
PLACES = ["market", "library", "school fair", "bakery", "garden shop", "toy store", "post office", "harbour"]


def _shopping(r: random.Random):
    n, it, pl = r.choice(NAMES), r.choice(ITEMS), r.choice(PLACES)
    count, price, paid = r.randint(3, 40), r.randint(2, 25), 0
    total = count * price
    paid = total + r.randint(1, 60)
    q = (f"{n} buys {count} {it} at the {pl} for ${price} each and pays with ${paid}. "
         f"How much change does {n} get back?")
    steps = [(f"First find the cost of the {it}: {count} x ${price} = ${total}.", f"{count} * {price} = {total}"),
             (f"Then subtract the cost from the money paid: ${paid} - ${total} = ${paid - total}.",
              f"{paid} - {total} = {paid - total}")]
    return q, steps, paid - total, "multiplication gives the total cost, and subtraction gives the change"


def _sharing(r: random.Random):
    n, it = r.choice(NAMES), r.choice(ITEMS)
    friends, each, extra = r.randint(2, 12), r.randint(2, 30), r.randint(0, 9)
    extra = extra % friends
    total = friends * each + extra
    q = (f"{n} has {total} {it} and shares them equally among {friends} friends, keeping whatever is left over. "
         f"How many {it} does each friend get, and how many does {n} keep?")
    steps = [(f"Divide {n}'s {total} {it} by {friends}: {friends} x {each} = {friends * each}, which is the largest multiple "
              f"of {friends} not above {total}.", f"{total} / {friends} = {each} remainder {extra}"),
             (f"So each friend gets {each} {it} and the remainder is {total} - {friends * each} = {extra}.",
              f"{total} - {friends * each} = {extra}")]
    return q, steps, f"{each} each, {extra} kept", "division with remainder splits a total into equal groups"


def _rate(r: random.Random):
    n = r.choice(NAMES)
    speed, hours, minutes = r.randint(3, 90), r.randint(1, 9), r.choice([0, 15, 30, 45])
    t = hours + minutes / 60
    dist = speed * t
    q = f"{n} travels at {speed} km per hour for {hours} hours and {minutes} minutes. How far does {n} travel?"
    # short, number-dense steps: every 13-word window carries this problem's own numbers (speed, hours,
    # minutes), so a benchmark n-gram matches the same problem, not every problem of the template (decont.py)
    steps = [(f"Convert the time: {hours} h and {minutes} min at {speed} km per hour is {hours} + {minutes}/60 = "
              f"{t:g} hours for {n}.", f"t = {hours} + {minutes}/60 = {t:g}"),
             (f"Distance is speed times time: {speed} x {t:g} = {dist:g} km.", f"d = {speed} * {t:g} = {dist:g}")]
    return q, steps, f"{dist:g} km", "distance equals speed multiplied by time, with time in matching units"


def _percent(r: random.Random):
    n, it = r.choice(NAMES), r.choice(ITEMS)
    price, pct = r.randint(10, 400), r.choice([5, 10, 15, 20, 25, 30, 40, 50])
    off = price * pct / 100
    q = f"A pack of {it} costs ${price}. {n} gets a {pct}% discount. What does {n} pay?"
    steps = [(f"The discount is {pct}% of ${price}: {pct}/100 x {price} = ${off:g}.", f"{pct}/100 * {price} = {off:g}"),
             (f"Subtract it from the price: ${price} - ${off:g} = ${price - off:g}.", f"{price} - {off:g} = {price - off:g}")]
    return q, steps, f"${price - off:g}", "a percentage is a fraction out of 100 of the original amount"


def _arith(r: random.Random):
    a, b, c = r.randint(2, 99), r.randint(2, 99), r.randint(2, 20)
    op = r.choice(["+", "-"])
    inner = a + b if op == "+" else a - b
    q = f"Compute ({a} {op} {b}) x {c}."
    steps = [(f"Work inside the parentheses first: {a} {op} {b} = {inner}.", f"{a} {op} {b} = {inner}"),
             (f"Then multiply: {inner} x {c} = {inner * c}.", f"{inner} * {c} = {inner * c}")]
    return q, steps, inner * c, "parentheses are evaluated before multiplication"


def _fraction(r: random.Random):
    n, it = r.choice(NAMES), r.choice(ITEMS)
    den = r.choice([2, 3, 4, 5, 6, 8, 10])
    num = r.randint(1, den - 1)
    total = den * r.randint(2, 15)
    part = total * num // den
    q = f"{n} had {total} {it} and gave away {num}/{den} of them. How many {it} are left?"
    steps = [(f"Find {num}/{den} of {n}'s {total} {it}: {total} / {den} = {total // den}, and {total // den} x {num} = {part}.",
              f"{total} * {num}/{den} = {part}"),
             (f"Subtract what was given away: {total} - {part} = {total - part}.", f"{total} - {part} = {total - part}")]
    return q, steps, total - part, "a fraction of a quantity is the quantity divided by the denominator, times the numerator"


KINDS = [_shopping, _sharing, _rate, _percent, _arith, _fraction]


def problem(r: random.Random, style: str | None = None) -> dict:
    """One problem: question, solution text in a style (answer | terse | worked), final answer."""
    q, steps, answer, idea = r.choice(KINDS)(r)
    style = style or r.choices(["answer", "terse", "worked", "lesson"], weights=[3, 3, 4, 1])[0]
    if style == "answer":
        text = f"Q: {q}\nA: {answer}"
    elif style == "terse":
        text = f"{q}\n" + "\n".join(eq for _, eq in steps) + f"\nAnswer: {answer}"
    elif style == "worked":
        text = (f"Problem. {q}\n\nSolution. We solve it step by step.\n"
                + "\n".join(f"Step {i}. {s}" for i, (s, _) in enumerate(steps, 1))
                + f"\nTherefore the answer is {answer}.")
    else:
        text = (f"Lesson: how to solve problems like this one. The key idea is that {idea}.\n\nExample. {q}\n"
                + "\n".join(f"{i}. {s}" for i, (s, _) in enumerate(steps, 1))
                + f"\nSo the answer is {answer}. To check the result, redo the computation in the opposite "
                  f"direction and confirm that you get back the numbers of the question.")
    return {"text": text, "question": q, "answer": "\n".join(s for s, _ in steps) + f"\n#### {answer}", "style": style}


def problems(n: int, seed: int = 0) -> list[dict]:
    r = random.Random(seed)
    return [problem(r) for _ in range(n)]


def held_out(n: int, seed: int = 10_000) -> list[dict]:
    """Benchmark problems (worked style) from a seed stream the training corpus never uses."""
    r = random.Random(seed)
    return [problem(r, "worked") for _ in range(n)]
