"""The chapter figures of advlib.book.charts: what each chart draws, from its Vega-Lite spec."""

from __future__ import annotations

import pandas as pd
import pytest

from advlib.book import charts


def spec(chart):
    return chart.to_dict()


def data_of(chart):
    s = spec(chart)
    return pd.DataFrame(next(iter(s["datasets"].values())))


def test_line_chart_draws_one_line_per_column_on_log_axes():
    df = pd.DataFrame({"n": [10, 100, 1000], "change": [2.0, 20.0, 200.0],
                       "max-norm": [0.25, 0.25, 0.25]})
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
