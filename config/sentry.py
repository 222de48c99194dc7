"""Sentry, opt-in: with a DSN, errors from views and tasks (and Redis calls as
breadcrumbs/spans) reach it; without one, sentry-sdk is never even imported."""


def init_sentry(
    dsn: str, *, environment: str, release: str | None, traces_sample_rate: float, send_default_pii: bool
) -> bool:
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.redis import RedisIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration(), RedisIntegration()],
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        # Off unless allowed: the user (id, e-mail, IP), SQL parameters in query
        # breadcrumbs (they hold e-mails and amounts) and frames' local variables.
        data_collection={
            "user_info": send_default_pii,
            "database_query_data": send_default_pii,
            "stack_frame_variables": send_default_pii,
        },
    )
    return True
