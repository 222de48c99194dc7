"""Every write of the accounts app: users, device sessions and their tokens,
passwords and e-mail verification."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed, Throttled, ValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import session_cache, throttling
from accounts.models import Session, User, default_preferences
from accounts.signals import base_currency_changed, base_currency_changing, session_ended
from accounts.tokens import (
    decode_uid,
    email_change_token,
    email_verification_token,
    encode_uid,
    password_reset_token,
)
from config.exceptions import Conflict


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    session: Session


def _check_password_rules(password: str, user: User | None = None, field: str = "password") -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationError({field: list(exc.messages)}, code="weak_password")


def user_create(*, email: str, password: str, full_name: str = "", phone: str = "") -> User | None:
    """Registers a new, unverified user and mails the verification link. For
    an address that already has an account nothing is created and its owner
    is mailed instead; the caller answers the same either way (and the same
    work is done, a password hash included), so registering reveals nothing
    about who has an account. Returns the new user, or None."""
    email = User.objects.normalize_email(email)
    _check_password_rules(password, User(email=email, full_name=full_name))
    existing = User.objects.filter(email=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=password, full_name=full_name, phone=phone)
        except IntegrityError:
            # Two registrations raced past the lookup; the unique index decided.
            existing = User.objects.filter(email=email).first()
        else:
            email_verification_send(user=user)
            return user
    make_password(password)  # what creating the user would have cost
    if existing is not None:
        _send_templated_mail(user=existing, template="email_in_use", context={})
    return None


PREFERENCE_THEMES = {"light", "dark", "system"}


def _merge_preferences(current: dict, changes: dict) -> dict:
    merged = {**default_preferences(), **(current or {})}
    for key, value in changes.items():
        if key == "notifications":
            merged["notifications"] = {**merged.get("notifications", {}), **value}
        else:
            merged[key] = value
    return merged


# A recompute flag older than this belongs to a task that died: another change is allowed.
BASE_CURRENCY_RECOMPUTE_STALE_AFTER = timedelta(minutes=15)


def base_currency_change(*, user: User, currency: str) -> bool:
    """Change what the user's totals are in. The converted amounts of every
    transaction are recomputed by a task (queued after commit through
    ``base_currency_changed``); a change while that runs is a 409. Amounts
    other apps keep in the base currency are converted in the same
    transaction (``base_currency_changing``); what they did is left on
    ``user.base_currency_change`` for the answer.
    -> True when a recompute was queued (False: unchanged)."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.base_currency == currency:
            return False
        started = locked.base_currency_recompute_started_at
        if started and started > timezone.now() - BASE_CURRENCY_RECOMPUTE_STALE_AFTER:
            raise Conflict(
                "Your amounts are still being converted to the previous base currency; try again in a moment.",
                code="base_currency_recompute_running",
            )
        old = locked.base_currency
        locked.base_currency = currency
        locked.base_currency_recompute_started_at = timezone.now()
        locked.save(update_fields=["base_currency", "base_currency_recompute_started_at", "updated_at"])
        user.base_currency = locked.base_currency
        user.base_currency_recompute_started_at = locked.base_currency_recompute_started_at
        # What else was stored in the old base and was converted with it (budgets), for the answer.
        change = {"from": old, "to": currency}
        for _receiver, response in base_currency_changing.send(
            sender=User, user_id=locked.pk, old=old, new=currency, on=timezone.localdate()
        ):
            change.update(response or {})
        user.base_currency_change = change
        transaction.on_commit(
            lambda: base_currency_changed.send(sender=User, user_id=locked.pk, base_currency=currency)
        )
    return True


def base_currency_recompute_finish(*, user_id) -> None:
    User.objects.filter(pk=user_id).update(base_currency_recompute_started_at=None)


@transaction.atomic
def user_update(*, user: User, data: dict) -> User:
    """Profile edits. A new e-mail address needs the current password and
    stays pending until a link mailed to it is opened; the old address keeps
    working (logins, resets) and is told about the change. The answer is the
    same whether or not the new address already has an account. A new base
    currency recomputes converted amounts in a task."""
    if "base_currency" in data:
        base_currency_change(user=user, currency=data["base_currency"])
    fields = []
    for name in ("full_name", "phone", "wallet_addresses"):
        if name in data:
            setattr(user, name, data[name])
            fields.append(name)
    if "preferences" in data:
        user.preferences = _merge_preferences(user.preferences, data["preferences"])
        fields.append("preferences")
    new_email = User.objects.normalize_email(data["email"]) if "email" in data else None
    if new_email == user.email and user.pending_email:
        user.pending_email = ""  # back to the current address: the pending change is cancelled
        fields.append("pending_email")
    elif new_email is not None and new_email not in (user.email, user.pending_email):
        current_password = data.get("current_password") or ""
        if not current_password:
            raise ValidationError(
                {"current_password": ["Give your current password to change the e-mail address."]}, code="required"
            )
        if not user.check_password(current_password):
            raise ValidationError({"current_password": ["The current password is wrong."]}, code="wrong_password")
        user.pending_email = new_email
        fields.append("pending_email")
    if fields:
        user.save(update_fields=[*fields, "updated_at"])
    if user.pending_email and "pending_email" in fields:
        _email_change_mails(user=user)
    return user


def _email_change_mails(*, user: User) -> None:
    _send_templated_mail(user=user, template="email_change_notice", context={"new_email": user.pending_email})
    owner = User.objects.filter(email=user.pending_email).first()
    if owner is not None:
        # Taken: its owner hears of the attempt, and the asker gets no link
        # (nor any other sign that the address has an account).
        _send_templated_mail(user=owner, template="email_in_use", context={})
        return
    _send_templated_mail(
        user=user,
        template="email_change_confirm",
        context={"uid": encode_uid(user), "token": email_change_token.make_token(user)},
        recipient=user.pending_email,
    )


def _expiry_of(token) -> datetime:
    return datetime.fromtimestamp(token["exp"], tz=UTC)


def _issue_refresh(user: User, session_id) -> RefreshToken:
    refresh = RefreshToken.for_user(user)  # also records the OutstandingToken row
    refresh["sid"] = str(session_id)
    return refresh


@transaction.atomic
def session_start(*, user: User, user_agent: str = "", ip: str | None = None) -> TokenPair:
    session_id = uuid.uuid4()
    refresh = _issue_refresh(user, session_id)
    session = Session.objects.create(
        id=session_id,
        user=user,
        refresh_jti=refresh["jti"],
        user_agent=(user_agent or "")[:512],
        ip=ip or None,
        expires_at=_expiry_of(refresh),
    )
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh), session=session)


def login(*, email: str, password: str, user_agent: str = "", ip: str | None = None) -> TokenPair:
    """Raises throttling.ProtectionUnavailable when the lockout counters
    cannot be read (the login is refused)."""
    locked_for = throttling.account_lock_remaining(email)
    if locked_for:
        raise Throttled(
            wait=locked_for,
            detail="Too many failed sign-ins for this account: it is locked for a while. "
            "Try again later, or reset the password.",
        )
    user = authenticate(email=email, password=password)  # counts a wrong password (accounts.backends)
    if user is None:
        raise AuthenticationFailed("E-mail or password is wrong.", code="invalid_credentials")
    return session_start(user=user, user_agent=user_agent, ip=ip)


def account_locked_notify(*, email: str) -> None:
    """Tells the owner (if the address has an account) that it was locked
    and until when; nothing for an address without one."""
    user = User.objects.filter(email=User.objects.normalize_email(email)).first()
    if user is None:
        return
    config = settings.ACCOUNT_LOCKOUT
    _send_templated_mail(
        user=user,
        template="account_locked",
        context={
            "failures": config["MAX_FAILURES"],
            "minutes": max(config["LOCK_SECONDS"] // 60, 1),
            "until": timezone.now() + timedelta(seconds=config["LOCK_SECONDS"]),
        },
    )


def _parse_refresh(raw: str) -> RefreshToken:
    try:
        # Verifies signature, expiry, type == refresh and the blacklist.
        return RefreshToken(raw)
    except TokenError as exc:
        raise AuthenticationFailed(str(exc), code="token_not_valid")


class _SignedRefreshToken(RefreshToken):
    """A refresh token checked for signature, expiry and type but not the
    blacklist: a rotated token is blacklisted, and refresh must still see
    which session it belongs to in order to notice its reuse."""

    def check_blacklist(self) -> None:
        pass


def _blacklist_jti(jti: str) -> None:
    outstanding = OutstandingToken.objects.filter(jti=jti).first()
    if outstanding is not None:
        BlacklistedToken.objects.get_or_create(token=outstanding)


def session_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: the presented refresh token dies and a new pair is issued for
    the same session. The session row is locked and must still name the
    presented jti, so two concurrent refreshes with one token yield one pair.

    A token of the session that is no longer its current one was rotated
    already: someone replays it (a thief, or the owner after a thief), so the
    whole session is revoked with every token it holds (OAuth 2.0 Security
    BCP, refresh token rotation)."""
    try:
        token = _SignedRefreshToken(refresh_token)
    except TokenError as exc:
        raise AuthenticationFailed(str(exc), code="token_not_valid")
    with transaction.atomic():
        session = (
            Session.objects.select_for_update()
            .select_related("user")
            .filter(id=_uuid_or_none(token.get("sid")), user_id=_uuid_or_none(token.get("user_id")))
            .first()
        )
        if session is None or session.revoked_at is not None or not session.user.is_active:
            raise AuthenticationFailed("Token is invalid or expired", code="token_not_valid")
        if session.refresh_jti != token["jti"]:
            session_revoke(session=session)
            reused = True
        else:
            reused = False
            _blacklist_jti(token["jti"])
            new_refresh = _issue_refresh(session.user, session.id)
            session.refresh_jti = new_refresh["jti"]
            session.last_used_at = timezone.now()
            session.expires_at = _expiry_of(new_refresh)
            session.save(update_fields=["refresh_jti", "last_used_at", "expires_at"])
    if reused:
        # Raised after the commit: the revocation must stick.
        raise AuthenticationFailed(
            "This refresh token was already used; the session has been signed out.", code="token_not_valid"
        )
    return TokenPair(access=str(new_refresh.access_token), refresh=str(new_refresh), session=session)


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@transaction.atomic
def session_revoke(*, session: Session) -> Session:
    if session.revoked_at is None:
        session.revoked_at = timezone.now()
        session.save(update_fields=["revoked_at"])
        session_id, user_id = session.id, session.user_id
        # The cached check refuses it from now on; written again after the
        # commit in case a reader re-filled the key from the old row meanwhile.
        session_cache.mark_ended(session_id)
        transaction.on_commit(lambda: session_cache.mark_ended(session_id))
        # After commit: open sockets of the session close (realtime listens).
        transaction.on_commit(lambda: session_ended.send(sender=Session, session_id=session_id, user_id=user_id))
    _blacklist_jti(session.refresh_jti)
    return session


def logout(*, user: User, refresh_token: str) -> None:
    """Ends the session the refresh token belongs to; the token must be the
    caller's own."""
    token = _parse_refresh(refresh_token)
    session = Session.objects.filter(id=token.get("sid"), user=user, refresh_jti=token["jti"]).first()
    if session is None:
        raise ValidationError({"refresh": ["This refresh token does not belong to a session of yours."]})
    session_revoke(session=session)


@transaction.atomic
def sessions_revoke_all(*, user: User, keep_session_id=None) -> int:
    sessions = list(Session.objects.filter(user=user, revoked_at__isnull=True).exclude(id=keep_session_id))
    for session in sessions:
        session_revoke(session=session)
    return len(sessions)


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str, current_session_id=None) -> None:
    """Ends every other session: a changed password often means a stolen one."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": ["The current password is wrong."]}, code="wrong_password")
    _check_password_rules(new_password, user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    sessions_revoke_all(user=user, keep_session_id=current_session_id)


def _send_templated_mail(*, user: User, template: str, context: dict, recipient: str | None = None) -> None:
    context = {"user": user, "frontend_url": settings.FRONTEND_URL, **context}
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"accounts/email/{template}.txt", context)
    recipient = recipient or user.email
    # Sent after commit so a rolled-back change never mails the user.
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient], fail_silently=False)
    )


def password_reset_request(*, email: str) -> None:
    """Mails a reset link if the address belongs to an active user; answers
    the same either way so the endpoint does not reveal who has an account."""
    user = User.objects.filter(email=User.objects.normalize_email(email), is_active=True).first()
    if user is None:
        return
    _send_templated_mail(
        user=user,
        template="password_reset",
        context={"uid": encode_uid(user), "token": password_reset_token.make_token(user)},
    )


def _user_from_uid(uid: str) -> User | None:
    pk = decode_uid(uid)
    if not pk:
        return None
    try:
        return User.objects.filter(pk=pk).first()
    except (ValueError, DjangoValidationError):
        return None


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    user = _user_from_uid(uid)
    if user is None or not password_reset_token.check_token(user, token):
        raise ValidationError({"token": ["The reset link is invalid or has expired."]}, code="invalid_token")
    _check_password_rules(new_password, user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    sessions_revoke_all(user=user)
    # Whoever locked the account out guessed the old password; the owner may sign in now.
    email = user.email
    transaction.on_commit(lambda: throttling.account_failures_clear(email, unlock=True))
    return user


def email_verification_send(*, user: User) -> None:
    if user.is_verified:
        return
    _send_templated_mail(
        user=user,
        template="verify_email",
        context={"uid": encode_uid(user), "token": email_verification_token.make_token(user)},
    )


@transaction.atomic
def email_verification_confirm(*, uid: str, token: str) -> User:
    """Opens a link from a verification mail: either the account's address
    (it becomes verified) or a pending new address (it replaces the old one,
    verified)."""
    user = _user_from_uid(uid)
    if user is not None and user.pending_email and email_change_token.check_token(user, token):
        return _email_change_apply(user)
    if user is None or not email_verification_token.check_token(user, token):
        raise ValidationError({"token": ["The verification link is invalid or has expired."]}, code="invalid_token")
    user.is_verified = True
    user.save(update_fields=["is_verified", "updated_at"])
    return user


def _email_change_apply(user: User) -> User:
    user.email, user.pending_email, user.is_verified = user.pending_email, "", True
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "pending_email", "is_verified", "updated_at"])
    except IntegrityError:
        # Someone registered the address after the link was sent.
        raise ValidationError({"token": ["This address now belongs to another account."]}, code="unique")
    return user


REVOKED_SESSION_RETENTION_DAYS = 30


@transaction.atomic
def sessions_cleanup_expired(*, now=None) -> dict:
    """Deletes sessions that expired, or were revoked more than 30 days ago
    (kept that long so a user can see where they were signed out), and the
    refresh tokens that can no longer be used."""
    now = now or timezone.now()
    sessions, _ = Session.objects.filter(
        models.Q(expires_at__lt=now) | models.Q(revoked_at__lt=now - timedelta(days=REVOKED_SESSION_RETENTION_DAYS))
    ).delete()
    tokens, _ = OutstandingToken.objects.filter(expires_at__lt=now).delete()
    return {"sessions": sessions, "tokens": tokens}
