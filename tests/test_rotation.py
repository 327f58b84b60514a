"""advlib.rotation: rotations as a one-dimensional perturbation (Sec. 4, claim C8)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from advlib.data import load_dataset
from advlib.models import softmax_regression
from advlib.rotation import rotate, rotation_attack, rotation_curve, rotation_gradient


@pytest.fixture(scope="module")
def digits():
    x, y = load_dataset("mnist-embedded", "test")
    return torch.from_numpy(x[:64]).double(), torch.from_numpy(y[:64])


@pytest.fixture
def model():
    """Softmax regression with weights large enough to give real slopes, in float64."""
    torch.manual_seed(0)
    m = softmax_regression().double()
    with torch.no_grad():
        m.linear.weight.mul_(20.0)
    return m.eval()


def _per_example_loss(model, x, y):
    return torch.nn.functional.cross_entropy(model(x), y, reduction="none")


def test_rotate_by_zero_is_the_identity(digits):
    x, _ = digits
    assert torch.allclose(rotate(x, 0.0), x, atol=1e-12)
    assert torch.allclose(rotate(x.float(), 0.0), x.float(), atol=1e-5)


def test_quarter_turn_is_counter_clockwise_and_exact(digits):
    x, _ = digits
    turned = rotate(x[:3], math.pi / 2).reshape(3, 28, 28).numpy()
    expected = np.rot90(x[:3].reshape(3, 28, 28).numpy(), k=1, axes=(1, 2))  # anticlockwise
    np.testing.assert_allclose(turned, expected, atol=1e-9)


def test_turning_there_and_back_keeps_the_digit(digits):
    x, _ = digits
    back = rotate(rotate(x, math.radians(10)), math.radians(-10))
    # two interpolations blur a little; the digit itself stays put
    once = rotate(x, math.radians(10))
    assert float((back - x).abs().mean()) < 0.5 * float((once - x).abs().mean())


def test_turned_digits_stay_in_the_pixel_range(digits):
    x, _ = digits
    turned = rotate(x, torch.linspace(-0.5, 0.5, len(x), dtype=x.dtype))
    assert float(turned.min()) >= 0.0 and float(turned.max()) <= float(x.max())


def test_rotation_gradient_is_the_mean_of_the_one_sided_slopes(digits, model):
    x, y = digits
    slope = rotation_gradient(model, x, y)
    h = 1e-7  # bilinear has a kink at 0: the central difference is the mean of the two sides
    with torch.no_grad():
        up = _per_example_loss(model, rotate(x, h), y)
        down = _per_example_loss(model, rotate(x, -h), y)
    numeric = (up - down) / (2 * h)
    assert slope.shape == (len(y),)
    torch.testing.assert_close(slope, numeric, rtol=5e-3, atol=1e-6)
    assert float(slope.abs().min()) > 0  # real slopes, so the comparison means something


def test_rotation_gradient_leaves_the_model_as_it_was(digits, model):
    x, y = digits
    model.train()
    model.linear.bias.requires_grad_(False)
    rotation_gradient(model, x, y)
    assert model.training
    assert model.linear.weight.requires_grad and not model.linear.bias.requires_grad
    assert model.linear.weight.grad is None and model.linear.bias.grad is None


def test_turning_toward_the_slope_raises_the_loss_more_than_turning_away(digits, model):
    x, y = digits
    toward = rotation_attack(model, x, y, 1.0)
    sign = torch.where(rotation_gradient(model, x, y) >= 0, 1.0, -1.0).double()
    away = rotate(x, -math.radians(1.0) * sign)
    with torch.no_grad():
        up, other = _per_example_loss(model, toward, y), _per_example_loss(model, away, y)
    # to first order always; this model's large weights leave room for curvature at 1 degree
    assert float((up > other).double().mean()) > 0.95


def test_random_direction_is_seeded_and_of_the_same_size(digits, model):
    x, y = digits
    a = rotation_attack(model, x, y, 5.0, direction="random", seed=3)
    b = rotation_attack(model, x, y, 5.0, direction="random", seed=3)
    c = rotation_attack(model, x, y, 5.0, direction="random", seed=4)
    assert torch.equal(a, b) and not torch.equal(a, c)
    plus, minus = rotate(x, math.radians(5.0)), rotate(x, -math.radians(5.0))
    is_plus = (a - plus).abs().amax(dim=1) < 1e-12
    is_minus = (a - minus).abs().amax(dim=1) < 1e-12
    assert bool((is_plus | is_minus).all()) and 0 < int(is_plus.sum()) < len(y)


def test_rotation_curve_rows_and_references(digits, model):
    x, y = digits
    curve = rotation_curve({"softmax regression": model}, x, y, [0.0, 3.0, 8.0], seed=0)
    assert list(curve["direction"].unique()) == ["gradient", "random", "either"]
    assert len(curve) == 9 and set(curve["n"]) == {len(y)}
    at = curve.set_index(["degrees", "direction"])["error"]
    clean = float((model(x).argmax(dim=1) != y).double().mean())
    for direction in ("gradient", "random", "either"):
        assert at[(0.0, direction)] == pytest.approx(clean)
    for deg in (3.0, 8.0):
        # "either": wrong when a turn of deg either way fools the model, counted here apart
        with torch.no_grad():
            fooled = [
                model(rotate(x, side * math.radians(deg))).argmax(dim=1) != y for side in (1, -1)
            ]
        either = float((fooled[0] | fooled[1]).double().mean())
        assert at[(deg, "either")] == pytest.approx(either)
        assert at[(deg, "either")] >= max(at[(deg, "gradient")], at[(deg, "random")])
        assert at[(deg, "either")] > clean
    picked = curve[curve["direction"] != "gradient"]["picked"]
    assert picked.isna().all()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x, y, m: rotate(x[:, :100], 0.1), "784"),
        (lambda x, y, m: rotate(x, torch.zeros(3)), "theta"),
        (lambda x, y, m: rotate(x, float("nan")), "finite"),
        (lambda x, y, m: rotation_attack(m, x, y, -1.0), "degrees"),
        (lambda x, y, m: rotation_attack(m, x, y, 2.0, direction="up"), "direction"),
        (lambda x, y, m: rotation_gradient(m, x, y[:3]), "y"),
    ],
)
def test_arguments_are_checked_with_a_clear_message(digits, model, call, message):
    x, y = digits
    with pytest.raises((ValueError, TypeError), match=message):
        call(x, y, model)


def test_autograd_at_exactly_zero_would_be_one_sided(digits, model):
    """Why rotation_gradient does not simply differentiate at 0: there the bilinear kink makes
    autograd's answer one of the two one-sided slopes, not their mean."""
    x, y = digits
    theta = torch.zeros(len(y), dtype=x.dtype, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(model(rotate(x, theta)), y, reduction="sum")
    (at_zero,) = torch.autograd.grad(loss, theta)
    assert not torch.allclose(at_zero, rotation_gradient(model, x, y), rtol=1e-2)
