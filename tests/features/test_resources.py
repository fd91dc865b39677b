"""The study resources."""

from __future__ import annotations

from tests.helpers import Chat


def test_resources_all_and_by_area(alice: Chat) -> None:
    text = alice.send("/study resources").plain_text()
    assert "Official documentation" in text and "Databricks Academy" in text
    assert "MLflow documentation" in alice.send("/study resources mlflow").plain_text()
    assert "Unknown study area" in alice.send("/study resources cooking").plain_text()
