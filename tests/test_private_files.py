"""Uploaded and generated files are private: no URL serves MEDIA_ROOT (with DEBUG on or
off), each file is stored under a random name and sent by a view that checks who asks,
and generated exports expire."""

import datetime as dt
import importlib
import io
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, clear_url_caches, get_resolver
from django.utils import timezone
from django.views.static import serve
from PIL import Image

from cohorte.core.files import job_files_purge
from cohorte.core.models import Job, JobStatus

from .conftest import make_member, run_tasks, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = b"PK-every-profile-with-the-administrator-only-field"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(params=[True, False], ids=["DEBUG", "production"])
def mode(request, settings):
    """The URLconf as it is built with DEBUG on, and off."""
    import cohorte.urls

    settings.DEBUG = request.param
    clear_url_caches()
    importlib.reload(cohorte.urls)
    yield request.param
    settings.DEBUG = False
    clear_url_caches()
    importlib.reload(cohorte.urls)


def archive_job(by, *, finished_at=None, kind="cycle_end") -> Job:
    job = Job.objects.create(
        kind=kind,
        created_by=by,
        organisation_id=by.organisation_id,
        status=JobStatus.DONE,
        finished_at=finished_at or timezone.now(),
        result={"title": "Fin de cycle", "filename": "Orientation A 2026-2027.zip"},
    )
    job.file.save("Orientation A 2026-2027.zip", ContentFile(SECRET))
    return job


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()


def foreign_admin():
    from cohorte.programs.models import Organisation

    other = Organisation.objects.create(name="Ailleurs", timezone="Europe/Paris")
    return make_member(other, "chef@ailleurs.example", is_org_admin=True)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_no_url_pattern_serves_media_root(mode):
    served = [route for route, view in walk(get_resolver().url_patterns) if view is serve]
    assert served == []
    assert not any(route.startswith("media") for route, _view in walk(get_resolver().url_patterns))


def test_files_are_not_reachable_under_media_url(mode, admin, settings):
    job = archive_job(admin)
    attachment = settings.MEDIA_ROOT / "attachments" / "2026" / "12" / "convention.pdf"
    attachment.parent.mkdir(parents=True)
    attachment.write_bytes(b"%PDF-1.4 secret")
    admin.photo.save("moi.png", ContentFile(png()))
    paths = [job.file.name, "attachments/2026/12/convention.pdf", admin.photo.name]
    for client in (signed_in(admin), signed_in(admin).__class__()):  # the owner, and anonymous
        for name in paths:
            response = client.get(f"/media/{name}")
            assert response.status_code == 404, name
            assert SECRET not in body(response) and b"secret" not in body(response)


def test_a_job_file_has_a_random_name(admin):
    job = archive_job(admin)
    assert re.fullmatch(r"jobs/[0-9a-f]{32}\.zip", job.file.name), job.file.name
    assert archive_job(admin).file.name != job.file.name


def test_a_job_file_goes_only_to_its_author_and_the_organisations_administrators(
    mode, admin, manager_a, manager_b, mentee
):
    job = archive_job(manager_a)
    url = f"/taches/{job.pk}/fichier/"
    for person in (manager_a, admin):
        response = signed_in(person).get(url)
        assert response.status_code == 200
        assert body(response) == SECRET
        assert "Orientation A 2026-2027.zip" in response["Content-Disposition"]
        assert response["Cache-Control"] == "private, no-store"
    for person in (manager_b, mentee, foreign_admin()):
        response = signed_in(person).get(url)
        assert response.status_code == 404
        assert SECRET not in body(response)
    response = signed_in(admin).__class__().get(url)
    assert response.status_code == 302 and "/compte/" in response["Location"]


def test_a_job_file_expires_then_the_clock_deletes_it(admin, settings):
    settings.COHORTE_EXPORT_RETENTION_HOURS = 72
    fresh = archive_job(admin, kind="export")
    old = archive_job(admin, finished_at=timezone.now() - dt.timedelta(hours=73), kind="export")
    path = old.file.path
    client = signed_in(admin)
    response = client.get(f"/taches/{old.pk}/fichier/")
    assert response.status_code == 410
    assert SECRET not in body(response) and "expiré" in response.content.decode()
    assert "expiré" in client.get(f"/taches/{old.pk}/").content.decode()
    assert "disponible jusqu" in client.get(f"/taches/{fresh.pk}/").content.decode()

    from cohorte.activity.tasks import scheduler_tick

    scheduler_tick.enqueue()
    run_tasks()
    old.refresh_from_db()
    assert not old.file and old.result["file_expired"] is True
    assert not (settings.MEDIA_ROOT / path).exists()
    assert client.get(f"/taches/{old.pk}/fichier/").status_code == 410
    fresh.refresh_from_db()
    assert fresh.file and body(client.get(f"/taches/{fresh.pk}/fichier/")) == SECRET
    assert job_files_purge(now=timezone.now()) == 0  # twice does nothing more


def test_a_cycle_archive_the_only_copy_of_deleted_data_is_kept_longer(admin, settings):
    settings.COHORTE_EXPORT_RETENTION_HOURS = 72
    settings.COHORTE_ARCHIVE_RETENTION_DAYS = 30
    kept = archive_job(admin, finished_at=timezone.now() - dt.timedelta(days=29))
    gone = archive_job(admin, finished_at=timezone.now() - dt.timedelta(days=31))
    client = signed_in(admin)
    assert body(client.get(f"/taches/{kept.pk}/fichier/")) == SECRET
    assert client.get(f"/taches/{gone.pk}/fichier/").status_code == 410
    assert job_files_purge(now=timezone.now()) == 1
    kept.refresh_from_db()
    assert kept.file


def test_an_import_never_confirmed_does_not_keep_the_rows(admin):
    draft = Job.objects.create(
        kind="members_import",
        created_by=admin,
        organisation_id=admin.organisation_id,
        payload={"rows": [[2, ["someone@x.example"]]]},
    )
    recent = Job.objects.create(kind="members_import", organisation_id=admin.organisation_id)
    Job.objects.filter(pk=draft.pk).update(created_at=timezone.now() - dt.timedelta(days=4))
    job_files_purge(now=timezone.now())
    assert list(Job.objects.values_list("pk", flat=True)) == [recent.pk]


def test_a_photo_has_a_random_name_and_is_shown_to_its_organisation_only(
    mode, admin, mentee, manager_b, outsider
):
    mentee.photo.save("Léa Mentee.png", ContentFile(png()))
    assert re.fullmatch(r"photos/[0-9a-f]{32}\.png", mentee.photo.name), mentee.photo.name
    url = mentee.photo_url
    assert url.startswith(f"/membres/{mentee.pk}/photo/")
    for person in (manager_b, admin, mentee):
        response = signed_in(person).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png" and body(response) == png()
        assert "inline" in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
    for person in (outsider, foreign_admin()):
        response = signed_in(person).get(url)
        assert response.status_code == 404 and body(response) != png()
    response = signed_in(admin).__class__().get(url)
    assert response.status_code == 302 and "/compte/" in response["Location"]
    assert signed_in(admin).get(f"/membres/{admin.pk}/photo/").status_code == 404  # none


def test_the_pages_show_photos_through_their_view(admin, manager_a, program_a, mentee):
    mentee.photo.save("lea.png", ContentFile(png()))
    html = signed_in(manager_a).get(f"/programmes/{program_a.pk}/").content.decode()
    assert mentee.photo_url.replace("&", "&amp;") in html or mentee.photo_url in html
    assert "/media/" not in html
    profile = signed_in(admin).get(f"/membres/{mentee.pk}/").content.decode()
    assert "/media/" not in profile and mentee.photo.name not in profile


def test_a_photo_uploaded_on_the_profile_page_gets_a_random_name(mentee):
    client = signed_in(mentee)
    page = client.get("/compte/mon-espace/profil/")
    assert page.status_code == 200
    upload = ContentFile(png(), name="Mon portrait.png")
    response = client.post(
        "/compte/mon-espace/profil/",
        {"first_name": "Léa", "last_name": "Mentee", "language": "fr", "photo": upload},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    mentee.refresh_from_db()
    # kept as a square JPEG (accounts/photos.py), under a name that says nothing of the sender's
    assert re.fullmatch(r"photos/[0-9a-f]{32}\.jpg", mentee.photo.name)
    assert mentee.photo_url in client.get("/compte/mon-espace/profil/").content.decode()


def test_a_stored_file_that_is_not_an_image_is_never_shown_inline(admin, mentee):
    mentee.photo.save("page.html", ContentFile(b"<script>alert(1)</script>"))
    response = signed_in(admin).get(mentee.photo_url)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]
