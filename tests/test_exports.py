"""CSV cells that a spreadsheet would run as formulas are written inert (issue 9)."""

import pytest

from cohorte.core.exports import csv_lines, neutralise


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        "+33 6 12 34 56 78 =1",
        "-2+3",
        "@SUM(A1)",
        "|calc",
        "%0A=1",
        "\t=1",
        "\r=1",
        ' =HYPERLINK("http://evil")',
        "   @SUM(A1)",
        "\n=1+1",
        "\r\n+1",
        "\u00a0=1",  # no-break space
        "\u3000=1",  # ideographic space
        "\u200b=1",  # zero-width space
        "\ufeff=1",  # a stray byte-order mark
        "＝1+1",  # full-width equals
        "＋1",
        "－1+2",
        "＠SUM(A1)",
        " ＝1",
        "﹦1",  # small equals sign
    ],
)
def test_what_a_spreadsheet_would_run_is_quoted(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell", ["Marc", "-12", "3,5", "-1.5", "a=b", "Jean-Marc", "", " hello", "100 %"]
)
def test_ordinary_text_and_plain_numbers_stay_as_they_are(cell):
    assert neutralise(cell) == cell


def test_numbers_and_none_are_written_plainly():
    assert neutralise(-5) == "-5"
    assert neutralise(None) == ""
    assert neutralise(True) == "1"


def test_the_csv_holds_the_quoted_cells():
    text = "".join(csv_lines(["nom"], [["\n=1+1"], ["＝2"]], ";"))
    assert '"\'\n=1+1"' in text and "'＝2" in text
