"""Import profiles: the built-in ones (synced from the parsers' code into
rows with no user, read-only) and each user's own. Every write checks the
fields by building the parsers' Profile, so a saved profile always parses."""

from django.db import IntegrityError, transaction

from config.exceptions import Conflict, Invalid, NotFound
from ledger.imports.parsers import BUILTIN_PROFILES, Profile
from ledger.models import Import, ImportProfile

# The model's fields that mirror the parsers' Profile (name aside).
PROFILE_FIELDS = (
    "format",
    "header_signature",
    "delimiter",
    "encoding",
    "skip_rows",
    "date_format",
    "decimal_separator",
    "thousands_separator",
    "columns",
    "sign",
    "direction_column",
    "direction_out_values",
    "direction_in_values",
    "row_filters",
    "category_map",
    "currency",
)


def profile_for_parser(profile: ImportProfile) -> Profile:
    return Profile.from_dict({"name": profile.name, **{f: getattr(profile, f) for f in PROFILE_FIELDS}})


def profile_overrides(fields: dict) -> dict:
    """The profile fields of a request, checked by building a Profile with them."""
    overrides = {key: value for key, value in fields.items() if key in PROFILE_FIELDS}
    if not overrides:
        return {}
    checked = _checked({"name": "overrides", **overrides})  # tuples where the Profile keeps tuples
    return {key: getattr(checked, key) for key in overrides}


def _checked(data: dict) -> Profile:
    try:
        return Profile.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise Invalid(str(exc), code="invalid_profile")


def _fields_of(parsed: Profile) -> dict:
    data = parsed.to_dict()
    return {field: data[field] for field in PROFILE_FIELDS}


def import_profiles_sync_builtin() -> int:
    """Create or update the built-in rows from BUILTIN_PROFILES (idempotent)."""
    count = 0
    for key, parsed in BUILTIN_PROFILES.items():
        ImportProfile.objects.update_or_create(
            user=None, key=key[:64], defaults={"name": parsed.name[:100], **_fields_of(parsed)}
        )
        count += 1
    return count


def _save(profile: ImportProfile) -> ImportProfile:
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError:
        raise Conflict("You already have a profile with this name.", code="profile_name_taken", attr="name")
    return profile


def import_profile_create(*, user, name: str, **fields) -> ImportProfile:
    parsed = _checked({"name": name, **fields})
    return _save(ImportProfile(user=user, name=name, **_fields_of(parsed)))


def import_profile_update(*, profile: ImportProfile, **changes) -> ImportProfile:
    if profile.is_builtin:
        raise Invalid("Built-in profiles are read-only; save a copy of your own instead.", code="builtin_profile")
    current = profile_for_parser(profile).to_dict()
    parsed = _checked({**current, **changes})
    profile.name = changes.get("name", profile.name)
    for field, value in _fields_of(parsed).items():
        setattr(profile, field, value)
    return _save(profile)


def import_profile_delete(*, profile: ImportProfile) -> None:
    if profile.is_builtin:
        raise Invalid("Built-in profiles cannot be deleted.", code="builtin_profile")
    profile.delete()


def import_profile_from_import(*, user, source: Import, name: str) -> ImportProfile:
    """Save the profile an import was read with (overrides included) as the user's own."""
    if not source.profile_used:
        raise Invalid("This import was read without a profile (its format needs none).", code="no_profile")
    return import_profile_create(user=user, **{**source.profile_used, "name": name})


def import_profile_resolve(*, user, ref: str | None) -> ImportProfile | None:
    """'auto' or empty: None (detect); a built-in key or any visible profile's id."""
    from ledger.imports.selectors import import_profile_get

    if not ref or ref == "auto":
        return None
    builtin = ImportProfile.objects.filter(user=None, key=ref).first()
    if builtin:
        return builtin
    try:
        return import_profile_get(user=user, profile_id=ref)
    except NotFound:
        raise NotFound("No such import profile.", attr="profile")
