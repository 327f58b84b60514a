"""The chapter figures of advlib.book.charts: what each chart draws, from its Vega-Lite spec."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advlib.book import charts


def spec(chart):
    return chart.to_dict()


def data_of(chart):
    s = spec(chart)
    return pd.DataFrame(next(iter(s["datasets"].values())))


def test_line_chart_draws_one_line_per_column_on_log_axes():
    df = pd.DataFrame(
        {"n": [10, 100, 1000], "change": [2.0, 20.0, 200.0], "max-norm": [0.25, 0.25, 0.25]}
    )
    chart = charts.line_chart(df, x="n", y=["change", "max-norm"], log=True, title="t")
    s = spec(chart)
    assert s["encoding"]["x"]["scale"]["type"] == "log"
    assert s["encoding"]["y"]["scale"]["type"] == "log"
    assert s["encoding"]["color"]["field"] == "quantity"
    long = data_of(chart)
    assert len(long) == 6 and set(long["quantity"]) == {"change", "max-norm"}
    assert {t["field"] for t in s["encoding"]["tooltip"]} == {"n", "quantity", "value"}


def test_line_chart_steps_and_formats_one_column():
    df = pd.DataFrame({"eps": [0.0, 0.5, 1.0], "share": [0.0, 0.0, 0.99]})
    s = spec(charts.line_chart(df, x="eps", y="share", step=True, y_format=".0%"))
    assert s["mark"]["interpolate"] == "step-after" and s["mark"]["point"] is True
    assert s["encoding"]["y"]["axis"]["format"] == ".0%"
    assert "scale" not in s["encoding"]["x"]
    with pytest.raises(ValueError, match="no column"):
        charts.line_chart(df, x="eps", y="missing")


def test_logistic_digits_draws_the_weights_and_the_digits_the_model_gets_wrong():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(784)
    x = rng.uniform(0, 1, (12, 784))
    y = np.where(np.arange(12) < 6, -1, 1)
    chart = charts.logistic_digits((w, 0.0), x, y, 0.25, negative=3, positive=7, shown=5)
    s = spec(chart)
    weights, digits = s["vconcat"]
    digit_rows = pd.DataFrame(s["datasets"][digits["layer"][0]["data"]["name"]])
    assert len(digit_rows) == 20  # 5 of each label, clean and adversarial
    assert set(digit_rows["true class"]) == {"3", "7"}
    # the adversarial row is x − eps·y·sign(w): captions follow the closed-form prediction
    adv = x[:5] + 0.25 * np.sign(w)
    p = 1 / (1 + np.exp(-(adv @ w)))
    expected = np.where(p >= 0.5, "7", "3")
    assert digit_rows["predicted"].iloc[10:15].tolist() == expected.tolist()


def test_penalty_chart_has_the_coefficient_and_the_penalty_panel():
    curves = pd.DataFrame(
        {
            "objective": ["adversarial", "L1 decay"] * 2,
            "eps": ["0.1"] * 4,
            "epoch": [1, 1, 2, 2],
            "L1 coefficient / eps": [0.8, 1, 0.3, 1],
            "penalty added to the loss": [0.1, 0.2, 0.05, 0.2],
        }
    )
    s = spec(charts.penalty_chart(curves))
    assert len(s["hconcat"]) == 2
    fields = [panel["layer"][0]["encoding"]["y"]["field"] for panel in s["hconcat"]]
    assert fields == ["L1 coefficient / eps", "penalty added to the loss"]
    with pytest.raises(ValueError, match="no column"):
        charts.penalty_chart(curves.drop(columns="epoch"))


def test_logit_panel_bands_the_eps_where_the_input_is_right():
    eps = np.linspace(-1, 1, 5)
    scores = np.array([[0, 1], [0, 1], [1, 0], [1, 0], [0, 1]], dtype=float)  # right at 2, 3
    s = spec(charts.logit_panel(eps, scores, 0, fitted=scores, title="t"))
    band = next(layer for layer in s["layer"] if layer["mark"]["type"] == "rect")
    runs = pd.DataFrame(s["datasets"][band["data"]["name"]])
    assert runs[["start", "end"]].values.tolist() == [[0.0, 0.5]]
    assert len(s["layer"]) == 4  # band, logits, fit, points
    figure = spec(charts.fgsm_line_figure(eps, scores, eps / 4, scores, 0, title="both"))
    assert len(figure["hconcat"]) == 2 and figure["title"] == "both"


def test_paper_bars_take_a_dict_of_sources_and_draw_a_chance_line():
    chart = charts.paper_bars(
        {"paper": {"a": 0.5, "b": 0.2}, "ours": {"a": 0.4, "b": 0.3}},
        category="rate",
        x_title="rate",
        title="t",
        chance=(1 / 9, "random"),
    )
    s = spec(chart)
    bars = pd.DataFrame(s["datasets"][s["layer"][0]["data"]["name"]])
    assert sorted(map(tuple, bars[["rate", "source"]].values)) == [
        ("a", "ours"),
        ("a", "paper"),
        ("b", "ours"),
        ("b", "paper"),
    ]
    assert s["layer"][1]["mark"]["type"] == "rule"
    by_model = spec(
        charts.paper_bars(
            bars.rename(columns={"rate": "model"}),
            category="model",
            x_title="x",
            title="t",
            by_model=True,
        )
    )
    assert "opacity" in by_model["layer"][0]["encoding"]


def test_histograms_and_class_shares_take_the_chapters_tables():
    s = spec(charts.histograms({"clean": np.zeros(3), "FGSM": np.ones(2)}, x_title="log p"))
    values = pd.DataFrame(next(iter(s["datasets"].values())))
    assert values.groupby("data")["value"].sum().to_dict() == {"FGSM": 2.0, "clean": 0.0}
    classes = pd.DataFrame(
        {
            "model": ["m"] * 2 + ["n"] * 2,
            "class": [0, 1, 0, 1],
            "count": [3, 1, 0, 0],
            "share": [0.75, 0.25, 0.0, 0.0],
        }
    )
    facet = spec(charts.class_shares(classes, ["m"]))
    kept = pd.DataFrame(next(iter(facet["datasets"].values())))
    assert set(kept["model"]) == {"m"} and facet["columns"] == 2
