"""The one settings module. Every value that varies between machines comes from the environment.

See ``dashboards.config.environment`` for the variables and README.md for the table.
"""

from __future__ import annotations

import os
from typing import Any

from dashboards.config.environment import BASE_DIR, read_environment, redis_settings
from dashboards.config.environment import RQ_SERIALIZER as RQ_SERIALIZER_PATH

CONFIG = read_environment(os.environ)

DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)
CSRF_TRUSTED_ORIGINS = list(CONFIG.csrf_trusted_origins)
VAR_DIR = CONFIG.var_dir

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_rq",
    "dashboards.tenancy",
    "dashboards.hosting",
    "dashboards.runtime",
    "dashboards.notifications",
    "dashboards.jobs",
    "dashboards.events",
    "dashboards.scenarios",
    "dashboards.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "dashboards.config.middleware.ContentSecurityPolicyMiddleware",
    "dashboards.config.middleware.PrivateByDefaultMiddleware",
    "dashboards.config.middleware.RefuseNulInQueryMiddleware",
    "dashboards.config.middleware.RefuseTooManyQueryFieldsMiddleware",  # before anything reads GET
    "dashboards.ops.middleware.HealthCheckMiddleware",  # before the host check: probes by IP
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dashboards.config.urls"
ASGI_APPLICATION = "dashboards.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboards.tenancy.context_processors.tenancy",
            ],
        },
    },
]

DATABASES = {"default": CONFIG.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: one URL feeds the channel layer, the job queues and the health check. ---
REDIS_IS_EMBEDDED = CONFIG.redis_is_embedded
RQ_SERIALIZER = RQ_SERIALIZER_PATH
_REDIS = redis_settings(CONFIG.redis_url)  # the tests re-apply it per worker
REDIS_URL: str = _REDIS["REDIS_URL"]
CHANNEL_LAYERS: dict[str, Any] = _REDIS["CHANNEL_LAYERS"]
RQ_QUEUES: dict[str, Any] = _REDIS["RQ_QUEUES"]
del _REDIS
JOBS_PER_TENANT = CONFIG.jobs_per_tenant
EVENT_TASKS_PER_TENANT = CONFIG.event_tasks_per_tenant
TABS_PER_USER = CONFIG.tabs_per_user
# Web processes also fail jobs of dead workers; test processes import the ASGI application
# without being web servers, and turn it off.
JOBS_RECONCILER_THREAD = os.environ.get("DASHBOARDS_TESTS_NO_RECONCILER") != "1"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = CONFIG.static_root
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security: safe by default; HTTPS is assumed unless DEBUG is on or HTTPS=false. ---
SESSION_ENGINE = "dashboards.runtime.browser_sessions"  # database sessions that tell their sockets they ended
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CONFIG.https
CSRF_COOKIE_SECURE = CONFIG.https
SECURE_SSL_REDIRECT = CONFIG.https
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if CONFIG.https else None
SECURE_HSTS_SECONDS = CONFIG.hsts_seconds
SECURE_HSTS_INCLUDE_SUBDOMAINS = CONFIG.hsts_seconds > 0
SECURE_HSTS_PRELOAD = False
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = ["security.W021"]  # HSTS preload is a decision for the operator, not a default

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "filters": {"routine_maintenance": {"()": "dashboards.jobs.log_filters.WithoutRoutineMaintenance"}},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "rq.worker": {"filters": ["routine_maintenance"]},
    },
}
