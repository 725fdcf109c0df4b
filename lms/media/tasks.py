"""Background jobs of the media domain (see ``lms.core.jobs``). Each is safe to run twice:
the job row is claimed first, and a finished or live-held job is left alone."""

from __future__ import annotations

from lms.core import jobs
from lms.media import processing


@jobs.task(queue="transcoding", name="lms.media.transcode")
def transcode(self, job_id: int) -> None:
    """Make the HLS ladder, poster, thumbnails and MP4 fallback of a video."""
    processing.run_transcode(job_id)


@jobs.task(queue="documents", name="lms.media.document")
def document(self, job_id: int) -> None:
    """Check a PDF and count its pages."""
    processing.run_document(job_id)
