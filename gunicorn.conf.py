"""gunicorn settings for SRO Activity Log: `gunicorn --config gunicorn.conf.py wsgi:app`.

gunicorn also reads this file by itself when started from the project folder. Every value
comes from an environment variable with a safe default; flags on the command line win over
this file. See docs/deployment.md.
"""

import gc
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Where to listen. Behind a reverse proxy keep it on loopback (or a unix socket:
# GUNICORN_BIND=unix:/run/sro-activity-log/gunicorn.sock) and set PROXY_FIX_HOPS=1.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Worker processes: the app is stateless (tokens, lockouts and sync state live in the
# database), so any number of workers, on any number of hosts, can serve it. Requests are
# short; sync workers and 2-4 per core are right. WEB_CONCURRENCY is the common name.
workers = _int("WEB_CONCURRENCY", min(4, 2 * multiprocessing.cpu_count()))
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"

# Never share database connections across a fork: each worker builds its own app and pool.
preload_app = False

# A push of 500 mutations takes well under a second; 30 s means something is stuck.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Recycle workers now and then (bounded memory), staggered so they do not restart together.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# Request size limits at the HTTP layer (bodies are limited by the app: MAX_CONTENT_LENGTH).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# The heartbeat file on a RAM disk, so a slow disk never looks like a hung worker.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# The app writes one structured JSON line per request (method, path, status, duration,
# user id, request id) to stderr; gunicorn's own access log would only repeat it.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "sro-activity-log"

# X-Forwarded-* headers are applied by the app (werkzeug ProxyFix, PROXY_FIX_HOPS), not here.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn's control socket defaults to one path per user, which two instances on one host
# would fight over; it is off unless given a path of its own.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "gunicorn.ctl")
control_socket_disable = "GUNICORN_CONTROL_SOCKET" not in os.environ


def post_worker_init(worker):
    """Once the app is loaded: keep its long-lived objects (the app, models, schemas) out of
    the garbage collector's scans, and collect young objects less often. A 500-item push
    makes tens of thousands of short-lived dicts, nearly all freed by reference counting;
    with the default threshold (700) the collector would run many times a push and re-scan
    the whole app each time it reaches the oldest generation."""
    gc.freeze()
    gc.set_threshold(_int("GC_THRESHOLD", 50_000), 20, 20)
