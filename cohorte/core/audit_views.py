"""« Journal d'audit »: every destructive or sensitive action of the organisation — who,
when, what — for its administrators only (everyone else gets the 404 the rest of the app
gives), filtered, a page at a time, and as a CSV."""

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .audit import log_action
from .exports import csv_response
from .parse import ParseError, parse_date, zone_or_default
from .selectors import (
    AuditFilters,
    audit_csv_rows,
    audit_entries,
    audit_lines,
    audit_page,
    day_bounds,
    group_choices,
    parse_cursor,
)

PAGE_SIZE = 50


class DayField(forms.DateField):
    """A date typed AAAA-MM-JJ within this century (core.parse), else a form error."""

    widget = forms.DateInput(attrs={"type": "date"})

    def to_python(self, value: Any) -> dt.date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.date):
            return value
        try:
            return parse_date(value)
        except ParseError as error:
            raise ValidationError(error.message, code=error.code) from error


class AuditFilterForm(forms.Form):
    """The audit page's filters, read strictly from the URL."""

    action = forms.ChoiceField(label=gettext_lazy("Actions"), required=False, choices=())
    actor = forms.CharField(
        label=gettext_lazy("Qui"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": gettext_lazy("Nom, courriel ou « système »")}
        ),
    )
    target = forms.CharField(
        label=gettext_lazy("Quoi"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    start = DayField(label=gettext_lazy("Du"), required=False)
    end = DayField(label=gettext_lazy("Au"), required=False)
    after = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = group_choices()  # type: ignore[attr-defined]

    def clean_after(self) -> tuple[dt.datetime, int] | None:
        value = self.cleaned_data.get("after") or ""
        if not value:
            return None
        try:
            return parse_cursor(value)
        except ParseError as error:
            raise ValidationError(error.message, code=error.code) from error

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("La date de fin précède la date de début."))
        return data

    def filters(self, tz: dt.tzinfo) -> AuditFilters:
        data = self.cleaned_data
        start, end = day_bounds(data.get("start"), data.get("end"), tz)
        return AuditFilters(
            group=data.get("action") or "all",
            actor=data.get("actor") or "",
            target=data.get("target") or "",
            start=start,
            end=end,
        )

    def described(self) -> dict[str, str]:
        """The filters chosen, for the export's own audit entry."""
        data = self.cleaned_data
        return {
            key: (value.isoformat() if isinstance(value, dt.date) else str(value))
            for key, value in data.items()
            if value and key != "after"
        }


def _admin_organisation(request: HttpRequest) -> tuple[int, dt.tzinfo]:
    """The administrator's organisation and its time zone; anyone else: not found."""
    user: Any = request.user
    organisation = getattr(user, "organisation", None)
    if not getattr(user, "is_org_admin", False) or organisation is None:
        raise Http404("Administrators only.")
    return organisation.pk, zone_or_default(organisation.timezone, timezone.get_current_timezone())


@login_required
def audit_view(request: HttpRequest) -> HttpResponse:
    organisation_id, tz = _admin_organisation(request)
    form = AuditFilterForm(request.GET)
    lines: list = []
    next_cursor = ""
    if form.is_valid():
        entries, next_cursor = audit_page(
            audit_entries(organisation_id=organisation_id, filters=form.filters(tz)),
            after=form.cleaned_data.get("after"),
            size=PAGE_SIZE,
        )
        lines = audit_lines(entries)
    return render(
        request,
        "core/audit.html",
        {"form": form, "lines": lines, "next_cursor": next_cursor, "tz": tz},
    )


@login_required
def audit_csv(request: HttpRequest) -> HttpResponseBase:
    """« Télécharger »: every entry the filters keep (not only this page), streamed; the
    export is itself an entry of the log."""
    organisation_id, tz = _admin_organisation(request)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "core/audit.html", {"form": form, "lines": [], "tz": tz})
    rows = audit_entries(organisation_id=organisation_id, filters=form.filters(tz))
    log_action(
        "export.audit_csv",
        actor=request.user,
        data={"filters": form.described()},
        organisation_id=organisation_id,
    )
    header = [
        _("Date"),
        _("Action"),
        _("Code de l'action"),
        _("Qui"),
        _("Courriel"),
        _("Type"),
        _("Quoi"),
        _("Détails"),
    ]
    french = translation.get_language() == "fr"
    stamp = timezone.localdate(timezone=tz).isoformat()
    return csv_response(
        f"journal-audit-{stamp}.csv",
        header,
        audit_csv_rows(rows, tz=tz),
        delimiter=";" if french else ",",
    )
