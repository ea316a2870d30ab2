"""The docstring examples of the top-k, regression, R2, correlation, hinge, IoU and torchmetrics-adapter modules run."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "topk_metrics",
        "regression_metrics",
        "r2_metrics",
        "correlation_metrics",
        "hinge_metrics",
        "iou_metrics",
        "torchmetrics_adapter",
    ],
)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(f"ember.metrics.{module}"))
    assert result.attempted > 0
    assert result.failed == 0
