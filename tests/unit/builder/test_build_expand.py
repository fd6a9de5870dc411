"""Variable expansion with Docker's word rules."""

from __future__ import annotations

import pytest

from dockwright.builder.expand import expand_word, expand_words
from dockwright.errors import InvalidParameter

pytestmark = pytest.mark.unit
ENV = {"A": "a", "EMPTY": "", "SP": "x y"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$A", "a"),
        ("${A}b", "ab"),
        ("$Ab", ""),
        ("${MISSING}", ""),
        ("${MISSING:-def}", "def"),
        ("${EMPTY:-def}", "def"),
        ("${EMPTY-def}", ""),
        ("${MISSING-def}", "def"),
        ("${A:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${MISSING:-$A}", "a"),
        ("'$A'", "$A"),
        ('"$A b"', "a b"),
        ("\\$A", "$A"),
        ('"\\$A"', "$A"),
        ("a\\ b", "a b"),
        ("$", "$"),
        ("cost: 5$", "cost: 5$"),
    ],
)
def test_expand_word(text, expected):
    assert expand_word(text, ENV) == expected


def test_words_split_on_unquoted_space_only():
    assert expand_words("k=$SP q=\"1 2\" 'r s'", ENV) == ["k=x y", "q=1 2", "r s"]


def test_backtick_escape():
    assert expand_word("C:\\dir `$A", ENV, escape="`") == "C:\\dir $A"


@pytest.mark.parametrize("text", ["${A", "'open", '"open', "${A:?must be set}x${MISSING:?gone}"])
def test_errors(text):
    with pytest.raises(InvalidParameter):
        expand_word(text, ENV)


def test_required_variable_message():
    with pytest.raises(InvalidParameter, match="MISSING: gone"):
        expand_word("${MISSING:?gone}", ENV)
