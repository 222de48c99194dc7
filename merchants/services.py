"""Merchant writes and matching.

CONTRACT used by the ledger (keep these signatures):
- normalize_merchant_text(raw) -> str: the comparison key for a merchant
  string (lowercase, store numbers / card-processor noise stripped,
  whitespace collapsed). The ledger stores it in
  Transaction.merchant_normalized and detects duplicates on it.
- match_merchant(raw_text) -> MerchantMatch | None: the best merchant above
  the confidence cut-off, for every new transaction.
- match_merchants(raw_texts) -> {normalized: MerchantMatch | None}: the same
  for many strings in two statements (imports).

Every path that writes a Merchant goes through merchant_fields() so
normalized_name and alias_keys always follow canonical_name and aliases.
"""

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from config.errors import Conflict, DomainError
from config.locks import lock_rows
from merchants.categories import CATEGORY_NAMES
from merchants.errors import MerchantErrorCode
from merchants.fields import category_from_input
from merchants.models import Merchant

# Card-processor / wallet prefixes written before the real merchant:
# "SQ *BLUE BOTTLE", "PAYPAL *NETFLIX", "TST* JOES DINER".
_PROCESSOR_PREFIX = re.compile(
    r"^(?:sq|tst|sp|py|pp|paypal|ggl|google|apl|ic|dd|doordash|pos|fs|bt|cke|pmnt|razorpay|payu|ccavenue)\s*\*\s*"
)
# Statement boilerplate in front of the merchant.
_CARD_PREFIX = re.compile(
    r"^(?:(?:pos|debit card|credit card|card|checkcard|visa|mastercard|recurring|ach|upi|nfc)\s+)+"
    r"(?:purchase|payment|debit|txn|transaction)?\s*"
)
# Reference codes after a "*" ("AMZN Mktp US*2K3AB12") and "#1234"-style store numbers.
_STAR_CODE = re.compile(r"\*\s*[a-z]*\d[a-z0-9]*\b")
_STORE_NO = re.compile(r"(?:#|\bno\.?\s*|\bstore\s+)\s*\d+\b")
_DATE = re.compile(r"\b\d{1,2}[/-]\d{1,2}(?:[/-]\d{2,4})?\b")
# Tokens that are reference numbers: 3+ digits, or mixed codes with 2+ digits.
_CODE_TOKEN = re.compile(r"\b(?:\d{3,}|(?=[a-z0-9]*\d[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{5,})\b")
_APOSTROPHE = re.compile(r"['\u2019`]")
_PUNCT = re.compile(r"[^\w\s&.+-]|_")
_SPACES = re.compile(r"\s+")


def normalize_merchant_text(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "").lower().strip()
    text = _CARD_PREFIX.sub("", text)
    text = _PROCESSOR_PREFIX.sub("", text)
    text = _STAR_CODE.sub(" ", text)
    text = _STORE_NO.sub(" ", text)
    text = _DATE.sub(" ", text)
    text = _CODE_TOKEN.sub(" ", text)
    # "McDonald's" and "MCDONALDS" are the same merchant on a statement.
    text = _APOSTROPHE.sub("", text)
    text = _PUNCT.sub(" ", text)
    text = _SPACES.sub(" ", text).strip(" .-+&")
    return text[:200]


@dataclass(frozen=True)
class MerchantMatch:
    merchant: Merchant
    score: float
    method: str  # exact | alias | prefix | fuzzy


# A match below this is a guess the ledger should not act on: a trigram
# similarity of 0.5 is roughly "one typo in a short name".
MATCH_CUTOFF = 0.5


def match_merchant(raw_text: str) -> MerchantMatch | None:
    """Best merchant for a raw statement string, or None below MATCH_CUTOFF.
    One SQL statement (the tiered search with limit 1)."""
    from merchants.selectors import merchant_search

    hits = merchant_search(q=raw_text, limit=1, min_score=MATCH_CUTOFF)
    if not hits:
        return None
    best = hits[0]
    return MerchantMatch(merchant=best, score=float(best.score), method=best.match)


def match_merchants(raw_texts) -> dict[str, MerchantMatch | None]:
    """match_merchant() for many statement strings at once, keyed by their
    normalised text: the same tiers and the same winner for each, in two SQL
    statements per call however many distinct texts (imports call it once
    per batch of distinct payees)."""
    from merchants.selectors import merchant_best_matches

    texts: dict[str, str] = {}
    for raw in raw_texts:
        normalized = normalize_merchant_text(raw)
        if normalized:
            texts.setdefault(normalized, raw)
    found = merchant_best_matches(texts=texts, min_score=MATCH_CUTOFF)
    return {
        normalized: MerchantMatch(merchant=hit[0], score=hit[1], method=hit[2])
        if (hit := found.get(normalized))
        else None
        for normalized in texts
    }


# ---------------------------------------------------------------------------
# Field cleaning shared by the API, the admin and the import command


def title_case_name(name: str) -> str:
    """Trim, collapse spaces and title-case lowercase words ("starbucks
    coffee" -> "Starbucks Coffee"). Mixed-case words (eBay, McDonald's) are
    kept; an all-caps name has its long words title-cased but keeps short
    ones that read as acronyms (KFC, IKEA, BP)."""
    text = _SPACES.sub(" ", (name or "").strip())
    shouting = text.isupper()
    words = []
    for word in text.split(" "):
        if word.islower() or (shouting and word.isupper() and len(word) > 4):
            word = word[0].upper() + word[1:].lower()
        words.append(word)
    return " ".join(words)


def clean_aliases(aliases, *, canonical_name: str = "") -> list[str]:
    """Trim, drop empties and the merchant's own name, de-duplicate
    case-insensitively (first spelling wins) and sort."""
    seen = {canonical_name.strip().lower()} if canonical_name else set()
    out = []
    for alias in aliases or []:
        alias = _SPACES.sub(" ", str(alias).strip())
        if alias and alias.lower() not in seen:
            seen.add(alias.lower())
            out.append(alias[:200])
    return sorted(out, key=str.lower)


def alias_keys_for(aliases) -> list[str]:
    return sorted({normalize_merchant_text(a) for a in aliases} - {""})


def merchant_fields(*, canonical_name: str, aliases) -> dict:
    """The derived columns for a name and alias list."""
    return {
        "normalized_name": normalize_merchant_text(canonical_name),
        "alias_keys": alias_keys_for(aliases),
    }


def clean_country(country) -> str:
    country = (country or "").strip().upper()
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise DomainError("Must be an ISO 3166 alpha-2 code, e.g. US.", code=MerchantErrorCode.INVALID, attr="country")
    return country


def clean_category(category) -> str:
    """A category by name (any case) or key (FOOD_DINING)."""
    category = category_from_input((category or "").strip())
    for name in CATEGORY_NAMES:
        if category.lower() == name.lower():
            return name
    raise DomainError(f"Unknown category {category!r}.", code=MerchantErrorCode.INVALID, attr="category")


# ---------------------------------------------------------------------------
# Create

NEAR_DUPLICATE_SIMILARITY = 0.8


def _conflict_for(*, canonical_name: str, aliases: list[str], exclude_ids=()) -> tuple[Merchant, str] | None:
    """The merchant a new (name, aliases) collides with, and why. One query:
    same name, alias equal to its name (or name equal to its alias), or a
    trigram near match (served by the trigram index through %)."""
    from merchants.selectors import merchant_conflicts

    return merchant_conflicts(
        canonical_name=canonical_name,
        normalized=normalize_merchant_text(canonical_name),
        aliases=aliases,
        alias_keys=alias_keys_for(aliases),
        near_similarity=NEAR_DUPLICATE_SIMILARITY,
        exclude_ids=exclude_ids,
    )


def _raise_conflict(existing: Merchant, reason: str):
    messages = {
        "name": f"A merchant named {existing.canonical_name!r} already exists.",
        "alias": f"An alias equals the merchant {existing.canonical_name!r}.",
        "near": f"The name is nearly the same as {existing.canonical_name!r}.",
    }
    raise Conflict(
        messages[reason],
        code=MerchantErrorCode(f"duplicate_{reason}"),
        existing_id=str(existing.id),
        existing_name=existing.canonical_name,
    )


def merchant_create(*, canonical_name: str, category: str, country: str = "", aliases=(), tags=None) -> Merchant:
    """Create a merchant. A name that exists (case-insensitively), an alias
    equal to another merchant's name, or a near match (similarity > 0.8)
    raises Conflict carrying the existing merchant's id."""
    name = title_case_name(canonical_name)
    if not name:
        raise DomainError("This field may not be blank.", code=MerchantErrorCode.BLANK, attr="canonical_name")
    aliases = clean_aliases(aliases, canonical_name=name)
    merchant = Merchant(
        canonical_name=name,
        category=clean_category(category),
        country=clean_country(country),
        aliases=aliases,
        tags=tags if tags is not None else [],
        **merchant_fields(canonical_name=name, aliases=aliases),
    )
    collision = _conflict_for(canonical_name=name, aliases=aliases)
    if collision:
        _raise_conflict(*collision)
    try:
        with transaction.atomic():
            merchant.save(force_insert=True)
    except IntegrityError:
        # A concurrent create won the unique index between the check and the insert.
        existing = Merchant.objects.filter(canonical_name__iexact=name).first()
        if existing is None:
            raise
        _raise_conflict(existing, "name")
    return merchant


def merchant_save(*, merchant: Merchant) -> Merchant:
    """Save a merchant edited outside merchant_create (the admin form):
    tidy aliases and recompute the derived search columns. Collisions are
    the caller's to check first (merchant_find_conflict)."""
    merchant.canonical_name = _SPACES.sub(" ", merchant.canonical_name.strip())
    merchant.aliases = clean_aliases(merchant.aliases, canonical_name=merchant.canonical_name)
    for attr, value in merchant_fields(canonical_name=merchant.canonical_name, aliases=merchant.aliases).items():
        setattr(merchant, attr, value)
    merchant.save()
    return merchant


@transaction.atomic
def merchant_update(*, merchant: Merchant, **changes) -> Merchant:
    """Edit canonical_name, category, country, aliases or tags (the admin's
    change page): the same cleaning as create, and the same collision rule
    against every other merchant (Conflict carrying the existing id)."""
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    if "canonical_name" in changes:
        merchant.canonical_name = _SPACES.sub(" ", (changes["canonical_name"] or "").strip())
        if not merchant.canonical_name:
            raise DomainError("This field may not be blank.", code=MerchantErrorCode.BLANK, attr="canonical_name")
    if "category" in changes:
        merchant.category = clean_category(changes["category"])
    if "country" in changes:
        merchant.country = clean_country(changes["country"])
    if "aliases" in changes:
        merchant.aliases = list(changes["aliases"] or [])
    if "tags" in changes:  # a list of tags, or an object of flags (as create and the import take)
        tags = changes["tags"]
        merchant.tags = tags if isinstance(tags, dict) else list(tags or [])
    if "canonical_name" in changes or "aliases" in changes:
        aliases = clean_aliases(merchant.aliases, canonical_name=merchant.canonical_name)
        collision = _conflict_for(canonical_name=merchant.canonical_name, aliases=aliases, exclude_ids=[merchant.pk])
        if collision:
            _raise_conflict(*collision)
    return merchant_save(merchant=merchant)


@transaction.atomic
def merchant_delete(*, merchant: Merchant) -> None:
    """Transactions and recurrences keep their text and lose the link (SET_NULL)."""
    merchant.delete()


def merchant_find_conflict(*, canonical_name: str, aliases, exclude_ids=()) -> tuple[Merchant, str] | None:
    """(existing merchant, reason) a name/alias list would collide with."""
    return _conflict_for(canonical_name=canonical_name, aliases=list(aliases or []), exclude_ids=exclude_ids)


# ---------------------------------------------------------------------------
# Merge


@transaction.atomic
def merchant_merge(*, target: Merchant, source_ids) -> Merchant:
    """Fold the sources into target: every row that references a source
    (found through Django's relation metadata, so ledger transactions and
    recurrences move without this app importing them) is re-pointed to the
    target, the sources' names and aliases become target aliases, and the
    sources are deleted, all in one transaction."""
    source_ids = list(dict.fromkeys(source_ids))
    if not source_ids:
        raise DomainError("Give at least one merchant to merge.", code=MerchantErrorCode.REQUIRED, attr="source_ids")
    if target.pk in source_ids:
        raise DomainError("A merchant cannot be merged into itself.", code=MerchantErrorCode.INVALID, attr="source_ids")
    # Lock target and sources in one fixed (id) order so two merges never deadlock.
    locked = lock_rows(Merchant.objects.all(), [target.pk, *source_ids])
    if target.pk not in locked:
        raise DomainError("The target merchant no longer exists.", code=MerchantErrorCode.NOT_FOUND, attr="target")
    missing = [str(pk) for pk in source_ids if pk not in locked]
    if missing:
        raise DomainError(
            f"Unknown merchant ids: {', '.join(missing)}.", code=MerchantErrorCode.NOT_FOUND, attr="source_ids"
        )
    target = locked[target.pk]
    sources = [locked[pk] for pk in source_ids]

    for relation in Merchant._meta.related_objects:
        if relation.many_to_many:
            model = relation.through if hasattr(relation, "through") else relation.field.remote_field.through
            field_name = next(f.name for f in model._meta.fields if f.is_relation and f.related_model is Merchant)
        else:
            model, field_name = relation.related_model, relation.field.name
        try:
            # A savepoint per relation: a row that would break the referencing
            # table's own unique rule (say one recurrence per user and merchant)
            # turns into a 409 for the whole merge instead of a 500.
            with transaction.atomic():
                model._base_manager.filter(**{f"{field_name}__in": source_ids}).update(**{field_name: target})
        except IntegrityError:
            raise Conflict(
                f"{model._meta.verbose_name_plural} of the sources collide with the target's; resolve them first.",
                code=MerchantErrorCode.MERGE_CONFLICT,
                existing_id=str(target.pk),
            )

    merged = list(target.aliases)
    for source in sources:
        merged.extend([source.canonical_name, *source.aliases])
    Merchant.objects.filter(pk__in=source_ids).delete()
    target.aliases = clean_aliases(merged, canonical_name=target.canonical_name)
    target.alias_keys = alias_keys_for(target.aliases)
    target.save(update_fields=["aliases", "alias_keys", "updated_at"])
    return target


# ---------------------------------------------------------------------------
# Import (the import_merchants command parses the file; this validates rows
# and writes them)


@dataclass
class ImportResult:
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list = field(default_factory=list)  # (line, row dict, reason)
    duplicates_in_file: int = 0
    existing_in_db: int = 0


def _parse_import_row(row: dict) -> dict:
    # Files are curated: names are trimmed, not re-cased (IRCTC stays IRCTC).
    name = _SPACES.sub(" ", (row.get("canonical_name") or "").strip())
    if not name:
        raise ValueError("canonical_name is empty")
    if len(name) > 200:
        raise ValueError("canonical_name is longer than 200 characters")
    try:
        category = clean_category(row.get("category"))
    except DomainError:
        raise ValueError(f"unknown category {row.get('category')!r}")
    try:
        country = clean_country(row.get("country"))
    except DomainError:
        raise ValueError(f"country {row.get('country')!r} is not an ISO 3166 alpha-2 code")
    raw_tags = (row.get("tags") or "").strip()
    try:
        tags = json.loads(raw_tags) if raw_tags else []
    except json.JSONDecodeError as exc:
        raise ValueError(f"tags is not valid JSON ({exc.msg})")
    if not isinstance(tags, list | dict):
        raise ValueError("tags must be a JSON list or object")
    aliases = clean_aliases((row.get("aliases") or "").split("|"), canonical_name=name)
    if any(len(a) > 200 for a in aliases):
        raise ValueError("an alias is longer than 200 characters")
    return {"canonical_name": name, "category": category, "country": country, "aliases": aliases, "tags": tags}


IMPORT_COLUMNS = ["canonical_name", "category", "aliases", "country", "tags"]
IMPORT_MAX_BYTES = 50 * 1024 * 1024


def merchant_rows_read(raw: bytes, *, source: str) -> list[tuple[int, dict]]:
    """(line number, row) pairs of a merchant CSV (the command's file, the
    admin's upload). A file too large, binary, not UTF-8, with a wrong header
    or broken CSV is refused whole, before anything is written."""
    if len(raw) > IMPORT_MAX_BYTES:
        raise DomainError(f"{source} is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB.", code="too_large")
    if b"\x00" in raw:
        raise DomainError(f"{source} looks like a binary file, not a CSV.", code=MerchantErrorCode.INVALID)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError(
            f"{source} is not UTF-8 (invalid byte at position {exc.start}).", code=MerchantErrorCode.INVALID
        )
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        raise DomainError(
            f"{source} has the wrong header: missing {', '.join(missing)}. "
            f"Expected columns: {', '.join(IMPORT_COLUMNS)}.",
            code=MerchantErrorCode.INVALID,
        )
    reader.fieldnames = header
    rows = []
    try:
        for row in reader:
            if None in row:
                row["_extra"] = row.pop(None)
            if not any((v or "").strip() for k, v in row.items() if k != "_extra"):
                continue  # blank line
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise DomainError(
            f"{source} is not a valid CSV (line {reader.line_num}): {exc}", code=MerchantErrorCode.INVALID
        )
    return rows


def merchant_import(*, rows, update: bool = False, dry_run: bool = False, batch_size: int = 500, progress=None):
    """Validate and write merchant rows ((line_number, dict) pairs).

    A row is rejected (with a reason) when a field is invalid, when its name
    repeats an earlier row of the file, or when one of its aliases is another
    merchant's name. A name already in the database is left alone, or with
    ``update`` its category, country, aliases and tags are overwritten when
    they differ, so re-running a file changes nothing. All writes are one
    transaction; ``dry_run`` validates and counts without writing."""
    result = ImportResult()
    parsed = []
    seen_names: dict[str, int] = {}
    for line, row in rows:
        try:
            data = _parse_import_row(row)
        except ValueError as exc:
            result.errors.append((line, row, str(exc)))
            continue
        key = data["canonical_name"].lower()
        if key in seen_names:
            result.duplicates_in_file += 1
            result.errors.append((line, row, f"duplicate of line {seen_names[key]} in this file"))
            continue
        seen_names[key] = line
        parsed.append((line, row, data))

    names = [data["canonical_name"].lower() for _, _, data in parsed]
    existing = {}
    for start in range(0, len(names), 5000):
        chunk = names[start : start + 5000]
        for merchant in Merchant.objects.annotate(lname=Lower("canonical_name")).filter(lname__in=chunk):
            existing[merchant.canonical_name.lower()] = merchant
    all_names = set(seen_names) | set(existing)
    # Names in the database that this file does not mention also count for
    # the "alias equals another merchant's name" rule.
    alias_lowers = {a.lower() for _, _, data in parsed for a in data["aliases"]}
    other_names = set(
        Merchant.objects.annotate(lname=Lower("canonical_name"))
        .filter(lname__in=list(alias_lowers))
        .values_list("canonical_name", flat=True)
    )
    all_names |= {n.lower() for n in other_names}

    to_create, to_update = [], []
    for line, row, data in parsed:
        own = data["canonical_name"].lower()
        clash = next((a for a in data["aliases"] if a.lower() in all_names and a.lower() != own), None)
        if clash:
            result.errors.append((line, row, f"alias {clash!r} is another merchant's name"))
            continue
        current = existing.get(own)
        if current is None:
            to_create.append(
                Merchant(**data, **merchant_fields(canonical_name=data["canonical_name"], aliases=data["aliases"]))
            )
            continue
        result.existing_in_db += 1
        if not update:
            result.skipped += 1
            continue
        changed = False
        for attr in ("category", "country", "aliases", "tags"):
            if getattr(current, attr) != data[attr]:
                setattr(current, attr, data[attr])
                changed = True
        keys = merchant_fields(canonical_name=current.canonical_name, aliases=current.aliases)
        for attr, value in keys.items():
            if getattr(current, attr) != value:
                setattr(current, attr, value)
                changed = True
        if changed:
            current.updated_at = timezone.now()  # bulk_update skips auto_now
            to_update.append(current)
        else:
            result.skipped += 1

    result.imported = len(to_create)
    result.updated = len(to_update)
    if dry_run:
        return result
    with transaction.atomic():
        for start in range(0, len(to_create), batch_size):
            batch = to_create[start : start + batch_size]
            Merchant.objects.bulk_create(batch, batch_size=batch_size)
            if progress:
                progress(len(batch))
        fields = ["category", "country", "aliases", "tags", "normalized_name", "alias_keys", "updated_at"]
        for start in range(0, len(to_update), batch_size):
            batch = to_update[start : start + batch_size]
            Merchant.objects.bulk_update(batch, fields, batch_size=batch_size)
            if progress:
                progress(len(batch))
    return result
