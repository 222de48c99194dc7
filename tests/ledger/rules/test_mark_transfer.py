"""The mark_transfer action: the row a rule marks is linked to its one
counterpart (in the account the rule names, when it names one), or its
candidates become suggestions."""

import datetime
from decimal import Decimal

import pytest

from ledger.books import services as books
from ledger.models import Transaction, TransactionChange, Transfer, TransferSuggestion
from ledger.rules import services as rules
from ledger.transactions import services as tx_services
from merchants.categories import Category

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 3, 10)
MOVE = {"all": [{"field": "merchant_raw", "op": "contains", "value": "move to"}]}


@pytest.fixture
def accounts(user):
    return {
        "checking": books.account_create(user=user, name="Checking", kind="checking", currency="USD", is_default=True),
        "savings": books.account_create(user=user, name="Savings", currency="USD"),
        "card": books.account_create(user=user, name="Visa", kind="credit_card", currency="USD"),
    }


def to_savings(accounts) -> list:
    return [{"type": "mark_transfer", "value": {"account": str(accounts["savings"].id)}}]


def add(user, account, amount, merchant, day=DAY):
    return tx_services.transaction_create(
        user=user, account=account, amount=Decimal(amount), date=day, merchant_raw=merchant, allow_duplicate=True
    )


def test_a_marked_row_is_linked_to_its_one_counterpart_in_the_named_account(user, accounts):
    # Two equal candidates: matching alone would only suggest; the rule names the account.
    deposit = add(user, accounts["savings"], "-25", "Deposit")
    add(user, accounts["card"], "-25", "Payment")
    rule = rules.rule_create(user=user, name="savings", conditions=MOVE, actions=to_savings(accounts))
    out = add(user, accounts["checking"], "25", "MOVE TO SAVINGS")
    transfer = Transfer.objects.get()
    assert (transfer.out_leg_id, transfer.in_leg_id) == (out.id, deposit.id)
    assert (out.kind, out.category) == (Transaction.Kind.TRANSFER, Category.TRANSFERS)  # the returned row is fresh
    deposit.refresh_from_db()
    assert deposit.kind == Transaction.Kind.TRANSFER
    audit = set(TransactionChange.objects.filter(rule_id=rule.id).values_list("transaction_id", "field", "new"))
    assert (out.id, "kind", "transfer") in audit and (deposit.id, "kind", "transfer") in audit
    assert not TransferSuggestion.objects.filter(status=TransferSuggestion.Status.OPEN).exists()


def test_without_an_account_two_candidates_become_suggestions(user, accounts):
    add(user, accounts["savings"], "-25", "Deposit")
    add(user, accounts["card"], "-25", "Payment")
    rules.rule_create(user=user, name="any", conditions=MOVE, actions=[{"type": "mark_transfer"}])
    out = add(user, accounts["checking"], "25", "Move to somewhere")
    assert not Transfer.objects.exists()
    assert out.kind == Transaction.Kind.STANDARD
    assert TransferSuggestion.objects.filter(out_leg_id=out.id).count() == 2


def test_apply_links_existing_rows_once(user, accounts):
    deposit = add(user, accounts["savings"], "-40", "Deposit", day=DAY + datetime.timedelta(days=1))
    add(user, accounts["card"], "-40", "Payment")
    out = add(user, accounts["checking"], "40", "move to savings")
    assert not Transfer.objects.exists()  # ambiguous: two candidates
    rule = rules.rule_create(user=user, name="savings", conditions=MOVE, actions=to_savings(accounts))
    assert rules.rule_apply(user=user, rule=rule)["changed"] == 2  # both legs changed
    assert set(Transfer.objects.values_list("out_leg_id", "in_leg_id")) == {(out.id, deposit.id)}
    assert rules.rule_apply(user=user, rule=rule)["changed"] == 0  # already a transfer leg


@pytest.mark.parametrize("path", ["/api/v1/rules", "/api/v1/rules/test"])
def test_an_account_of_another_user_is_a_404(auth_client, other_user, path):
    theirs = books.account_create(user=other_user, name="Theirs", currency="USD")
    actions = [{"type": "mark_transfer", "value": {"account": str(theirs.id)}}]
    body = {"name": "x", "conditions": MOVE, "actions": actions, "transaction": {"merchant_raw": "move to savings"}}
    response = auth_client.post(path, body, format="json")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_an_import_commit_links_the_marked_row(user, accounts):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ledger.imports import commits, previews

    deposit = add(user, accounts["savings"], "-25", "Deposit")
    add(user, accounts["card"], "-25", "Payment")
    # The value may be the account id itself.
    actions = [{"type": "mark_transfer", "value": str(accounts["savings"].id)}]
    rules.rule_create(user=user, name="savings", conditions=MOVE, actions=actions)
    content = b"date,amount,merchant\n2026-03-10,25.00,MOVE TO SAVINGS\n2026-03-11,9.00,Cafe\n"
    upload = SimpleUploadedFile("t.csv", content)
    checking = accounts["checking"].id
    source = previews.import_preview(
        user=user, account_id=checking, upload=upload, overrides={"sign": "positive_is_out"}
    )
    commits.import_commit(user=user, import_id=source.id, run_async=False)
    moved = Transaction.objects.get(merchant_raw="MOVE TO SAVINGS")
    assert set(Transfer.objects.values_list("out_leg_id", "in_leg_id")) == {(moved.id, deposit.id)}
    assert Transaction.objects.get(merchant_raw="Cafe").kind == Transaction.Kind.STANDARD


@pytest.fixture
def euro(user):
    return books.account_create(user=user, name="Euro savings", currency="EUR")


def test_a_counterpart_in_another_currency_is_paired_only_within_five_percent_of_the_converted_amount(
    user, accounts, euro
):
    from ledger.books import fx

    converted = fx.convert(Decimal("100.00"), "USD", "EUR", DAY)
    assert converted is not None  # the packaged ECB history has the day
    far = add(user, euro, str(-(converted * Decimal("1.10")).quantize(Decimal("0.01"))), "Deposit far")
    actions = [{"type": "mark_transfer", "value": {"account": str(euro.id)}}]
    rules.rule_create(user=user, name="to euro", conditions=MOVE, actions=actions)
    out = add(user, accounts["checking"], "100", "MOVE TO EURO")
    assert not Transfer.objects.exists()  # 10 % off: not the same money
    assert not TransferSuggestion.objects.filter(out_leg_id=out.id).exists()

    near = add(user, euro, str(-(converted * Decimal("1.03")).quantize(Decimal("0.01"))), "Deposit near")
    out = add(user, accounts["checking"], "100", "MOVE TO EURO again")
    transfer = Transfer.objects.get()
    assert (transfer.out_leg_id, transfer.in_leg_id) == (out.id, near.id)
    assert Transaction.objects.get(id=far.id).kind == Transaction.Kind.STANDARD


def test_a_same_currency_counterpart_wins_over_a_converted_one(user, accounts, euro):
    from ledger.books import fx

    converted = fx.convert(Decimal("50.00"), "USD", "EUR", DAY)
    add(user, euro, str(-converted), "Euro deposit")
    deposit = add(user, accounts["savings"], "-50", "Deposit")
    rules.rule_create(user=user, name="any", conditions=MOVE, actions=[{"type": "mark_transfer"}])
    out = add(user, accounts["checking"], "50", "move to savings")
    assert set(Transfer.objects.values_list("out_leg_id", "in_leg_id")) == {(out.id, deposit.id)}
    assert not TransferSuggestion.objects.filter(out_leg_id=out.id, status=TransferSuggestion.Status.OPEN).exists()
