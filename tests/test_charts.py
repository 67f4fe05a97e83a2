"""The charts drawn on the server (reports/charts.py and its partials): a bar per month and
kind in proportion to the figures, the figures again as a table, zeros for empty months,
nothing broken by an empty programme."""

import datetime as dt
import io
import re
from xml.etree import ElementTree

from defusedxml.ElementTree import fromstring
from django.template.loader import render_to_string
from django.utils import translation

from cohorte.reports.charts import monthly_chart, nice_scale, ratings_chart
from cohorte.reports.rollups import MonthRow

SVG = "{http://www.w3.org/2000/svg}"


def rows() -> list[MonthRow]:
    return [
        MonthRow(month=dt.date(2026, 1, 1), sign_ins=40, messages=20, meetings_held=10),
        MonthRow(month=dt.date(2026, 2, 1)),  # nothing that month
        MonthRow(month=dt.date(2026, 3, 1), sign_ins=1200, messages=5, meetings_held=30),
    ]


def svg_of(html: str) -> ElementTree.Element:
    return fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))


def rects(svg: ElementTree.Element) -> dict[tuple[str, str], float]:
    """(month, kind) → the bar's height, from the drawing itself."""
    heights = {}
    for group in svg.iter(f"{SVG}g"):
        month = group.get("data-month")
        if month:
            for rect in group.iter(f"{SVG}rect"):
                heights[(month, rect.get("data-kind"))] = float(rect.get("height"))
    return heights


def table_rows(html: str) -> list[list[str]]:
    table = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>.*?</t[hd]>", tr)
        ]
        for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def test_a_bar_per_month_and_kind_in_proportion(db):
    with translation.override("fr"):
        html = render_to_string("reports/_chart_monthly.html", {"chart": monthly_chart(rows())})
    svg = svg_of(html)
    heights = rects(svg)
    kinds = ("sign_ins", "messages", "meetings_held")
    assert set(heights) == {(m, k) for m in ("2026-01", "2026-03") for k in kinds}
    values = {"2026-01": (40, 20, 10), "2026-03": (1200, 5, 30)}
    unit = heights[("2026-03", "sign_ins")] / 1200
    for month, figures in values.items():
        for kind, value in zip(kinds, figures, strict=True):
            assert abs(heights[(month, kind)] - value * unit) < 0.02
    # the scale's top is a round figure at or above the tallest bar (1,235)
    top, _step = nice_scale(1235)
    assert top >= 1235 and abs(unit * top - 200) < 0.02
    # stacked: each part starts where the one below ends
    by_kind = {
        r.get("data-kind"): r
        for g in svg.iter(f"{SVG}g")
        if g.get("data-month") == "2026-01"
        for r in g.iter(f"{SVG}rect")
    }
    bottom = float(by_kind["sign_ins"].get("y")) + float(by_kind["sign_ins"].get("height"))
    assert abs(float(by_kind["messages"].get("y")) + heights[("2026-01", "messages")]
               - float(by_kind["sign_ins"].get("y"))) < 0.02  # fmt: skip
    assert abs(bottom - 244) < 0.02  # the baseline


def test_the_chart_is_an_image_with_a_title_a_description_a_legend_and_axes(db):
    with translation.override("fr"):
        html = render_to_string("reports/_chart_monthly.html", {"chart": monthly_chart(rows())})
    svg = svg_of(html)
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title.text == "Activité par mois"
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "1 240 connexions" in desc.text.replace("\u202f", " ").replace("\xa0", " ")
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"Connexions", "Messages", "Séances tenues", "Mois", "Nombre"} <= set(texts)
    assert "2026" in texts and "0" in texts
    assert 'fill="var(' not in html  # plain colours: print and PDFs read them


def test_the_data_table_has_the_figures_and_zeros_for_empty_months(db):
    with translation.override("fr"):
        html = render_to_string("reports/_chart_monthly.html", {"chart": monthly_chart(rows())})
    assert "<details" in html
    table = [[c.replace("\u202f", " ").replace("\xa0", " ") for c in r] for r in table_rows(html)]
    assert table == [
        ["janvier 2026", "40", "20", "10", "70"],
        ["février 2026", "0", "0", "0", "0"],
        ["mars 2026", "1 200", "5", "30", "1 235"],
    ]


def test_numbers_follow_the_viewers_language(db):
    with translation.override("en"):
        html = render_to_string("reports/_chart_monthly.html", {"chart": monthly_chart(rows())})
    assert ["March 2026", "1,200", "5", "30", "1,235"] in table_rows(html)


def test_an_empty_programme_renders_without_error(db):
    with translation.override("fr"):  # the language it reads, whatever ran before
        html = render_to_string("reports/_chart_monthly.html", {"chart": monthly_chart([])})
        assert "<svg" not in html and "Pas encore d'activité" in html
        zeros = monthly_chart([MonthRow(month=dt.date(2026, 5, 1))])
        html = render_to_string("reports/_chart_monthly.html", {"chart": zeros})
        svg = svg_of(html)
        assert rects(svg) == {}
        assert table_rows(html) == [["mai 2026", "0", "0", "0", "0"]]
        html = render_to_string("reports/_chart_ratings.html", {"chart": ratings_chart({})})
        assert "<svg" not in html and "Aucune évaluation" in html


def test_the_ratings_are_horizontal_bars_in_proportion(db):
    chart = ratings_chart({5: 6, 4: 3, 1: 1})
    html = render_to_string("reports/_chart_ratings.html", {"chart": chart})
    svg = svg_of(html)
    widths = {
        int(g.get("data-rating")): float(g.find(f"{SVG}rect").get("width"))
        for g in svg.iter(f"{SVG}g")
        if g.get("data-rating")
    }
    assert widths[5] == 320 and widths[4] == 160 and widths[2] == 0
    assert abs(widths[1] - 320 / 6) < 0.02
    assert svg.get("role") == "img" and svg.find(f"{SVG}desc").text.startswith("10 évaluations")
    assert table_rows(html)[0] == ["5 sur 5", "6", "60 %"]
    assert table_rows(html)[3] == ["2 sur 5", "0", "0 %"]


def test_nice_scales():
    assert nice_scale(0) == (4, 1)
    assert nice_scale(3) == (3, 1)
    assert nice_scale(10) == (10, 5)
    top, step = nice_scale(1235)
    assert top % step == 0 and top >= 1235 and str(step)[0] in "125"


def test_the_charts_go_into_a_pdf(db):
    """WeasyPrint draws the inline SVG: its words come out of the PDF's text."""
    from pypdf import PdfReader
    from weasyprint import HTML

    with translation.override("fr"):
        monthly = render_to_string("reports/_chart_monthly.html", {"chart": monthly_chart(rows())})
        ratings = render_to_string(
            "reports/_chart_ratings.html", {"chart": ratings_chart({5: 2, 3: 1})}
        )
    pdf = HTML(string=f"<html><body>{monthly}{ratings}</body></html>").write_pdf()
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Connexions" in text and "Séances tenues" in text and "mars" in text
    assert "5 sur 5" in text
