"""Gunicorn settings for `gunicorn app:server`, read from the environment."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Each open page's live-update WebSocket holds one thread of its worker for as long
# as the page is open (Flask-SocketIO's threading mode), so the threads must cover
# the sockets a worker carries plus its HTTP requests.
threads = int(os.environ.get("GUNICORN_THREADS", "64"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that slow leaks never accumulate, but only when
# datasets live in a MongoDB server (see below): the in-process engine's data dies
# with its worker, and each restart rebuilt every dataset (a gap of seconds to
# minutes). With several workers gunicorn recycles one at a time, so no gap.
max_requests = 2000 if os.environ.get("MONGO_URI") else 0
max_requests_jitter = 200 if max_requests else 0
# The app writes its own JSON access lines with the request id.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Heartbeat files on tmpfs: a slow container disk must not look like a hung worker.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

if not os.environ.get("MONGO_URI"):
    # The in-process MongoDB engine lives inside one process: several workers would
    # each see different datasets, so without a server there is exactly one worker.
    workers = 1
