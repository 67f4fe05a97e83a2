"""Uploaded and generated files are private.

No URL serves MEDIA_ROOT, in any mode: each kind of file (a job's export, a member's photo,
a message's attachment) has its own view, which checks who asks before it sends a byte.
Files are stored under a random name, so a name seen once (in a log, a shared screen)
tells nothing and cannot be guessed; the name people see on download is kept apart.
Generated exports expire: COHORTE_EXPORT_RETENTION_HOURS after the job, the download answers
« expiré » and the worker's clock deletes the file.
"""

import datetime as dt
import logging
import mimetypes
import uuid
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db.models import Q
from django.http import FileResponse, Http404

logger = logging.getLogger(__name__)

#: types a photo is sent back as; anything else is downloaded, never shown
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


def random_name(folder: str, filename: str) -> str:
    """« folder/<32 hex digits>.<extension> »: the extension alone survives from the
    uploaded name (lower case, letters and digits only)."""
    suffix = PurePath(filename or "").suffix.lower()
    if not (1 < len(suffix) <= 10 and suffix[1:].isascii() and suffix[1:].isalnum()):
        suffix = ""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def private_file_response(
    file: File, *, filename: str, as_attachment: bool = True, cache_seconds: int = 0
) -> FileResponse:
    """The file's bytes for someone already checked. An image is shown only if it is one
    of the image types; every answer forbids sniffing and running anything inside it."""
    try:
        handle = file.open("rb")
    except (FileNotFoundError, ValueError) as error:
        raise Http404("File missing.") from error
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if not as_attachment and content_type not in IMAGE_TYPES:
        as_attachment, content_type = True, "application/octet-stream"
    response = FileResponse(
        handle, as_attachment=as_attachment, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = (
        f"private, max-age={cache_seconds}" if cache_seconds else "private, no-store"
    )
    return response


#: kinds of job whose file is the only copy of what it holds (a cycle end's archive of the
#: members it deleted): kept longer than an export that can be made again
ARCHIVE_KINDS = ("cycle_end",)


def export_retention(kind: str = "") -> dt.timedelta:
    if kind in ARCHIVE_KINDS:
        return dt.timedelta(days=settings.COHORTE_ARCHIVE_RETENTION_DAYS)
    return dt.timedelta(hours=settings.COHORTE_EXPORT_RETENTION_HOURS)


def job_files_purge(*, now: dt.datetime) -> int:
    """Delete the files of jobs older than the retention, and the jobs prepared but never
    started (an import whose columns were never confirmed still holds the uploaded rows).
    The scheduler tick calls this; running it twice does nothing more."""
    from .models import Job, JobStatus

    cutoff = now - export_retention()
    archive_cutoff = now - export_retention(ARCHIVE_KINDS[0])

    def older_than(moment: dt.datetime) -> Q:
        return Q(finished_at__lt=moment) | Q(finished_at__isnull=True, created_at__lt=moment)

    expired = Job.objects.exclude(file="").filter(
        (older_than(cutoff) & ~Q(kind__in=ARCHIVE_KINDS))
        | (older_than(archive_cutoff) & Q(kind__in=ARCHIVE_KINDS))
    )
    purged = 0
    for job in expired.only("pk", "file", "result")[:500]:
        try:
            job.file.delete(save=False)
        except OSError:
            logger.warning("job %s: file %s could not be deleted", job.pk, job.file.name)
            continue
        Job.objects.filter(pk=job.pk).update(file="", result={**job.result, "file_expired": True})
        purged += 1
    Job.objects.filter(status=JobStatus.QUEUED, task_path="", created_at__lt=cutoff).delete()
    return purged


def job_file_expired(job: Any, *, now: dt.datetime) -> bool:
    if job.result.get("file_expired"):
        return True
    return (job.finished_at or job.created_at) < now - export_retention(job.kind)
