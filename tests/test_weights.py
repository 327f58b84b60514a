"""advlib.weights: how localised weight images are (claim C20)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from advlib.weights import energy_share, localisation, spread, top_share, weight_images


def test_a_single_pixel_is_fully_localised():
    w = np.zeros((2, 784))
    w[0, 300] = 1.5
    w[1, 0] = -0.2  # the sign does not matter
    assert top_share(w) == pytest.approx([1.0, 1.0])
    assert spread(w) == pytest.approx([0.0, 0.0])


def test_position_independent_weights_are_spread_out():
    w = np.random.default_rng(0).uniform(-1, 1, (500, 784))
    # |w| uniform: the top 10% of pixels hold 1 - .9³ = .271 of the energy
    assert top_share(w, 0.1).mean() == pytest.approx(0.271, abs=0.01)
    # even energy over 28 x 28: RMS distance sqrt(2 (28² - 1) / 12) = 11.42
    assert spread(np.ones((1, 784)))[0] == pytest.approx(np.sqrt(2 * 783 / 12))
    assert spread(w).mean() == pytest.approx(11.42, abs=0.1)


def test_a_blob_is_more_localised_than_noise():
    rows, cols = np.divmod(np.arange(784), 28)
    blob = np.exp(-((rows - 10) ** 2 + (cols - 17) ** 2) / (2 * 2.0**2))[None]
    noise = np.random.default_rng(1).standard_normal((1, 784))
    assert top_share(blob)[0] > 0.9 > top_share(noise)[0]
    # energy blob² is a Gaussian of sd 2/√2 per axis: RMS distance √2 · 2/√2 = 2
    assert spread(blob)[0] == pytest.approx(2.0, rel=0.01)
    summary = localisation(np.vstack([blob, noise]))  # the mean over the two units
    assert top_share(noise)[0] < summary["top_share"] < top_share(blob)[0]
    assert 2.0 < summary["spread"] < spread(noise)[0]


def test_weight_images_reads_a_linear_layer_and_checks_shapes():
    layer = torch.nn.Linear(784, 3)
    assert weight_images(layer).shape == (3, 784)
    with pytest.raises(ValueError, match="784"):
        weight_images(np.zeros((3, 100)))
    with pytest.raises(ValueError, match="must be finite"):
        weight_images(np.full((3, 784), np.nan))
    with pytest.raises(ValueError, match="fraction"):
        top_share(np.ones((1, 784)), 0.0)


def test_energy_share_on_chosen_pixels():
    w = np.zeros((2, 784))
    w[0, :392] = 1.0
    w[1, 392:] = 2.0
    left = np.arange(784) < 392
    assert energy_share(w, left) == pytest.approx([1.0, 0.0])
    assert energy_share(np.ones((1, 784)), left)[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="mask"):
        energy_share(w, left[:100])
