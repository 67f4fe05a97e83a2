"""Charts drawn on the server as inline SVG: no script, so they work inside an htmx swap,
print as they show, and go into WeasyPrint's PDFs as they are.

Two charts, each an object computed here (every coordinate and every printed number
already a string, numbers in the viewer's language) and drawn by a template partial that
takes it as ``chart``::

    from cohorte.reports.charts import monthly_chart, ratings_chart
    from cohorte.reports.rollups import monthly_rows
    from cohorte.reports.tab_selectors import rating_counts

    context["activity_chart"] = monthly_chart(monthly_rows(program), chart_id="home-activity")
    context["ratings_chart"] = ratings_chart(rating_counts(program=program))

    {% include "reports/_chart_monthly.html" with chart=activity_chart %}
    {% include "reports/_chart_ratings.html" with chart=ratings_chart %}

- ``monthly_chart(rows)``: one bar per month stacked by kind (sign-ins, messages, meetings
  held), from rows with ``month``, ``sign_ins``, ``messages``, ``meetings_held`` (the
  ``MonthRow`` of reports/rollups.py), with axes, a legend and a scale that starts at 0;
- ``ratings_chart(counts)``: the evaluations' ratings 1–5 as horizontal bars, from
  ``{rating: count}``.

Each is ``role="img"`` with a ``<title>`` and a ``<desc>`` (a sentence of its totals) and
has its figures as a table in a ``<details>`` under it, for screen readers and for anyone
who wants the numbers. Give each chart on a page its own ``chart_id``. With no data the
partial says so instead of drawing empty axes.

Colours are the house's (static/css/cohorte.css) written as plain hex fills, since an SVG
in a PDF knows no CSS variables: --brand-primary, --orange-icon and --brand-secondary,
three lightnesses apart so a black-and-white print still tells them apart, with a white
line between stacked parts.
"""

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Protocol

from django.utils import formats
from django.utils.translation import gettext as _

PRIMARY = "#2f5bd3"  # --brand-primary
ORANGE = "#e8710a"  # --orange-icon
NAVY = "#1f2a44"  # --brand-secondary
INK = "#1d2433"  # --ink
MUTED = "#545d6e"  # --muted
LINE = "#dfe3ea"  # --line
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"


class MonthFigures(Protocol):
    @property
    def month(self) -> dt.date: ...
    @property
    def sign_ins(self) -> int: ...
    @property
    def messages(self) -> int: ...
    @property
    def meetings_held(self) -> int: ...


def number(value: float) -> str:
    """A count as the viewer reads numbers (« 1 234 » in French, « 1,234 » in English)."""
    return formats.number_format(value, use_l10n=True, force_grouping=True)


def _xy(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_scale(largest: int, steps: int = 4) -> tuple[int, int]:
    """(top of the axis, step between ticks): whole numbers of 1, 2 or 5 × 10ⁿ, the top at
    or above the largest value, so ticks read as round figures."""
    if largest <= 0:
        return steps, 1
    raw = largest / steps
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(int(step), 1)
    return step * math.ceil(largest / step), step


@dataclasses.dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str


@dataclasses.dataclass(frozen=True)
class Segment:
    key: str
    label: str
    colour: str
    value: int
    shown: str  # the value as printed
    x: str
    y: str
    width: str
    height: str
    tooltip: str


@dataclasses.dataclass(frozen=True)
class MonthBar:
    month: str  # AAAA-MM, for data-month
    label: str
    year: str  # under the first bar and each January
    label_x: str
    total: int
    segments: list[Segment]


@dataclasses.dataclass(frozen=True)
class Tick:
    label: str
    y: str


@dataclasses.dataclass(frozen=True)
class LegendItem:
    label: str
    colour: str
    x: str
    text_x: str


@dataclasses.dataclass(frozen=True)
class TableRow:
    label: str
    cells: list[str]


@dataclasses.dataclass(frozen=True)
class MonthlyChart:
    id: str
    title: str
    description: str
    empty: bool
    width: str
    height: str
    plot_left: str
    plot_right: str
    plot_top: str
    baseline: str
    x_label: str
    x_label_x: str
    x_label_y: str
    y_label: str
    y_label_x: str
    y_label_y: str
    legend_y: str
    legend_text_y: str
    series: list[Series]
    legend: list[LegendItem]
    ticks: list[Tick]
    bars: list[MonthBar]
    table_header: list[str]
    table_rows: list[TableRow]


def monthly_series() -> list[Series]:
    return [
        Series("sign_ins", _("Connexions"), PRIMARY),
        Series("messages", _("Messages"), ORANGE),
        Series("meetings_held", _("Séances tenues"), NAVY),
    ]


PLOT_HEIGHT = 200
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 44, 56


def monthly_chart(
    rows: Sequence[MonthFigures], *, chart_id: str = "chart-monthly", title: str | None = None
) -> MonthlyChart:
    """The stacked bars of `rows` (one a month, in order): heights in proportion to the
    values on a scale from 0 to a round top."""
    series = monthly_series()
    title = title or _("Activité par mois")
    count = len(rows)
    slot = max(24.0, min(64.0, 640 / max(count, 1)))
    bar_width = slot * 0.64
    plot_width = slot * max(count, 1)
    width = LEFT + plot_width + RIGHT
    height = TOP + PLOT_HEIGHT + BOTTOM
    baseline = TOP + PLOT_HEIGHT
    totals = [sum(getattr(row, s.key) for s in series) for row in rows]
    top, step = nice_scale(max(totals, default=0))
    bars: list[MonthBar] = []
    for index, row in enumerate(rows):
        x = LEFT + slot * index + (slot - bar_width) / 2
        month_name = formats.date_format(row.month, "YEAR_MONTH_FORMAT", use_l10n=True)
        stacked = 0.0
        segments = []
        for s in series:
            value = getattr(row, s.key)
            if value <= 0:
                continue
            part = value / top * PLOT_HEIGHT
            stacked += part
            shown = number(value)
            segments.append(
                Segment(
                    key=s.key,
                    label=s.label,
                    colour=s.colour,
                    value=value,
                    shown=shown,
                    x=_xy(x),
                    y=_xy(baseline - stacked),
                    width=_xy(bar_width),
                    height=_xy(part),
                    tooltip=_("%(month)s — %(kind)s : %(value)s")
                    % {"month": month_name, "kind": s.label, "value": shown},
                )
            )
        bars.append(
            MonthBar(
                month=row.month.strftime("%Y-%m"),
                label=formats.date_format(row.month, "M", use_l10n=True),
                year=str(row.month.year) if index == 0 or row.month.month == 1 else "",
                label_x=_xy(LEFT + slot * index + slot / 2),
                total=totals[index],
                segments=segments,
            )
        )
    ticks = [
        Tick(label=number(value), y=_xy(baseline - value / top * PLOT_HEIGHT))
        for value in range(0, top + 1, step)
    ]
    legend, x = [], float(LEFT)
    for s in series:
        legend.append(LegendItem(label=s.label, colour=s.colour, x=_xy(x), text_x=_xy(x + 16)))
        x += 22 + 7.5 * len(s.label)
    width = max(width, x + RIGHT)  # the legend fits, however few the months
    sums = [sum(getattr(row, s.key) for row in rows) for s in series]
    if rows:
        first = formats.date_format(rows[0].month, "YEAR_MONTH_FORMAT", use_l10n=True)
        last = formats.date_format(rows[-1].month, "YEAR_MONTH_FORMAT", use_l10n=True)
        description = _(
            "De %(first)s à %(last)s : %(sign_ins)s connexions, %(messages)s messages et "
            "%(held)s séances tenues, empilés par mois."
        ) % {
            "first": first,
            "last": last,
            "sign_ins": number(sums[0]),
            "messages": number(sums[1]),
            "held": number(sums[2]),
        }
    else:
        description = _("Aucun mois à montrer.")
    return MonthlyChart(
        id=chart_id,
        title=title,
        description=description,
        empty=not rows,
        width=_xy(width),
        height=_xy(height),
        plot_left=_xy(LEFT),
        plot_right=_xy(LEFT + plot_width),
        plot_top=_xy(TOP),
        baseline=_xy(baseline),
        x_label=_("Mois"),
        x_label_x=_xy(LEFT + plot_width / 2),
        x_label_y=_xy(height - 6),
        y_label=_("Nombre"),
        y_label_x=_xy(14),
        y_label_y=_xy(TOP + PLOT_HEIGHT / 2),
        legend_y=_xy(12),
        legend_text_y=_xy(22),
        series=series,
        legend=legend,
        ticks=ticks,
        bars=bars,
        table_header=[_("Mois"), *(s.label for s in series), _("Total")],
        table_rows=[
            TableRow(
                label=formats.date_format(row.month, "YEAR_MONTH_FORMAT", use_l10n=True),
                cells=[number(getattr(row, s.key)) for s in series] + [number(totals[i])],
            )
            for i, row in enumerate(rows)
        ],
    )


# --- Ratings --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RatingBar:
    rating: int
    label: str
    count: int
    share: str  # « 40 % »
    shown: str  # « 12 (40 %) »
    y: str
    text_y: str
    width: str
    value_x: str


@dataclasses.dataclass(frozen=True)
class RatingsChart:
    id: str
    title: str
    description: str
    empty: bool
    total: int
    width: str
    height: str
    bar_left: str
    bar_height: str
    label_x: str
    colour: str
    bars: list[RatingBar]
    table_header: list[str]
    table_rows: list[TableRow]


RATING_ROW = 30
RATING_LEFT = 72
RATING_SPAN = 320


def ratings_chart(
    counts: Mapping[int, int], *, chart_id: str = "chart-ratings", title: str | None = None
) -> RatingsChart:
    """Ratings 5 to 1, one horizontal bar each, lengths in proportion to their counts."""
    title = title or _("Notes des évaluations")
    total = sum(counts.get(r, 0) for r in range(1, 6))
    largest = max((counts.get(r, 0) for r in range(1, 6)), default=0)
    bars = []
    for index, rating in enumerate(range(5, 0, -1)):
        count = counts.get(rating, 0)
        length = count / largest * RATING_SPAN if largest else 0.0
        share = _("%(n)s %%") % {"n": number(round(100 * count / total) if total else 0)}
        y = 8 + index * RATING_ROW
        bars.append(
            RatingBar(
                rating=rating,
                label=_("%(n)s sur 5") % {"n": rating},
                count=count,
                share=share,
                shown=f"{number(count)} ({share})",
                y=_xy(y),
                text_y=_xy(y + 15),
                width=_xy(length),
                value_x=_xy(RATING_LEFT + length + 6),
            )
        )
    if total:
        average = sum(r * counts.get(r, 0) for r in range(1, 6)) / total
        description = _(
            "%(total)s évaluations notées, note moyenne %(average)s sur 5 ; de 5 à 1 : %(counts)s."
        ) % {
            "total": number(total),
            "average": formats.number_format(round(average, 1), 1, use_l10n=True),
            "counts": ", ".join(number(counts.get(r, 0)) for r in range(5, 0, -1)),
        }
    else:
        description = _("Aucune évaluation notée.")
    return RatingsChart(
        id=chart_id,
        title=title,
        description=description,
        empty=total == 0,
        total=total,
        width=_xy(RATING_LEFT + RATING_SPAN + 96),
        height=_xy(16 + 5 * RATING_ROW),
        bar_left=_xy(RATING_LEFT),
        bar_height=_xy(20),
        label_x=_xy(RATING_LEFT - 8),
        colour=PRIMARY,
        bars=bars,
        table_header=[_("Note"), _("Évaluations"), _("Part")],
        table_rows=[
            TableRow(label=bar.label, cells=[number(bar.count), bar.share]) for bar in bars
        ],
    )
