"""Transfer matching in an import's commit is decided before the rows are
written (books.prematch: a matched row goes in already a transfer leg, only
its counterpart is updated). It must give every pair the verdict matching
gives the written rows, whatever the batches: the same links, the same
suggestions, the same fates and categories."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from ledger.books.prematch import TransferPlan
from ledger.imports import commits, previews
from ledger.models import ImportRow, Transaction, Transfer, TransferSuggestion
from merchants.categories import Category
from tests.accounts.factories import UserFactory
from tests.ledger.factories import AccountFactory, TransactionFactory

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 3, 10)


def _day(offset):
    return (DAY + datetime.timedelta(days=offset)).isoformat()


# The statement (into checking): the sign as the file has it, turned into
# Tally's by the import (money out positive); each row's story in its payee.
STATEMENT = [
    (0, "-50.00", "Unique card payment"),  # one candidate on the card: linked
    (0, "-70.00", "Two candidates"),  # card and savings both fit: suggested
    (0, "-30.00", "Shared counterpart"),  # its card row has another candidate in savings
    (0, "-40.00", "Pending twin one"),  # the card row fits both twins, written in two batches
    (3, "-40.00", "Pending twin two"),
    (1, "-25.00", "Ledger rival"),  # its card row also fits an older checking row
    (0, "-15.00", "Rejected elsewhere"),  # its card row's other candidate was rejected: linked
    (0, "-60.00", "Five days"),  # too far: nothing
    (0, "80.00", "Money in from savings"),  # linked, the new row is the in leg
    (0, "9.99", "Coffee"),
]


def _ledger(user):
    """The user's accounts and rows before the import; -> (checking, by name)."""
    checking = AccountFactory(user=user, name="Checking", kind="checking", currency="USD")
    card = AccountFactory(user=user, name="Card", kind="credit_card", currency="USD")
    savings = AccountFactory(user=user, name="Savings", kind="savings", currency="USD")

    def row(account, amount, offset, name, category=Category.BILLS_UTILITIES):
        return TransactionFactory(user=user, account=account, amount=Decimal(amount), date=DAY + datetime.timedelta(
            days=offset), merchant_raw=name, category=category)  # fmt: skip

    rows = {
        "card 50": row(card, "-50.00", 2, "card 50"),
        "card 70": row(card, "-70.00", 0, "card 70"),
        "savings 70": row(savings, "-70.00", 0, "savings 70"),
        "card 30": row(card, "-30.00", 0, "card 30"),
        "savings +30": row(savings, "30.00", 1, "savings +30"),
        "card 40": row(card, "-40.00", 1, "card 40"),
        "card 25": row(card, "-25.00", 1, "card 25"),
        "checking +25": row(checking, "25.00", 0, "checking +25"),
        "card 15": row(card, "-15.00", 0, "card 15"),
        "savings +15": row(savings, "15.00", 0, "savings +15"),
        "card 60": row(card, "-60.00", 5, "card 60"),
        "savings +80": row(savings, "80.00", 0, "savings +80", category=Category.SHOPPING),
    }
    TransferSuggestion.objects.create(user=user, out_leg=rows["savings +15"], in_leg=rows["card 15"],
                                      status=TransferSuggestion.Status.REJECTED)  # fmt: skip
    return checking


def _import(user, checking):
    lines = ["date,amount,payee"] + [f"{_day(offset)},{amount},{payee}" for offset, amount, payee in STATEMENT]
    content = ("\n".join(lines) + "\n").encode()
    source = previews.import_preview(user=user, account_id=checking.id, upload=SimpleUploadedFile("s.csv", content))
    return commits.import_commit(user=user, import_id=source.id, run_async=False)


def _outcome(user, done):
    def name(tx_id):
        return Transaction.objects.get(pk=tx_id).merchant_raw

    transfers = {
        (name(t.out_leg_id), name(t.in_leg_id), t.out_category, t.in_category, t.created_by)
        for t in Transfer.objects.filter(user=user)
    }
    suggestions = {
        (name(s.out_leg_id), name(s.in_leg_id), s.date_diff, s.status)
        for s in TransferSuggestion.objects.filter(user=user)
    }
    rows = {
        (row.merchant_raw, row.kind, row.category, row.transfer_id is not None)
        for row in Transaction.objects.filter(user=user)
    }
    fates = sorted(ImportRow.objects.filter(source_import=done).values_list("row_number", "fate"))
    return {"transfers": transfers, "suggestions": suggestions, "rows": rows, "fates": fates,
            "matched": done.transfers_matched, "imported": done.imported_count}  # fmt: skip


@pytest.mark.parametrize("batch", [2, 1000])
def test_links_decided_before_the_write_are_the_links_matching_makes_after_it(settings, monkeypatch, batch):
    settings.LEDGER_IMPORT_COMMIT_BATCH = batch
    planned_user, matched_user = UserFactory(), UserFactory()
    planned = _outcome(planned_user, _import(planned_user, _ledger(planned_user)))
    monkeypatch.setattr(commits, "transfers_plan", lambda **kwargs: None)  # matching after the write, as before
    matched = _outcome(matched_user, _import(matched_user, _ledger(matched_user)))

    assert planned == matched
    assert {(out, into) for out, into, *_ in planned["transfers"]} == {
        ("Unique card payment", "card 50"),
        ("Rejected elsewhere", "card 15"),
        ("savings +80", "Money in from savings"),
    }
    assert {(out, into) for out, into, _, status in planned["suggestions"] if status == "open"} == {
        ("Two candidates", "card 70"),
        ("Two candidates", "savings 70"),
        ("Shared counterpart", "card 30"),
        ("Pending twin one", "card 40"),
        ("Pending twin two", "card 40"),
        ("Ledger rival", "card 25"),
    }
    assert planned["matched"] == 3 and planned["imported"] == len(STATEMENT)
    assert [fate for _, fate in planned["fates"]].count("transfer") == 3
    # Both legs keep the category they had (or would have had) for an unlink; the new one was never spending.
    savings_leg = next(t for t in planned["transfers"] if t[0] == "savings +80")
    assert savings_leg[2] == Category.SHOPPING and savings_leg[3] not in ("", Category.TRANSFERS)
    assert {t[4] for t in planned["transfers"]} == {"import"}
    assert ("Money in from savings", "transfer", Category.TRANSFERS, True) in planned["rows"]


def test_a_counterpart_that_moves_on_before_its_batch_is_left_alone(user, monkeypatch):
    checking = _ledger(user)
    card_50 = Transaction.objects.get(user=user, merchant_raw="card 50")
    original = TransferPlan.link

    def deleted_meanwhile(self, rows, **kwargs):
        Transaction.objects.filter(pk=card_50.pk).update(is_deleted=True)  # another request, between plan and batch
        return original(self, rows, **kwargs)

    monkeypatch.setattr(TransferPlan, "link", deleted_meanwhile)

    done = _import(user, checking)

    payment = Transaction.objects.get(user=user, merchant_raw="Unique card payment")
    assert (payment.kind, payment.transfer_id) == ("standard", None)
    assert not Transfer.objects.filter(out_leg=payment).exists()
    assert done.status == "committed" and done.transfers_matched == 2


def test_preview_and_commit_hold_their_shape_when_the_statistics_are_stale(user):
    """A file whose every row has one counterpart on a card, previewed and
    committed when the tables' statistics say they are empty (collected
    before a bulk load, as on a database without autovacuum, or before the
    preview's rows were copied). Left to those statistics, duplicate
    classification and the transfer plan nested loops inside loops: each
    scanned the user's (or every import's) rows again for every row of the
    file, minutes at 20k rows and tens of seconds here; set-based, without
    nested loops, each is a pass over the rows. The statement_timeout (in
    the test's transaction) bounds every statement; it is not a measurement."""
    rows = 3000
    checking = AccountFactory(user=user, name="Checking", kind="checking", currency="USD")
    card = AccountFactory(user=user, name="Card", kind="credit_card", currency="USD")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_transaction, ledger_importrow, ledger_transfersuggestion")
    # One payment on the card for every statement row: its opposite amount, a day later.
    Transaction.objects.bulk_create(
        Transaction(user=user, account=card, amount=Decimal(-(100 + n)) / 100, currency="USD",
                    date=DAY + datetime.timedelta(days=n % 30 + 1), merchant_raw="Payment",
                    merchant_normalized="payment") for n in range(rows)
    )  # fmt: skip
    lines = ["date,amount,payee"] + [f"{_day(n % 30)},-{(100 + n) / 100:.2f},Card payment {n}" for n in range(rows)]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '10s'")  # until the test's transaction ends

    source = previews.import_preview(
        user=user, account_id=checking.id, upload=SimpleUploadedFile("s.csv", ("\n".join(lines) + "\n").encode())
    )
    done = commits.import_commit(user=user, import_id=source.id, run_async=False)

    assert (done.imported_count, done.transfers_matched) == (rows, rows)
    assert Transaction.objects.filter(account=card, kind="transfer").count() == rows
    assert not TransferSuggestion.objects.filter(user=user).exists()
