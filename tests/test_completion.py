"""Profile completion %: role-specific core fields and required custom fields, kept in the
database, recomputed on edit and for the whole organisation by the worker."""

import pytest

from cohorte.accounts import services
from cohorte.accounts.models import CustomField, CustomFieldValue, FieldRole, Member, MemberRole
from cohorte.core.models import Job

from .conftest import make_member, run_tasks, signed_in

CORE = len(services.CORE_COMPLETION_FIELDS)


def completion(member: Member) -> int:
    services.members_completion_refresh(
        organisation_id=member.organisation_id, member_ids=[member.pk]
    )
    member.refresh_from_db()
    return member.profile_completion


def fill(member: Member, *names: str) -> None:
    for name in names:
        setattr(
            member,
            name,
            3
            if name == "years_experience"
            else f"https://x.example/{name}"
            if name == "linkedin"
            else "x",
        )
    member.save()


def test_core_fields_count_for_everyone(organisation):
    member = make_member(organisation, "p@x.example", first="Paul", last="Petit")
    assert completion(member) == 2 * 100 // CORE
    fill(member, *[f for f in services.CORE_COMPLETION_FIELDS if f != "photo"])
    member.photo = "photos/p.jpg"
    member.save()
    assert completion(member) == 100


def test_mentor_is_also_asked_for_skills_and_mentee_for_development_areas(organisation):
    mentor = make_member(organisation, "m@x.example", role=MemberRole.MENTOR)
    mentee = make_member(organisation, "e@x.example", role=MemberRole.MENTEE)
    both = make_member(organisation, "b@x.example", role=MemberRole.BOTH)
    for member in (mentor, mentee, both):
        fill(member, *services.CORE_COMPLETION_FIELDS)
    assert completion(mentor) == CORE * 100 // (CORE + 1)
    fill(mentor, "skills")
    assert completion(mentor) == 100
    fill(mentee, "skills")  # a mentor's field does not count for a mentee
    assert completion(mentee) == CORE * 100 // (CORE + 1)
    fill(mentee, "development_areas")
    assert completion(mentee) == 100
    fill(both, "skills")
    assert completion(both) == (CORE + 1) * 100 // (CORE + 2)


def test_required_custom_fields_apply_by_role(organisation):
    mentor = make_member(organisation, "m@x.example", role=MemberRole.MENTOR)
    mentee = make_member(organisation, "e@x.example", role=MemberRole.MENTEE)
    for member in (mentor, mentee):
        fill(member, *services.CORE_COMPLETION_FIELDS, "skills", "development_areas")
        assert completion(member) == 100
    pronoun = CustomField.objects.create(
        organisation=organisation, name_fr="Pronom", required=True, role=FieldRole.BOTH
    )
    mentors_only = CustomField.objects.create(
        organisation=organisation, name_fr="Capacité", required=True, role=FieldRole.MENTOR
    )
    CustomField.objects.create(organisation=organisation, name_fr="Optionnel", required=False)
    assert completion(mentor) == (CORE + 1) * 100 // (CORE + 3)
    assert completion(mentee) == (CORE + 1) * 100 // (CORE + 2)
    CustomFieldValue.objects.create(member=mentor, field=pronoun, value="Il/Lui")
    CustomFieldValue.objects.create(member=mentor, field=mentors_only, value="3")
    CustomFieldValue.objects.create(member=mentee, field=mentors_only, value="3")  # not theirs
    assert completion(mentor) == 100
    assert completion(mentee) == (CORE + 1) * 100 // (CORE + 2)


def test_a_multiple_choice_answer_counts_once(organisation):
    member = make_member(organisation, "m@x.example")
    fill(member, *services.CORE_COMPLETION_FIELDS)
    sports = CustomField.objects.create(
        organisation=organisation, name_fr="Sports", required=True, multiple=True, options="A, B"
    )
    for value in ("A", "B"):
        CustomFieldValue.objects.create(member=member, field=sports, value=value)
    assert completion(member) == 100


def test_editing_ones_profile_recomputes_at_once(organisation, mentee):
    client = signed_in(mentee)
    response = client.post(
        "/compte/mon-espace/profil/",
        {
            "first_name": "Léa",
            "last_name": "Mentee",
            "language": "fr",
            "role": "mentee",
            "job_title": "Lycéenne",
            "city": "Poitiers",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mentee.refresh_from_db()
    assert mentee.job_title == "Lycéenne"
    assert mentee.profile_completion == 4 * 100 // (CORE + 1)


def test_profile_form_refuses_an_option_that_is_not_offered(organisation, mentee):
    field = CustomField.objects.create(
        organisation=organisation, name_fr="Pronom", options="Il, Elle"
    )
    response = signed_in(mentee).post(
        "/compte/mon-espace/profil/",
        {
            "first_name": "Léa",
            "language": "fr",
            f"custom_{field.pk}": "Autre",
        },
    )
    assert response.status_code == 200
    assert not CustomFieldValue.objects.exists()


def test_admin_only_fields_are_not_shown_to_the_member(organisation, mentee):
    CustomField.objects.create(organisation=organisation, name_fr="Note interne", admin_only=True)
    assert (
        "Note interne" not in signed_in(mentee).get("/compte/mon-espace/profil/").content.decode()
    )


@pytest.mark.django_db(transaction=True)
def test_adding_a_field_then_recompute_lowers_the_percentages_through_the_worker(
    organisation, admin
):
    """The seed's example: everyone at 100 %, a new required field, « Recalculer valeur du
    profil », and the list shows the drop."""
    members = [make_member(organisation, f"m{n}@x.example") for n in range(3)]
    for member in members:
        fill(member, *services.CORE_COMPLETION_FIELDS)
    services.organisation_completion_recompute(organisation_id=organisation.pk)
    assert set(
        Member.objects.filter(pk__in=[m.pk for m in members]).values_list(
            "profile_completion", flat=True
        )
    ) == {100}
    client = signed_in(admin)
    response = client.post(
        "/membres/champs/",
        {
            "name_fr": "Votre pronom",
            "name_en": "Preferred pronouns",
            "options": "Il/Lui, Elle/Elle",
            "role": "any",
            "required": "on",
            "order": 3,
            "in_profile": "on",
            "in_reports": "on",
        },
    )
    assert response.status_code == 302
    member = Member.objects.get(pk=members[0].pk)
    assert member.profile_completion == 100  # not yet: as the seed says
    response = client.post("/membres/champs/recalculer/")
    job = Job.objects.get(kind="completion_recompute")
    assert response["Location"] == f"/taches/{job.pk}/"
    assert "En attente" in client.get(f"/taches/{job.pk}/").content.decode()
    run_tasks()
    job.refresh_from_db()
    assert job.status == "done" and job.done == job.total == 4
    assert "4 profils recalculés" in client.get(f"/taches/{job.pk}/").content.decode()
    member.refresh_from_db()
    assert member.profile_completion == CORE * 100 // (CORE + 1)
    html = client.get("/membres/", {"completion_below": 100}).content.decode()
    assert "m0@x.example" in html


def test_someone_elses_job_is_not_visible(organisation, admin, mentee):
    job = Job.objects.create(
        kind="completion_recompute", created_by=admin, organisation_id=organisation.pk
    )
    assert signed_in(mentee).get(f"/taches/{job.pk}/").status_code == 404


def test_a_job_runs_once_even_when_its_task_is_delivered_twice(organisation, admin):
    from cohorte.core.jobs import job_create, job_run

    job = job_create(kind="x", by=admin, organisation_id=organisation.pk, title="X")
    calls = []

    def work(job, progress):
        calls.append(job.pk)
        progress(1, 1)
        return {"summary": "ok"}

    job_run(job.pk, work)
    job_run(job.pk, work)
    job.refresh_from_db()
    assert calls == [job.pk]
    assert (job.status, job.result, job.done) == ("done", {"title": "X", "summary": "ok"}, 1)


def test_a_job_that_breaks_says_so(organisation, admin):
    from cohorte.core.jobs import job_create, job_run

    job = job_create(kind="x", by=admin, organisation_id=organisation.pk)

    def work(job, progress):
        raise RuntimeError("disque plein")

    with pytest.raises(RuntimeError):
        job_run(job.pk, work)
    job.refresh_from_db()
    assert job.status == "failed" and job.result["error"] == "disque plein"
    assert "disque plein" in signed_in(admin).get(f"/taches/{job.pk}/").content.decode()


def test_deleting_a_field_removes_its_answers(organisation, admin, mentee):
    field = CustomField.objects.create(organisation=organisation, name_fr="Sport", required=True)
    CustomFieldValue.objects.create(member=mentee, field=field, value="Ski")
    response = signed_in(admin).post(f"/membres/champs/{field.pk}/", {"delete": "1"})
    assert response.status_code == 302
    assert not CustomField.objects.exists() and not CustomFieldValue.objects.exists()


def test_another_organisations_field_is_out_of_reach(admin, outsider):
    theirs = CustomField.objects.create(organisation=outsider.organisation, name_fr="Secret")
    assert (
        signed_in(admin).post(f"/membres/champs/{theirs.pk}/", {"delete": "1"}).status_code == 404
    )
    assert CustomField.objects.filter(pk=theirs.pk).exists()


def test_a_member_uploads_a_photo_and_completion_counts_it(mentee, settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "orange").save(buffer, "PNG")
    data = {"first_name": "Léa", "last_name": "Mentee", "language": "fr", "role": "mentee"}
    before = completion(mentee)
    photo = SimpleUploadedFile("moi.png", buffer.getvalue(), "image/png")
    response = signed_in(mentee).post("/compte/mon-espace/profil/", {**data, "photo": photo})
    assert response.status_code == 302
    mentee.refresh_from_db()
    assert mentee.photo.name.startswith("photos/") and mentee.profile_completion > before
    not_an_image = SimpleUploadedFile("x.png", b"not an image", "image/png")
    response = signed_in(mentee).post("/compte/mon-espace/profil/", {**data, "photo": not_an_image})
    assert response.status_code == 200 and "errorlist" in response.content.decode()


def test_an_imports_new_rows_carry_the_figure_the_database_rule_gives(organisation, admin):
    """An import writes its new members' % with their rows (completion_of) instead of
    rewriting them after: for every mix of role, filled fields and required answers, the
    figure is the one completion_expression computes from what was stored."""
    import random

    from django.db.models import F

    any_role = CustomField.objects.create(
        organisation=organisation, name_fr="Ville natale", required=True, order=1
    )
    mentors_only = CustomField.objects.create(
        organisation=organisation,
        name_fr="Secteur",
        options="Santé, Industrie",
        required=True,
        role=FieldRole.MENTOR,
        order=2,
    )
    both_sides = CustomField.objects.create(
        organisation=organisation,
        name_fr="Langues",
        options="Français, Anglais",
        multiple=True,
        required=True,
        role=FieldRole.BOTH,
        order=3,
    )
    optional = CustomField.objects.create(organisation=organisation, name_fr="Devise", order=4)
    rng = random.Random(12)  # noqa: S311
    columns = ["first_name", "last_name", "job_title", "company", "industry", "country",
               "city", "goals", "skills", "development_areas", "years_experience"]  # fmt: skip
    rows = []
    for n in range(120):
        raw = {"email": f"imported{n}@x.example"}
        raw["role"] = ["", "mentor", "mentee", "both"][n % 4]
        for name in rng.sample(columns, rng.randint(0, len(columns))):
            raw[name] = "7" if name == "years_experience" else f"v{n}"
        if rng.random() < 0.5:
            raw[f"custom:{any_role.pk}"] = "Lyon"
        if rng.random() < 0.5:
            raw[f"custom:{mentors_only.pk}"] = "Santé"
        if rng.random() < 0.5:
            raw[f"custom:{both_sides.pk}"] = "Français, Anglais"
        if rng.random() < 0.5:
            raw[f"custom:{optional.pk}"] = "Toujours"
        rows.append((n + 2, raw))
    result = services.members_import(organisation_id=organisation.pk, rows=rows, by=admin)
    assert result["created"] == 120
    imported = Member.objects.filter(email__startswith="imported")
    stored = dict(imported.values_list("pk", "profile_completion"))
    computed = dict(
        imported.annotate(rule=services.completion_expression(organisation.pk)).values_list(
            "pk", F("rule")
        )
    )
    assert stored == computed
    assert len(set(stored.values())) > 10  # the rows differ: the figures are not all 0
