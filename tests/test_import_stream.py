"""« Importer des membres » reads the file once into slices (JobChunk) that only the import
reads, a slice at a time: an import left at the mapping step goes with its slices."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cohorte.core.files import job_files_purge
from cohorte.core.models import Job, JobChunk

from .conftest import signed_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_import_left_at_the_mapping_step_is_deleted_with_its_rows(admin):
    rows = "".join(f"m{n}@x.example;Nom{n}\n" for n in range(1_200))
    response = signed_in(admin).post(
        "/membres/importer/",
        {"file": SimpleUploadedFile("m.csv", ("courriel;nom\n" + rows).encode())},
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert [len(chunk.rows) for chunk in job.chunks.order_by("number")] == [500, 500, 200]
    job_files_purge(now=timezone.now() + dt.timedelta(days=30))
    assert not Job.objects.exists() and not JobChunk.objects.exists()


def test_a_file_refused_midway_keeps_nothing(admin, settings):
    settings.COHORTE_IMPORT_MAX_ROWS = 1_000
    rows = "".join(f"m{n}@x.example\n" for n in range(1_001))
    response = signed_in(admin).post(
        "/membres/importer/",
        {"file": SimpleUploadedFile("m.csv", ("courriel\n" + rows).encode())},
    )
    assert response.status_code == 200 and "découpez-le" in response.content.decode()
    assert not Job.objects.exists() and not JobChunk.objects.exists()
