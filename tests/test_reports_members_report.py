"""The members report (prepared « members »), read from plain rows in chunks: each member's
custom answers, cohorts and tags, role in the programme and mentoring hours in their cells,
and a fixed number of queries however many members (bench/reports.py: 100,000 rows); and
every format's cells made inert exactly as core.exports.neutralise says."""

import csv
import dataclasses
import io

import openpyxl
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from cohorte.accounts.models import CustomField, CustomFieldValue
from cohorte.core.exports import neutralise
from cohorte.programs.models import Cohort, CohortKind, Enrolment, Role
from cohorte.reports import exporters, prepared
from cohorte.reports.exporters import Column, Report
from cohorte.reports.prepared import PREPARED, Scope

from .conftest import make_member


def _by_email(program, by):
    with translation.override("fr"):
        report = PREPARED["members"].build(
            Scope(organisation=program.organisation, program=program, by=by)
        )
        header = [str(column.label) for column in report.columns]
        lines = [dict(zip(header, row, strict=True)) for row in report.rows]
    return header, {line["Courriel"]: line for line in lines}


def _answers_and_cohorts(organisation, mentor, mentee):
    sector = CustomField.objects.create(
        organisation=organisation, name_fr="Secteur", options="Santé, Numérique", multiple=True
    )
    secret = CustomField.objects.create(
        organisation=organisation, name_fr="Note interne", admin_only=True
    )
    unreported = CustomField.objects.create(
        organisation=organisation, name_fr="Pointure", in_reports=False
    )
    for field, member, value in (
        (sector, mentee, "Santé"),
        (sector, mentee, "Numérique"),
        (sector, mentor, "Santé"),
        (secret, mentee, "À suivre"),
        (unreported, mentee, "38"),
    ):
        CustomFieldValue.objects.create(field=field, member=member, value=value)
    promo = Cohort.objects.create(organisation=organisation, name="Promo 2026")
    alpha = Cohort.objects.create(organisation=organisation, name="Alpha")
    tag = Cohort.objects.create(organisation=organisation, name="Aaa", kind=CohortKind.TAG)
    for cohort in (promo, alpha, tag):
        cohort.members.add(mentee)


def test_members_report_shows_each_members_answers_cohorts_and_role(
    organisation, program_a, manager_a, admin, mentor, mentee
):
    _answers_and_cohorts(organisation, mentor, mentee)
    mentee.mentoring_minutes = 90
    mentee.save(update_fields=["mentoring_minutes"])

    header, rows = _by_email(program_a, manager_a)
    assert "Secteur" in header and "Note interne" not in header and "Pointure" not in header
    lea, marc = rows["lea.mentee@poitiers.example"], rows["marc.mentor@poitiers.example"]
    assert lea["Secteur"] == "Santé, Numérique"  # both answers, in the order given
    assert lea["Cohortes et étiquettes"] == "Alpha, Promo 2026, Aaa"  # cohorts, then tags
    assert lea["Heures de mentorat"] == "01:30"
    assert lea["Rôle dans le programme"] == "Participant"
    assert lea["Prénom"] == "Léa" and lea["Actif"] == "oui"
    assert marc["Rôle dans le programme"] == "Professionnel"
    assert marc["Secteur"] == "Santé" and marc["Cohortes et étiquettes"] == ""
    assert marc["Heures de mentorat"] == "00:00" and marc["Dernière session"] == ""

    _header, rows = _by_email(program_a, admin)  # the administrator sees admin-only fields
    assert rows["lea.mentee@poitiers.example"]["Note interne"] == "À suivre"
    assert rows["marc.mentor@poitiers.example"]["Note interne"] == ""


def test_members_report_reads_every_member_in_a_fixed_number_of_queries(
    organisation, program_a, manager_a, mentor, mentee, monkeypatch
):
    _answers_and_cohorts(organisation, mentor, mentee)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            _by_email(program_a, manager_a)
        return len(ctx.captured_queries)

    few = queries()
    for n in range(12):
        member = make_member(organisation, f"p{n}@poitiers.example", first="P", last=f"{n:02d}")
        Enrolment.objects.create(program=program_a, member=member, role=Role.MENTEE)
    assert queries() == few
    # in chunks: two more queries (answers, cohorts) per chunk, every member still there
    monkeypatch.setattr(prepared, "MEMBERS_CHUNK", 5)
    assert queries() == few + 2 * 2  # 14 members: three chunks instead of one
    _header, rows = _by_email(program_a, manager_a)
    assert len(rows) == 14 and rows["p11@poitiers.example"]["Rôle dans le programme"] == "Mentoré"


CELLS = ["Paris", "", "=1+1", " =SUM(A1)", "＝1+1", "+33 6 12", "-12", "@x", "\tx", "été", 7, 0,
         -3, 2.5, True, None]  # fmt: skip


def test_every_format_makes_each_cell_inert_as_neutralise_does(tmp_path):
    report = Report(
        "cells",
        "Cellules",
        [Column(f"c{n}", f"C{n}") for n in range(len(CELLS))],
        1,
        iter([list(CELLS)]),
    )
    stream = io.BytesIO()
    exporters.csv_write_report(report, stream, delimiter=";")
    _header, line = csv.reader(io.StringIO(stream.getvalue().decode("utf-8-sig")), delimiter=";")
    assert line == [neutralise(cell) for cell in CELLS]
    assert line[2:9] == ["'=1+1", "' =SUM(A1)", "'＝1+1", "'+33 6 12", "-12", "'@x", "'\tx"]

    path = str(tmp_path / "cells.xlsx")
    exporters.xlsx_write_report(dataclasses.replace(report, rows=iter([list(CELLS)])), path)
    cells = [cell.value for cell in openpyxl.load_workbook(path).active[2]]
    assert cells[:10] == ["Paris", None, "'=1+1", "' =SUM(A1)", "'＝1+1", "'+33 6 12", "-12",
                          "'@x", "'\tx", "été"]  # fmt: skip
    assert cells[10:] == [7, 0, -3, 2.5, "oui", None]
