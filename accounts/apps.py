from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_save


def _forget_cached_user(sender, instance, **kwargs):
    from accounts import session_cache

    # Now and after the commit: a reader may re-fill the key from the old row in between.
    session_cache.forget_user(instance.pk)
    transaction.on_commit(lambda: session_cache.forget_user(instance.pk))


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts import schema  # noqa: F401 - registers the OpenAPI auth extension
        from accounts.models import User

        post_save.connect(_forget_cached_user, sender=User, dispatch_uid="accounts.forget_cached_user.save")
        post_delete.connect(_forget_cached_user, sender=User, dispatch_uid="accounts.forget_cached_user.delete")
