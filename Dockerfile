# syntax=docker/dockerfile:1
# One image for every process: gunicorn (the default command), the Celery worker and beat, and one-shot
# management commands such as `python manage.py migrate`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # Collected at build time, outside var/ so a volume mounted there never hides it.
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_VAR_DIR=/app/var \
    DJANGO_MEDIA_ROOT=/app/var/media \
    VIGIL_PRIVATE_ROOT=/app/var/private \
    # gunicorn reads its worker count from WEB_CONCURRENCY (each with 4 threads). Three suit a small instance;
    # raise it towards 2 x CPUs + 1 on a larger one.
    WEB_CONCURRENCY=3

WORKDIR /app

# DejaVu covers the scripts signers' names are written in, for the PDF packets and letters.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*

# Dependencies first, read from pyproject.toml and held to the pinned versions, so that a change to the code
# alone reuses this layer instead of reinstalling every package.
COPY pyproject.toml ./
COPY requirements/constraints.txt requirements/constraints.txt
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > /tmp/dependencies.txt \
    && pip install -c requirements/constraints.txt -r /tmp/dependencies.txt \
    && rm /tmp/dependencies.txt

COPY . .
# Editable, so every import resolves to /app, where templates/ and static/ sit beside the code.
RUN pip install --no-deps -c requirements/constraints.txt -e .

# The settings refuse to load without a secret key and host list when DEBUG is off. collectstatic touches
# neither, so this RUN line alone gets placeholders; the running container must be given real ones.
RUN DJANGO_SECRET_KEY=collectstatic-placeholder-not-a-secret DJANGO_ALLOWED_HOSTS=localhost \
    VIGIL_IP_HASH_KEY=collectstatic-placeholder-not-a-secret \
    python manage.py collectstatic --noinput

# The code and collected static files stay owned by root; the application may write only under var/.
# media/ and private/ exist here so that named volumes mounted on them start with this ownership.
RUN groupadd --system --gid 10001 vigil \
    && useradd --system --uid 10001 --gid vigil --home-dir /app --no-create-home --shell /usr/sbin/nologin vigil \
    && mkdir -p /app/var/media /app/var/private \
    && chown -R vigil:vigil /app/var \
    && chmod 750 /app/var/private
USER 10001:10001

EXPOSE 8000

# /dev/shm keeps gunicorn's worker heartbeat files off the container's overlay filesystem.
# Threaded workers: on the benchmark machine they served a trivial page 2-3 times faster than sync workers under 64
# concurrent clients (bench/petitions_load.py --worker-class gthread), and signing about 1.3 times faster.
# --worker-connections 8: a worker takes at most twice its threads' worth of connections; the rest wait in the
# kernel's queue for whichever worker frees up first, instead of piling up behind one busy worker. Measured under 64
# clients: p99 of signing 156-183 ms instead of 396-421 ms, at the same throughput.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--threads", "4", "--worker-connections", "8", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-", "--logger-class", "core.redact.AccessLogger"]
