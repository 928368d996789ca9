"""The LR schedule follows nanotron's formula and step convention at every boundary."""
import math

import pytest

from smolrecipe.schedule import Schedule, lr_at, lr_for_iteration


def wsd(style, warmup=10, start=60, steps=40, peak=1e-3, floor=0.0, warmup_style="linear"):
    return Schedule(peak, warmup, warmup_style, style, start, steps, floor)


@pytest.mark.parametrize("style", ["linear", "cosine", "1-sqrt"])
def test_warmup_and_stable_phase(style):
    s = wsd(style)
    assert lr_at(0, s) == 0.0
    assert lr_at(5, s) == pytest.approx(5e-4)
    assert lr_at(10, s) == pytest.approx(1e-3)  # t <= W is still warmup: lr*W/W
    assert lr_at(11, s) == 1e-3
    assert lr_at(59, s) == 1e-3  # constant until the decay start S


def test_linear_decay_hand_values():
    s = wsd("linear", floor=1e-4)
    assert lr_at(60, s) == pytest.approx(1e-3)  # t = S: full LR
    assert lr_at(70, s) == pytest.approx(1e-4 + 9e-4 * 30 / 40)
    assert lr_at(99, s) == pytest.approx(1e-4 + 9e-4 * 1 / 40)  # last decay step
    assert lr_at(100, s) == pytest.approx(1e-4)  # S + D: the floor
    assert lr_at(10_000, s) == pytest.approx(1e-4)


def test_cosine_decay_hand_values():
    s = wsd("cosine")
    assert lr_at(80, s) == pytest.approx(1e-3 * (1 + math.cos(math.pi * 0.5)) / 2)  # halfway: half the LR
    assert lr_at(80, s) == pytest.approx(5e-4)
    assert lr_at(90, s) == pytest.approx(1e-3 * (1 + math.cos(math.pi * 0.75)) / 2)


def test_one_minus_sqrt_decay_hand_values():
    s = wsd("1-sqrt")
    assert lr_at(70, s) == pytest.approx(1e-3 * (1 - math.sqrt(0.25)))  # = 5e-4 at a quarter of the decay
    assert lr_at(70, s) == pytest.approx(5e-4)
    assert lr_at(100, s) == 0.0


def test_iteration_uses_previous_step():
    s = wsd("linear")
    assert lr_for_iteration(1, s) == 0.0  # nanotron: the first update runs at lr_lambda(0)
    assert lr_for_iteration(11, s) == pytest.approx(1e-3)
    assert lr_for_iteration(61, s) == pytest.approx(1e-3)  # decay start S is used by iteration S+1
    assert lr_for_iteration(100, s) == pytest.approx(1e-3 / 40)  # the last iteration of a complete decay


def test_constant_warmup_and_no_schedule():
    assert lr_at(3, wsd("linear", warmup_style="constant")) == 1e-3
    assert lr_at(123, Schedule(2e-3, 0, "linear", "linear", 0, 0, 0.0)) == 2e-3


def test_smollm2_17b_schedule():
    s = Schedule(5e-4, 2000, "linear", "linear", 4_716_000, 524_000, 0.0)
    assert lr_for_iteration(2001, s) == pytest.approx(5e-4)
    assert lr_for_iteration(4_716_001, s) == pytest.approx(5e-4)
    assert lr_for_iteration(4_716_000 + 262_001, s) == pytest.approx(2.5e-4)
    assert lr_at(5_240_000, s) == 0.0
