import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from config.currencies import is_currency
from config.models import TimeStampedModel


def default_preferences():
    return {
        "currency": "USD",
        "theme": "system",
        "notifications": {"email": True, "push": True, "weekly_summary": True, "monthly_report": True},
    }


def base_currency_from(preferences) -> str:
    """A new user's base currency: the preferences' currency when it is an ISO code, else USD."""
    code = str((preferences or {}).get("currency") or "").upper()
    return code if is_currency(code) else "USD"


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        # The whole address is compared case-insensitively, so store it lowercased.
        return (email or "").strip().lower()

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        extra_fields.setdefault("base_currency", base_currency_from(extra_fields.get("preferences")))
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("is_verified", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin, TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254)
    # An address the user asked to change to; it replaces ``email`` only once
    # a link mailed to it is opened, so until then mail and logins use the old one.
    # A database default too: code at an older migration state inserts users without it.
    pending_email = models.EmailField(max_length=254, blank=True, default="", db_default="")
    full_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    preferences = models.JSONField(default=default_preferences, blank=True)
    wallet_addresses = models.JSONField(default=list, blank=True)
    is_verified = models.BooleanField(default=False)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    # What every total is in: transactions carry amount_base in it.
    base_currency = models.CharField(max_length=3, default="USD", db_default="USD")
    # Set while the transactions' amount_base is being recomputed after a
    # base-currency change (another change meanwhile is a 409); cleared by the task.
    base_currency_recompute_started_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]
        indexes = [models.Index(fields=["email"], name="accounts_user_email_idx")]

    def __str__(self):
        return self.email


class Session(models.Model):
    """One device login. Tied to the refresh token through its jti, which
    changes on every rotation; access tokens carry the session id (``sid``)
    so revoking a session ends its access tokens too."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    refresh_jti = models.CharField(max_length=255, unique=True)
    user_agent = models.CharField(max_length=512, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-last_used_at"], name="accounts_session_user_idx"),
            models.Index(fields=["expires_at"], name="accounts_session_expires_idx"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.ip or '?'}"

    @property
    def is_active(self):
        return self.revoked_at is None and self.expires_at > timezone.now()
