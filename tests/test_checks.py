"""advlib.checks: what the shared argument checks accept and how they convert it. (The bad
inputs of every public function, and the errors they get, are tried in test_bad_inputs.py.)"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch
import torch.nn as nn

from advlib import attacks
from advlib.checks import (
    as_labels,
    as_model_inputs,
    as_tensor,
    check_choice,
    check_clip,
    check_eps,
    check_finite_model,
    check_folder,
    check_real,
    check_scores,
    check_seed,
    resolve_device,
)

N, D, K = 5, 12, 4


def test_numbers_of_any_kind_become_python_floats():
    for eps in (0, np.float32(0.25), np.int64(2), torch.tensor(0.5), np.array(0.125)):
        checked = check_eps(eps, where="t")
        assert type(checked) is float and checked == float(eps)


def test_a_per_example_eps_passes_in_its_own_library_and_scalar_mode_refuses_it():
    e = np.array([0.0, 0.1])
    assert check_eps(e, where="t", n=2) is e  # no copy of a batch-sized vector
    with pytest.raises(TypeError, match=r"t: eps must be one number"):
        check_eps(e, where="t", scalar=True)


def test_clip_ranges_become_float_pairs():
    assert check_clip([0, 255], where="t") == (0.0, 255.0)
    assert check_clip(None, where="t") is None


def test_choices_compare_type_and_value():
    """1.0 is not the choice 1, True is not 1, and an array is an error, not a broadcast."""
    assert check_choice(1, where="t", name="layer", allowed=(1, 2)) == 1
    for bad in (1.0, True, np.array([1, 2])):
        with pytest.raises(ValueError, match=r"t: layer must be one of 1, 2; got"):
            check_choice(bad, where="t", name="layer", allowed=(1, 2))


def test_seeds_cover_what_numpy_and_torch_accept():
    assert check_seed(2**63 - 1, where="t") == 2**63 - 1
    assert check_seed(np.int64(7), where="t") == 7
    with pytest.raises(ValueError, match=r"below|\[0, 2\*\*63\)"):
        check_seed(2**63, where="t")


def test_check_real_open_and_closed_ends():
    assert check_real(1.0, where="t", name="p", low=0, high=1) == 1.0
    with pytest.raises(ValueError, match=r"p must be a finite number in \[0, 1\)"):
        check_real(1.0, where="t", name="p", low=0, high=1, open_high=True)


def test_numpy_arrays_become_tensors_that_share_their_memory():
    a = np.zeros((3, 4), np.float32)
    t = as_tensor(a, where="t")
    a[0, 0] = 7.0  # the tensor sees it: no copy was made
    assert t[0, 0].item() == 7.0


def test_labels_must_be_int64_and_numpy_ones_are_converted():
    y = as_labels(np.array([0, 3, 1]), where="t", n=3, num_classes=4)
    assert y.dtype == torch.int64 and y.tolist() == [0, 3, 1]
    with pytest.raises(TypeError, match=r"y must hold int64 class labels, got dtype torch\.int32"):
        as_labels(torch.tensor([0, 1], dtype=torch.int32), where="t", n=2, num_classes=4)


def test_model_inputs_follow_the_models_dtype_and_device():
    model = nn.Linear(D, K).double()
    model.in_features, model.num_classes = D, K
    x, y = as_model_inputs(model, np.random.rand(N, D), np.arange(N) % K, where="t")
    assert x.dtype == torch.float64 and y.dtype == torch.int64 and x.device == y.device
    with pytest.raises(
        TypeError,
        match=r"x has dtype torch\.float32 but the model's weights "
        r"are torch\.float64",
    ):
        as_model_inputs(model, torch.rand(N, D), where="t")
    with pytest.raises(
        ValueError,
        match=r"y holds 1 distinct class\(es\); training needs at "
        r"least 2",
    ):
        as_model_inputs(
            model,
            torch.rand(N, D).double(),
            torch.zeros(N, dtype=torch.int64),
            where="t",
            classes=2,
        )


def test_a_model_on_another_device_than_x_is_named():
    """The meta device stands in for a GPU: x on the CPU, the model elsewhere."""
    model = nn.Linear(D, K).to("meta")
    model.in_features, model.num_classes = D, K
    with pytest.raises(ValueError, match=r"fgsm: x is on cpu but the model on meta"):
        attacks.fgsm(model, torch.rand(N, D), torch.zeros(N, dtype=torch.int64), 0.1)


def test_scores_must_fit_the_labels():
    check_scores(torch.zeros(N, K), where="t", n=N, top_label=K - 1)
    with pytest.raises(ValueError, match=r"returns 4 scores per example, but y holds the label 4"):
        check_scores(torch.zeros(N, K), where="t", n=N, top_label=K)


def test_a_model_with_a_nan_weight_is_named_by_its_parameter():
    model = nn.Sequential(nn.Linear(D, 3), nn.Linear(3, K))
    with torch.no_grad():
        model[1].bias[2] = math.inf
    with pytest.raises(ValueError, match=r"1\.bias holds NaN or inf"):
        check_finite_model(model, where="t")


def test_folders_are_created_on_request_and_files_refused(tmp_path):
    made = check_folder(tmp_path / "a" / "b", where="t", name="$X", create=True)
    assert made.is_dir()
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match=r"\$X names .*f, which is a file; it must be a folder"):
        check_folder(tmp_path / "f", where="t", name="$X")
    if os.geteuid() != 0:  # root reads every folder
        locked = tmp_path / "locked"
        locked.mkdir(mode=0)
        with pytest.raises(ValueError, match="cannot be read"):
            check_folder(locked, where="t", name="$X")


def test_auto_device_is_the_cpu_without_a_gpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto", where="t").type == expected
    assert resolve_device(torch.device("cpu"), where="t").type == "cpu"


def test_models_without_declared_sizes_are_checked_against_their_output():
    """A plain nn.Module (no in_features/num_classes) is attacked; its labels are checked
    against the scores it returns."""
    model = nn.Sequential(nn.Linear(D, 8), nn.ReLU(), nn.Linear(8, K))
    x, y = torch.rand(N, D), torch.tensor([0, 1, 2, 3, 0])
    assert attacks.fgsm(model, x, y, 0.1).shape == x.shape
    with pytest.raises(ValueError, match=r"labels >= 0"):
        attacks.fgsm(model, x, torch.tensor([-1, 1, 2, 3, 0]), 0.1)
    with pytest.raises(
        ValueError,
        match=r"the model returns 4 scores per example, but y holds "
        r"the label 7",
    ):
        attacks.fgsm(model, x, torch.tensor([0, 1, 2, 3, 7]), 0.1)
