"""gunicorn settings of one web node in the scale-out profile:

    gunicorn -c deploy/gunicorn.conf.py wsgi:app

Every value can be overridden on the command line (``--workers 8``) or through the
environment variables below. The benchmark (``make bench``) serves the app and its
baseline with this file, so what is measured is what is deployed."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

#: where the node listens (behind the reverse proxy)
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
#: one process per core: Python runs one thread at a time per process
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
#: threads per process: requests that wait on the database or storage overlap
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
#: keep-alive for the proxy's upstream connections
keepalive = 5
#: a transcript PDF takes a second or two; nothing legitimate takes a minute (uploads are
#: chunked, media is served by the store, long work runs in Celery workers)
timeout = 60
graceful_timeout = 30
#: recycle workers now and then (memory growth of long-lived processes), not all at once.
#: A worker's start costs about 2.4 s of CPU (importing and building the app): at 5,000
#: requests a busy worker restarted every few seconds and spent up to 40 % of its time
#: starting (seen in the benchmark), so the count is high; memory is still bounded
max_requests = 100_000
max_requests_jitter = 10_000
#: each worker opens its own database pool after the fork (never share connections)
preload_app = False
#: X-Forwarded-* is trusted from these addresses only (see also LMS_PROXY_FIX)
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
#: the proxy logs requests; set GUNICORN_ACCESS_LOG=- to log them here too
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
#: worker heartbeats in memory, not on a possibly slow disk
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"
