"""The tickets service's rules, without a database or a broker."""
from services.tickets import rules


def test_titles_are_one_line_with_single_spaces():
    assert rules.tidy_title("  two\n words  ") == "two words"
