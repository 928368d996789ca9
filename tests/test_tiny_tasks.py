"""The tiny chat tasks: answers that are right by construction, wrong answers that are wrong, disjoint splits."""
from smolrecipe.data import tiny_tasks


def test_answers_are_right_and_the_wrong_ones_are_wrong():
    items = tiny_tasks.generate("train", 900) + tiny_tasks.generate("heldout", 300)
    for it in items:
        p, a = it["prompt"], it["answer"]
        if it["task"] in ("add", "subtract", "multiply"):
            expr = p.removeprefix("What is ").removesuffix("?")
            assert int(a) == eval(expr)  # noqa: S307 - our own generated "12 + 3"
        elif it["task"] == "larger":
            x, y = p.removeprefix("Which number is larger, ").removesuffix("?").split(" or ")
            assert int(a) == max(int(x), int(y))
        elif it["task"] == "reverse":
            assert a == p.split()[3][::-1]
        elif it["task"] == "upper":
            assert a == p.split()[3].upper()
        elif it["task"] == "sort":
            xs = [int(x) for x in p.split(": ")[1].rstrip(".").split(", ")]
            assert a == ", ".join(map(str, sorted(xs)))
        assert len(it["wrong"]) == 3 and a not in it["wrong"] and len(set(it["wrong"])) == 3


def test_splits_are_disjoint_deterministic_and_cover_every_task():
    train, held = tiny_tasks.generate("train", 3000), tiny_tasks.generate("heldout", 400)
    assert not {i["prompt"] for i in train} & {i["prompt"] for i in held}
    assert {i["task"] for i in held} == set(tiny_tasks.TASKS)
    assert tiny_tasks.generate("heldout", 400) == held
    pref = tiny_tasks.preference(held[0])
    assert pref["chosen"][0]["content"] == held[0]["answer"] != pref["rejected"][0]["content"]
