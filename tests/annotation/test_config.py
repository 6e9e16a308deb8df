"""The labeling config and the suggester's predictions, checked by the SDK's LabelInterface
(no server: the server's own validation is in test_loop.py)."""

from __future__ import annotations

import pytest

from annotation.config import (
    ERROR_TYPES,
    NOT_AN_ERROR,
    REGION_LABELS,
    check_prediction,
    label_config,
    parse_config,
    task_data,
)
from annotation.errors import LabelConfigError
from annotation.push import task_for
from annotation.sample import sample_feedback
from annotation.suggester import prediction, suggest


def test_config_parses_with_the_values_sync_reads() -> None:
    interface = parse_config(label_config())
    error_type = interface.get_control("error_type")
    assert error_type.labels == [*ERROR_TYPES, NOT_AN_ERROR]
    assert error_type.to_name == ["answer"]
    assert interface.get_control("regions").labels == list(REGION_LABELS)
    # every $variable of the config is a key of the task data
    record = sample_feedback(1, seed=1, negative_share=1.0)[0]
    data = task_data({**record, "feedback_id": record["id"]})
    for obj in interface.objects:
        assert obj.value_name in data


def test_broken_config_is_refused_locally() -> None:
    broken = label_config().replace('toName="page"', 'toName="no-such-object"')
    with pytest.raises(LabelConfigError, match="no-such-object"):
        parse_config(broken)
    with pytest.raises(LabelConfigError):
        parse_config("<View><Choices")


def test_suggester_predictions_fit_the_config() -> None:
    for record in sample_feedback(40, seed=3, negative_share=1.0):
        task = task_for({**record, "feedback_id": record["id"]})
        check_prediction(task["predictions"][0])
    wrong = prediction(suggest("q", "a", []))
    wrong["result"][0]["value"]["choices"] = ["typo"]
    with pytest.raises(LabelConfigError, match="typo"):
        check_prediction(wrong)
