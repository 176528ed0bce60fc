"""Form submissions are validated on the server as form-js would: one problem per field."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInputError
from engine.forms import validate_submission

FORM = {"components": [
    {"type": "checkbox", "key": "reminder_ack", "label": "Gelezen", "validate": {"required": True},
     "properties": {"categorie": "procesgegevens"}},
    {"type": "checkbox", "key": "optioneel", "label": "Optioneel", "properties": {"categorie": "procesgegevens"}},
]}


def test_a_required_checkbox_must_be_checked():
    with pytest.raises(InvalidInputError) as caught:
        validate_submission(FORM, {"reminder_ack": False})

    assert [p.element for p in caught.value.problems] == ["data.reminder_ack"]


def test_a_required_checkbox_that_is_checked_and_an_unchecked_optional_one_pass():
    assert validate_submission(FORM, {"reminder_ack": True, "optioneel": False}) == \
        {"reminder_ack": True, "optioneel": False}


def test_a_missing_required_checkbox_is_refused_at_the_field():
    with pytest.raises(InvalidInputError) as caught:
        validate_submission(FORM, {"optioneel": True})

    assert [p.element for p in caught.value.problems] == ["data.reminder_ack"]
