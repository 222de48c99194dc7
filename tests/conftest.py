"""Shared fixtures. Tests use the real PostgreSQL (pytest-django's test
database) and real Redis: each xdist worker gets its own Redis database
number, flushed before every test, so workers never see each other's keys
and development data in database 0 is never touched."""

import os

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from tests.accounts.factories import UserFactory
from tests.redis_server import ThrowawayRedis, free_port

TEST_PASSWORD = "correct-horse-battery-9"


def _test_redis_url() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    base = int(os.environ.get("TEST_REDIS_DB_BASE", "1"))
    index = base + int(worker.removeprefix("gw") or 0)
    root = settings.REDIS_URL.rsplit("/", 1)[0]
    return f"{root}/{index}"


def pytest_configure(config):
    url = _test_redis_url()
    settings.REDIS_URL = url
    settings.CACHES["default"]["LOCATION"] = url
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [url]
    # Pub/sub channels are global to a Redis server, not per database number:
    # each xdist worker needs its own channel prefix, and the daphne processes
    # the e2e tests start inherit it through the environment.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    prefix = f"tally-test-{os.getpid()}-{worker}"
    os.environ["CHANNEL_LAYER_PREFIX"] = prefix
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = prefix
    settings.CELERY_BROKER_URL = url
    # The Celery app read its broker when Django started; point it here too so
    # nothing a test sends reaches the development queues.
    from config.celery import app as celery_app

    celery_app.conf.broker_url = url
    # Speed only: a cheap hasher. Everything else stays real.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def private_media_root(settings, tmp_path_factory):
    """Uploads (statements, receipts) land in a temporary folder, never in the
    working tree."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture(autouse=True)
def clean_redis():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield
    client.close()


def point_redis_at(settings, url: str) -> None:
    """The cache, the counters (config.redis) and the channel layer use ``url``
    for the rest of the test (the broker stays on the test database)."""
    settings.REDIS_URL = url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": [url]}}}


@pytest.fixture
def redis_away(settings):
    """Redis is down: every use of it meets a real refused connection on a port nothing listens on."""
    point_redis_at(settings, f"redis://127.0.0.1:{free_port()}/0")


@pytest.fixture
def throwaway_redis(settings, tmp_path):
    """A redis-server of the test's own, which the test may stop and start again."""
    server = ThrowawayRedis(tmp_path)
    server.start()
    point_redis_at(settings, server.url())
    yield server
    server.stop()


@pytest.fixture
def celery_eager():
    """Runs tasks inline (retries included) for tests of task bodies."""
    from config.celery import app as celery_app

    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = True, False
    yield celery_app
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def password():
    return TEST_PASSWORD


@pytest.fixture
def user(db):
    return UserFactory(password=TEST_PASSWORD)


@pytest.fixture
def other_user(db):
    return UserFactory(password=TEST_PASSWORD)


@pytest.fixture
def staff_user(db):
    return UserFactory(password=TEST_PASSWORD, is_staff=True)


def login(client, user, password=TEST_PASSWORD, **extra):
    response = client.post("/api/v1/auth/login", {"email": user.email, "password": password}, format="json", **extra)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def auth_client(user):
    """An APIClient carrying a real access token of ``user`` (a real session)."""
    client = APIClient()
    tokens = login(client, user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    client.tokens = tokens
    return client


@pytest.fixture
def other_client(other_user):
    client = APIClient()
    tokens = login(client, other_user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    client.tokens = tokens
    return client


@pytest.fixture
def staff_client(staff_user):
    client = APIClient()
    tokens = login(client, staff_user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    client.tokens = tokens
    return client


def access_token_for(user) -> str:
    from accounts.services import session_start

    return session_start(user=user).access


@pytest.fixture
def make_user(transactional_db):
    """Async tests: ``await make_user(**fields)``."""
    from channels.db import database_sync_to_async

    return database_sync_to_async(lambda **kw: UserFactory(**kw))


@pytest.fixture
def token_for(transactional_db):
    """Async tests: ``await token_for(user)`` is a real access token."""
    from channels.db import database_sync_to_async

    return database_sync_to_async(access_token_for)
