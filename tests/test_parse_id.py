"""One parser of database ids from user input (klaspoort.converters.parse_id), used by every
form and posted field: a bad id is "nothing chosen", never an error page."""

from __future__ import annotations

import pytest

from klaspoort.converters import MAX_ID, parse_id


@pytest.mark.parametrize("raw, expected", [
    ("42", 42), (" 42 ", 42), (7, 7), (str(MAX_ID), MAX_ID),
    ("0", None), ("-1", None), ("+1", None), ("1e3", None), ("4 2", None), ("abc", None),
    ("", None), (None, None), ("1 OR 1=1", None), (str(MAX_ID + 1), None), ("9" * 40, None),
    ("\u0664\u0662", None),  # Arabic-Indic digits: digits to Python, no id to a database
    ("42\x00", None),
])
def test_only_a_positive_whole_number_that_fits_a_key_is_an_id(raw, expected):
    assert parse_id(raw) == expected
