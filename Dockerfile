# The platform's image: the same image runs the web process (default) and RQ workers.
# Build:  docker build -t dashboards .
# Web:    docker run -e SECRET_KEY=... -e ALLOWED_HOSTS=... -e DATABASE_URL=... -e REDIS_URL=... -p 8000:8000 dashboards
# Worker: docker run ...same env... dashboards python manage.py jobs_worker

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 STATIC_ROOT=/app/staticfiles VAR_DIR=/app/var
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY manage.py ./
COPY dashboards ./dashboards
COPY static ./static
COPY templates ./templates
# collectstatic only parses the settings: these build-time values connect to nothing.
RUN DEBUG=false SECRET_KEY=build-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=build.invalid DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://build.invalid:6379/0 \
    python manage.py collectstatic --noinput -v0 \
 && mkdir -p /app/var && chown app:app /app/var
USER app
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD ["python", "-m", "dashboards.ops.container_probe"]
# The launcher adds the WebSocket size limits of dashboards/runtime/limits.py.
CMD ["python", "-m", "dashboards.config.daphne_server", "--bind", "0.0.0.0", "--port", "8000", "--proxy-headers", \
     "dashboards.config.asgi:application"]
