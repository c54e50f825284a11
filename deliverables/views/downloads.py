"""Serving a private file (packet, compiled letter, proof, e-mailed link): every download is logged, then streamed."""

from django.http import FileResponse, Http404, HttpRequest

from core.net import client_ip
from deliverables.models import Job, JobState
from deliverables.private_files import private_exists, private_open
from deliverables.services.packets import private_download_log
from signatures.services.signing import client_address_hash


def private_file_response(
    request: HttpRequest,
    *,
    petition_id: int,
    kind: str,
    object_id: int,
    file_name: str,
    filename: str | None = None,
    content_type: str | None = None,
) -> FileResponse:
    private_download_log(
        petition_id=petition_id,
        user=request.user,
        kind=kind,
        object_id=object_id,
        file_name=file_name,
        ip_hash=client_address_hash(client_ip(request)),
    )
    return FileResponse(
        private_open(file_name),  # FileResponse closes it
        as_attachment=True,
        filename=filename or file_name.rsplit("/", 1)[-1],
        content_type=content_type,
    )


def job_file_response(request: HttpRequest, *, job: Job, petition_id: int, kind: str, content_type: str, missing: str):
    """The file of a finished job (a packet, a compiled letter); 404 with `missing` while it is not ready, or once
    it has expired."""
    if job.state != JobState.DONE or not private_exists(job.file_name):
        raise Http404(missing)
    return private_file_response(
        request, petition_id=petition_id, kind=kind, object_id=job.pk, file_name=job.file_name,
        content_type=content_type,
    )  # fmt: skip
