"""Nightly anchoring, immutability, proofs and verification against the
real database. Facts are formatted here independently of the SQL that
ledger/anchoring.py uses, so the two must agree."""

import datetime
import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django_celery_beat.models import PeriodicTask

from config.exceptions import DomainError
from ledger import tasks
from ledger.anchoring import hashing, merkle
from ledger.anchoring import services as anchoring
from ledger.anchoring.backends import LocalAnchorBackend, get_anchor_backend
from ledger.models import MerkleBatch, MerkleChunk, Transaction
from merchants.categories import Category
from realtime.models import Notification
from tests.ledger.factories import TransactionFactory

UTC = datetime.UTC
DAY = datetime.date(2026, 11, 22)
ROOT = Path(__file__).resolve().parents[3]
NIGHT = datetime.datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
LEDGER_DIR = Path(anchoring.__file__).parent.parent


def at(hour: int, day: datetime.date = DAY, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute, 0, 123456), tzinfo=UTC)


def make_tx(user, created_at, **fields) -> Transaction:
    tx = TransactionFactory(user=user, **fields)
    Transaction.objects.filter(pk=tx.pk).update(created_at=created_at)
    tx.refresh_from_db()
    return tx


def facts(tx: Transaction) -> dict[str, str]:
    return {
        "id": str(tx.id),
        "user_id": str(tx.user_id),
        "amount": f"{tx.amount:.2f}",
        "currency": tx.currency,
        "date": tx.date.isoformat(),
        "merchant_raw": tx.merchant_raw,
        "source": tx.source,
        "created_at": tx.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "account_id": str(tx.account_id),  # hash version 2
    }


def _dsn() -> dict:
    params = connection.get_connection_params()
    wanted = {key: value for key, value in params.items() if key in ("host", "port", "user")}
    return {"dbname": connection.settings_dict["NAME"], **wanted}


def raw_sql(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def ledger_rows(user, other_user):
    """Five rows before the 2026-11-22 cut-off (two users, a refund, unicode),
    one after it and one deleted."""
    rows = [
        make_tx(user, at(9), amount=Decimal("12.50"), merchant_raw="Café Zürich"),
        make_tx(other_user, at(1, DAY - datetime.timedelta(days=3)), amount=Decimal("-40.00")),
        make_tx(user, at(23, minute=59), amount=Decimal("1000.05"), date=DAY),
        make_tx(user, at(9), amount=Decimal("3.10")),  # same instant as the first: id breaks the tie
        make_tx(other_user, at(12), amount=Decimal("0.01"), source=Transaction.Source.CSV),
    ]
    late = make_tx(user, at(0, DAY + datetime.timedelta(days=1), minute=30), amount=Decimal("5.00"))
    deleted = make_tx(user, at(8), amount=Decimal("9.99"), is_deleted=True)
    return rows, late, deleted


def test_anchoring_stamps_rows_in_leaf_order_under_one_root(ledger_rows):
    rows, late, deleted = ledger_rows

    result = anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)

    ordered = sorted(rows, key=lambda tx: (tx.created_at, tx.id))
    stamped = list(Transaction.objects.filter(merkle_batch__isnull=False).order_by("leaf_index"))
    assert [tx.id for tx in stamped] == [tx.id for tx in ordered]
    assert [tx.leaf_index for tx in stamped] == [0, 1, 2, 3, 4]
    assert [tx.blockchain_hash for tx in stamped] == [merkle.transaction_hash(facts(tx)) for tx in ordered]
    batch = MerkleBatch.objects.get()
    expected_root = merkle.merkle_root(merkle.leaf_hash(tx.blockchain_hash) for tx in stamped).hex()
    assert (result.created, result.transaction_count, result.root_hash) == (True, 5, expected_root)
    assert (batch.batch_date, batch.root_hash, batch.transaction_count) == (DAY, expected_root, 5)
    assert batch.cutoff == datetime.datetime(2026, 11, 23, tzinfo=UTC)
    assert batch.anchor_backend == "local" and get_anchor_backend("local").verify(batch.root_hash, batch.anchor_ref)
    late.refresh_from_db()
    deleted.refresh_from_db()
    assert (late.merkle_batch_id, late.blockchain_hash, deleted.merkle_batch_id) == (None, "", None)


def test_rerunning_a_date_changes_nothing(ledger_rows):
    first = anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    columns = ("id", "blockchain_hash", "merkle_batch", "leaf_index")
    snapshot = list(Transaction.objects.order_by("id").values_list(*columns))
    TransactionFactory(user=ledger_rows[0][0].user)  # a new row does not join an existing batch

    again = anchoring.ledger_anchor(batch_date=DAY, now=NIGHT + datetime.timedelta(hours=5))

    assert (again.created, again.root_hash, again.transaction_count) == (False, first.root_hash, 5)
    assert MerkleBatch.objects.count() == 1
    after = Transaction.objects.order_by("id").values_list(*columns)
    assert [row for row in after if row[0] in {r[0] for r in snapshot}] == snapshot


def test_rows_after_the_cutoff_and_restored_rows_join_the_next_batch(ledger_rows):
    _, late, deleted = ledger_rows
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    Transaction.objects.filter(pk=deleted.pk).update(is_deleted=False)

    next_day = datetime.timedelta(days=1)
    result = anchoring.ledger_anchor(batch_date=DAY + next_day, now=NIGHT + next_day)

    assert result.transaction_count == 2
    batch = MerkleBatch.objects.get(batch_date=DAY + datetime.timedelta(days=1))
    assert set(batch.transactions.values_list("id", flat=True)) == {late.id, deleted.id}


def test_a_manual_run_for_today_cuts_off_at_now(user):
    now = datetime.datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    before = make_tx(user, now - datetime.timedelta(minutes=1))
    make_tx(user, now + datetime.timedelta(minutes=1))

    result = anchoring.ledger_anchor(batch_date=now.date(), now=now)

    assert result.transaction_count == 1
    assert MerkleBatch.objects.get().cutoff == now
    assert Transaction.objects.get(merkle_batch__isnull=False).id == before.id


def test_the_default_run_closes_yesterday_at_midnight_and_leaves_todays_rows(ledger_rows):
    rows, late, _ = ledger_rows
    afternoon = datetime.datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

    result = anchoring.ledger_anchor(now=afternoon)

    batch = MerkleBatch.objects.get()
    midnight = datetime.datetime(2026, 11, 23, tzinfo=UTC)
    assert (batch.batch_date, batch.cutoff, result.transaction_count) == (DAY, midnight, 5)
    # Created today (00:30): not frozen into yesterday's batch; tonight's run takes it.
    assert Transaction.objects.get(pk=late.pk).merkle_batch_id is None


def test_future_dates_are_refused_and_empty_days_get_the_empty_root(db):
    with pytest.raises(DomainError):
        anchoring.ledger_anchor(batch_date=DAY + datetime.timedelta(days=2), now=NIGHT)
    result = anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    assert (result.created, result.transaction_count, result.root_hash) == (True, 0, merkle.EMPTY_ROOT.hex())


def edit_while_hashing(monkeypatch, sql: str, params) -> None:
    """Another connection commits ``sql`` after anchoring read the rows and
    before it stamps them (once, at the first row hashed)."""
    original, edited = hashing.hash_row, []

    def hash_and_edit_behind_our_back(row, *version):
        if not edited:
            with psycopg.connect(**_dsn(), autocommit=True) as other:
                other.execute(sql, params)
            edited.append(True)
        return original(row, *version)

    monkeypatch.setattr(hashing, "hash_row", hash_and_edit_behind_our_back)


@pytest.mark.django_db(transaction=True)
def test_a_row_edited_while_hashing_rolls_the_batch_back(user, monkeypatch):
    rows = [make_tx(user, at(hour)) for hour in (1, 2, 3)]
    edit_while_hashing(monkeypatch, "UPDATE ledger_transaction SET amount = 99 WHERE id = %s", [rows[2].id])

    with pytest.raises(anchoring.AnchoringRaced):
        anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)

    assert MerkleBatch.objects.count() == 0
    assert not Transaction.objects.filter(merkle_batch__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_an_unhashed_edit_while_hashing_does_not_stop_the_batch(user, monkeypatch):
    rows = [make_tx(user, at(hour)) for hour in (1, 2, 3)]
    edit_while_hashing(
        monkeypatch,
        "UPDATE ledger_transaction SET category = 'Travel', notes = 'x', is_deleted = true, updated_at = now() "
        "WHERE id = %s",
        [rows[2].id],
    )

    result = anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)

    assert result.transaction_count == 3
    assert Transaction.objects.filter(merkle_batch__isnull=False).count() == 3
    (report,) = anchoring.ledger_verify()
    assert report.ok


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_make_one_batch(user):
    from concurrent.futures import ThreadPoolExecutor

    for hour in range(1, 6):
        make_tx(user, at(hour))

    def run(_):
        try:
            return anchoring.ledger_anchor(batch_date=DAY, now=NIGHT).created
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        created = sorted(pool.map(run, range(2)))

    assert created == [False, True]
    assert MerkleBatch.objects.get().transaction_count == 5
    assert sorted(Transaction.objects.values_list("leaf_index", flat=True)) == [0, 1, 2, 3, 4]


class FlakyBackend(LocalAnchorBackend):
    calls = []

    def anchor(self, root_hex):
        FlakyBackend.calls.append(root_hex)
        if len(FlakyBackend.calls) == 1:
            raise ConnectionError("calendar unreachable")
        return super().anchor(root_hex)


def test_a_failed_anchor_call_keeps_the_batch_and_the_next_run_anchors_it(ledger_rows, settings):
    settings.LEDGER_ANCHOR_BACKENDS = {**settings.LEDGER_ANCHOR_BACKENDS, "flaky": f"{__name__}.FlakyBackend"}
    settings.LEDGER_ANCHOR_BACKEND = "flaky"
    FlakyBackend.calls = []

    with pytest.raises(ConnectionError):
        anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    batch = MerkleBatch.objects.get()
    assert (batch.transaction_count, batch.anchor_ref, batch.anchor_backend) == (5, "", "flaky")

    again = anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)

    assert (again.created, again.transaction_count) == (False, 5)
    batch.refresh_from_db()
    assert batch.anchor_ref.startswith("local:v1:") and FlakyBackend.calls == [batch.root_hash] * 2
    (report,) = anchoring.ledger_verify()
    assert report.ok


# --- immutability --------------------------------------------------------------------------------------------


@pytest.fixture
def anchored(user):
    tx = make_tx(user, at(9), amount=Decimal("25.00"), merchant_raw="Corner Shop", category=Category.GROCERIES)
    make_tx(user, at(10), amount=Decimal("7.00"))
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    tx.refresh_from_db()
    return tx


@pytest.mark.parametrize(
    "change",
    [{"amount": "26.00"}, {"date": "2026-11-01"}, {"merchant_raw": "Other Shop"}, {"amount": "1", "notes": "x"}],
)
def test_anchored_facts_cannot_change(auth_client, anchored, change):
    response = auth_client.patch(f"/api/v1/transactions/{anchored.id}", change, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["errors"][0]["code"] == "anchored"
    assert "Delete it and enter a corrected transaction" in body["errors"][0]["detail"]
    assert set(body["fields"]) == set(change) - {"notes"}
    stored = Transaction.objects.get(pk=anchored.pk)
    assert (stored.amount, stored.date, stored.merchant_raw, stored.notes) == (
        Decimal("25.00"),
        anchored.date,
        "Corner Shop",
        "",
    )


def test_unhashed_fields_stay_editable_after_anchoring(auth_client, anchored):
    same_facts = {"amount": "25.00", "merchant_raw": " Corner Shop "}
    response = auth_client.patch(
        f"/api/v1/transactions/{anchored.id}", {**same_facts, "category": Category.TRANSPORT, "notes": "bus"}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["category"], response.json()["notes"]) == (Category.TRANSPORT, "bus")
    assert anchored.corrections.get().new_category == Category.TRANSPORT
    assert auth_client.delete(f"/api/v1/transactions/{anchored.id}").status_code == 204
    assert auth_client.post(f"/api/v1/transactions/{anchored.id}/restore").status_code == 200
    (report,) = anchoring.ledger_verify(batch_date=DAY)
    assert report.ok


def test_unanchored_facts_are_still_editable(auth_client, user):
    tx = TransactionFactory(user=user, amount=Decimal("5.00"))
    response = auth_client.patch(f"/api/v1/transactions/{tx.id}", {"amount": "6.00"}, format="json")
    assert response.status_code == 200
    assert response.json()["amount"] == "6.00"


def test_admin_keeps_anchored_facts_and_rows(anchored, client):
    from django.contrib import admin
    from django.test import RequestFactory

    from tests.accounts.factories import UserFactory

    staff_user = UserFactory(is_staff=True, is_superuser=True)
    model_admin = admin.site._registry[Transaction]
    request = RequestFactory().get("/")
    request.user = staff_user
    fresh = TransactionFactory()
    assert {"amount", "date", "merchant_raw"} <= set(model_admin.get_readonly_fields(request, anchored))
    assert "amount" not in model_admin.get_readonly_fields(request, fresh)

    # A change form opened before the row was anchored cannot change its facts.
    form_class = model_admin.get_form(request, fresh, change=True)
    Transaction.objects.filter(pk=fresh.pk).update(merkle_batch=anchored.merkle_batch, leaf_index=99)
    data = {**{f: getattr(fresh, f) for f in ("currency", "date", "merchant_raw", "category", "source", "notes")}}
    form = form_class(data={**data, "user": fresh.user_id, "amount": "99.00", "external_id": ""}, instance=fresh)
    assert not form.is_valid()
    assert "anchored" in str(form.errors)

    # Admin's deletes are the API's soft delete: anchored rows stay for verification.
    unanchored = TransactionFactory()
    client.force_login(staff_user)
    delete = {"action": "delete_selected", "_selected_action": [anchored.pk, unanchored.pk], "post": "yes"}
    assert client.post("/admin/ledger/transaction/", delete).status_code == 302
    rows = Transaction.objects.filter(pk__in=[anchored.pk, unanchored.pk])
    assert sorted(rows.values_list("is_deleted", flat=True)) == [True, True]


# --- verification -------------------------------------------------------------------------------------------


def run_verify(*args) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    except CommandError as error:
        code = error.returncode
        out.write(str(error))
    return code, out.getvalue()


def test_verify_ledger_exits_2_when_there_is_nothing_to_verify(ledger_rows):
    code, output = run_verify()
    assert (code, output) == (2, "No anchored batch to verify yet.")

    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    code, output = run_verify("--date", "2026-11-21")
    assert code == 2 and "There is no batch for 2026-11-21" in output


def test_verify_ledger_takes_yesterday_and_today(ledger_rows):
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)

    with time_machine.travel(datetime.datetime(2026, 11, 23, 15, tzinfo=UTC), tick=False):
        yesterday = run_verify("--date", "yesterday")
        today = run_verify("--date", "today")

    assert yesterday[0] == 0 and "2026-11-22  ok  rows 5/5" in yesterday[1]
    assert today[0] == 2 and "There is no batch for 2026-11-23" in today[1]


def test_verify_ledger_usage_errors_exit_2():
    command = [sys.executable, "manage.py", "verify_ledger", "--date", "last-tuesday"]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert finished.returncode == 2
    assert "is not YYYY-MM-DD, 'today' or 'yesterday'" in finished.stderr


def test_verify_ledger_passes_an_untouched_ledger(ledger_rows):
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    code, output = run_verify()
    assert code == 0
    assert "2026-11-22  ok  rows 5/5" in output
    assert MerkleBatch.objects.get().verification_ok is True


@pytest.mark.parametrize(
    "column,value", [("amount", Decimal("12.51")), ("date", datetime.date(2026, 11, 21)), ("merchant_raw", "Cafe")]
)
def test_verify_ledger_catches_a_raw_sql_edit(ledger_rows, column, value):
    target = ledger_rows[0][0]
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    raw_sql(f"UPDATE ledger_transaction SET {column} = %s WHERE id = %s", [value, target.id])

    code, output = run_verify("--date", "2026-11-22")

    assert code == 1
    assert "MISMATCH" in output
    assert f"problem=row_changed  transaction_id={target.id}" in output
    assert output.count("problem=") == 1
    # The anchored leaves themselves are intact: their root and anchor still verify.
    assert "root matches  anchor verifies" in output
    assert MerkleBatch.objects.get().verification_ok is False


def test_verify_ledger_json_reports_rewritten_hashes_and_missing_rows(ledger_rows):
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    victim, rewritten, relabelled = Transaction.objects.filter(leaf_index__in=[1, 3, 4]).order_by("leaf_index")
    # Rewriting the stored hash column along with the amount does not hide
    # the edit (rows are compared with the anchored leaves), a hard-deleted
    # row is a missing leaf, and a hash column edited alone is reported too.
    new_facts = {**facts(rewritten), "amount": "0.02"}
    raw_sql(
        "UPDATE ledger_transaction SET amount = 0.02, blockchain_hash = %s WHERE id = %s",
        [merkle.transaction_hash(new_facts), rewritten.id],
    )
    raw_sql("DELETE FROM ledger_transaction WHERE id = %s", [victim.id])
    raw_sql("UPDATE ledger_transaction SET blockchain_hash = %s WHERE id = %s", ["0" * 64, relabelled.id])

    code, output = run_verify("--json")

    report = json.loads(output)
    assert code == 1 and report["ok"] is False and report["rows_checked"] == 4
    assert [(p["problem"], p["leaf_index"], p["transaction_id"]) for p in report["problems"]] == [
        ("missing", 1, str(victim.id)),
        ("row_changed", 3, str(rewritten.id)),
        ("hash_column_changed", 4, str(relabelled.id)),
    ]
    assert report["problems"][1]["recomputed_hash"] == merkle.transaction_hash(new_facts)
    assert report["root_matches"] is True and report["anchor_ok"] is True


def test_verify_ledger_catches_rewritten_anchored_leaves(ledger_rows):
    """Someone who rewrites a row, its hash column and its anchored leaf
    still moves the chunk's root away from the recorded one."""
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    target = Transaction.objects.get(leaf_index=2)
    new_facts = {**facts(target), "amount": "1.00"}
    new_hash = merkle.transaction_hash(new_facts)
    raw_sql("UPDATE ledger_transaction SET amount = 1, blockchain_hash = %s WHERE id = %s", [new_hash, target.id])
    chunk = MerkleChunk.objects.get()
    hashes = bytearray(chunk.transaction_hashes)
    hashes[64:96] = bytes.fromhex(new_hash)
    MerkleChunk.objects.filter(pk=chunk.pk).update(transaction_hashes=bytes(hashes))

    (report,) = anchoring.ledger_verify()

    assert report.problems == [{"problem": "chunk_changed", "leaf_range": [0, 4]}]
    assert (report.ok, report.root_matches, report.anchor_ok) == (False, False, True)


def test_verify_survives_broken_leaf_indexes(ledger_rows):
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    nulled, moved = Transaction.objects.filter(leaf_index__in=[0, 2]).order_by("leaf_index")
    raw_sql("UPDATE ledger_transaction SET leaf_index = NULL WHERE id = %s", [nulled.id])
    raw_sql("UPDATE ledger_transaction SET leaf_index = 99 WHERE id = %s", [moved.id])

    (report,) = anchoring.ledger_verify()

    found = sorted((p["problem"], -1 if p["leaf_index"] is None else p["leaf_index"]) for p in report.problems)
    assert found == [("extra_leaf", -1), ("extra_leaf", 99), ("missing", 0), ("missing", 2)]
    assert report.ok is False and report.root_matches is True


def test_verify_reports_an_unknown_anchor_backend_instead_of_failing(staff_client, anchored):
    MerkleBatch.objects.update(anchor_backend="retired-chain")
    response = staff_client.post("/api/v1/ledger/batches/verify", {"date": "2026-11-22"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["anchor_ok"]) == (False, False)
    assert body["problems"][0]["problem"] == "unknown_anchor_backend"


def test_verify_ledger_catches_a_rewritten_root(ledger_rows):
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    MerkleBatch.objects.update(root_hash="ab" * 32)
    (report,) = anchoring.ledger_verify()
    assert (report.ok, report.root_matches, report.anchor_ok) == (False, False, False)


def test_nightly_task_anchors_and_alerts_staff_about_the_previous_batch(
    ledger_rows, staff_user, user, celery_eager, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(NIGHT)
    tasks.anchor_ledger.delay()
    assert MerkleBatch.objects.get().batch_date == DAY
    raw_sql("UPDATE ledger_transaction SET amount = amount + 1 WHERE leaf_index = 0")
    make_tx(user, NIGHT + datetime.timedelta(hours=12))
    time_machine.move_to(NIGHT + datetime.timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.anchor_ledger.delay().get()

    # The 23rd's batch: the row made at 00:30 that night and the one at noon.
    assert result["anchored"]["batch_date"] == "2026-11-23" and result["anchored"]["transaction_count"] == 2
    assert result["previous"] == {"batch_date": "2026-11-22", "ok": False}
    alert = Notification.objects.get(type="integrity_alert")
    assert alert.user_id == staff_user.id
    assert (alert.data["batch_date"], alert.data["problem_count"]) == ("2026-11-22", 1)
    assert not Notification.objects.filter(type="integrity_alert", user=user).exists()
    assert [m.to for m in mail.outbox] == [[staff_user.email]]
    assert "2026-11-22" in mail.outbox[0].subject


def test_anchoring_is_scheduled_nightly_at_two(db):
    task = PeriodicTask.objects.get(task="ledger.anchor_ledger")
    assert (task.crontab.hour, task.crontab.minute, task.enabled) == ("2", "0", True)


# --- proofs -------------------------------------------------------------------------------------------------


def test_proof_from_the_api_verifies(auth_client, anchored):
    response = auth_client.get(f"/api/v1/transactions/{anchored.id}/proof")

    assert response.status_code == 200
    proof = response.json()
    assert proof["transaction"] == facts(anchored)
    assert (proof["leaf_index"], proof["leaf_count"], proof["batch_date"]) == (0, 2, "2026-11-22")
    assert proof["root_hash"] == MerkleBatch.objects.get().root_hash
    assert proof["row_matches"] is True
    assert [name for name, passed, _ in merkle.verify_proof(proof) if not passed] == []


def test_proofs_hold_across_chunks(user):
    rows = [make_tx(user, at(0, minute=i)) for i in range(11)]
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT, chunk_size=4)
    for tx in rows:
        proof = anchoring.transaction_proof(user=user, transaction_id=tx.id)
        assert all(passed for _, passed, _ in merkle.verify_proof(proof)), tx.leaf_index


def test_a_neighbours_proof_survives_deletes_and_rewrites(user, auth_client):
    rows = [make_tx(user, at(1, minute=i)) for i in range(6)]
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    deleted, rewritten, kept, soft_deleted = rows[1], rows[2], rows[3], rows[4]
    raw_sql("DELETE FROM ledger_transaction WHERE id = %s", [deleted.id])
    raw_sql("UPDATE ledger_transaction SET amount = 1, blockchain_hash = %s WHERE id = %s", ["0" * 64, rewritten.id])
    assert auth_client.delete(f"/api/v1/transactions/{soft_deleted.id}").status_code == 204

    for tx in (kept, soft_deleted):
        proof = anchoring.transaction_proof(user=user, transaction_id=tx.id)
        assert proof["row_matches"] is True
        assert [name for name, passed, _ in merkle.verify_proof(proof) if not passed] == []
    # The rewritten row: its proof is built from the anchored leaf, so it says so.
    proof = anchoring.transaction_proof(user=user, transaction_id=rewritten.id)
    assert proof["row_matches"] is False
    assert proof["transaction_hash"] == merkle.transaction_hash(facts(rewritten))
    assert [name for name, passed, _ in merkle.verify_proof(proof) if not passed] == ["facts hash to transaction_hash"]


def test_a_damaged_anchored_record_is_a_409_not_a_500(auth_client, anchored):
    MerkleChunk.objects.all().delete()
    response = auth_client.get(f"/api/v1/transactions/{anchored.id}/proof")
    assert (response.status_code, response.json()["errors"][0]["code"]) == (409, "proof_unavailable")
    raw_sql("UPDATE ledger_transaction SET leaf_index = NULL WHERE id = %s", [anchored.id])
    assert auth_client.get(f"/api/v1/transactions/{anchored.id}/proof").status_code == 409


def test_proof_is_404_for_others_and_409_before_anchoring(auth_client, other_client, anchored, user):
    assert other_client.get(f"/api/v1/transactions/{anchored.id}/proof").status_code == 404
    fresh = TransactionFactory(user=user)
    response = auth_client.get(f"/api/v1/transactions/{fresh.id}/proof")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "not_anchored"


def test_proof_of_a_tampered_row_says_so(auth_client, anchored):
    raw_sql("UPDATE ledger_transaction SET amount = 2500 WHERE id = %s", [anchored.id])
    proof = auth_client.get(f"/api/v1/transactions/{anchored.id}/proof").json()
    assert proof["row_matches"] is False
    assert proof["transaction"]["amount"] == "2500.00"
    failed = [name for name, passed, _ in merkle.verify_proof(proof) if not passed]
    assert failed == ["facts hash to transaction_hash"]


def offline_verifier(tmp_path: Path) -> Path:
    """The verifier's two files, the `python -m ledger.verify_proof` entry and
    the empty packages, alone in a directory."""
    for name in (
        "__init__.py",
        "verify_proof.py",
        "anchoring/__init__.py",
        "anchoring/merkle.py",
        "anchoring/verify_proof.py",
    ):
        (tmp_path / "ledger" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(LEDGER_DIR / name, tmp_path / "ledger" / name)
    return tmp_path


def run_offline(directory: Path, proof_file: Path) -> subprocess.CompletedProcess:
    # -S -E: no site-packages and no environment, so only the standard library is importable.
    return subprocess.run(
        [sys.executable, "-S", "-E", "-m", "ledger.verify_proof", str(proof_file)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_offline_verifier_checks_a_proof_fetched_from_the_api(auth_client, anchored, tmp_path):
    directory = offline_verifier(tmp_path)
    no_django = subprocess.run([sys.executable, "-S", "-E", "-c", "import django"], cwd=directory, capture_output=True)
    assert no_django.returncode != 0
    proof = auth_client.get(f"/api/v1/transactions/{anchored.id}/proof").json()
    good = tmp_path / "proof.json"
    good.write_text(json.dumps(proof))
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**proof, "transaction": {**proof["transaction"], "amount": "2.50"}}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")

    valid, invalid, unreadable = (run_offline(directory, path) for path in (good, forged, broken))

    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert f"VALID: transaction {anchored.id} is leaf 0 of the 2026-11-22 batch" in valid.stdout
    assert invalid.returncode == 1
    assert "FAIL facts hash to transaction_hash" in invalid.stdout
    assert unreadable.returncode == 2


# --- staff API ----------------------------------------------------------------------------------------------


def test_batches_and_verify_are_staff_only(auth_client, anchored):
    assert auth_client.get("/api/v1/ledger/batches").status_code == 403
    assert auth_client.post("/api/v1/ledger/batches/verify", {"date": "2026-11-22"}).status_code == 403


def test_staff_lists_batches_and_verifies_one(staff_client, staff_user, anchored):
    listing = staff_client.get("/api/v1/ledger/batches").json()
    assert [row["batch_date"] for row in listing["results"]] == ["2026-11-22"]
    assert staff_client.get("/api/v1/ledger/batches/2026-11-22").json()["transaction_count"] == 2

    clean = staff_client.post("/api/v1/ledger/batches/verify", {"date": "2026-11-22"}, format="json")
    raw_sql("UPDATE ledger_transaction SET date = '2026-01-01' WHERE id = %s", [anchored.id])
    dirty = staff_client.post("/api/v1/ledger/batches/verify", {"date": "2026-11-22"}, format="json")

    assert (clean.status_code, clean.json()["ok"]) == (200, True)
    assert (dirty.status_code, dirty.json()["ok"]) == (200, False)
    assert dirty.json()["problems"][0]["transaction_id"] == str(anchored.id)
    # The caller reads the report; only unattended runs alert staff.
    assert not Notification.objects.filter(type="integrity_alert").exists()
    assert staff_client.get("/api/v1/ledger/batches/2026-11-22").json()["verification_ok"] is False


def test_staff_verify_errors(staff_client, anchored, celery_eager):
    missing = staff_client.post("/api/v1/ledger/batches/verify", {"date": "2026-01-01"}, format="json")
    assert (missing.status_code, missing.json()["errors"][0]["code"]) == (400, "no_batch")
    bad = staff_client.post("/api/v1/ledger/batches/verify", {"date": "yesterday"}, format="json")
    assert (bad.status_code, bad.json()["errors"][0]["attr"]) == (400, "date")
    queued = staff_client.post("/api/v1/ledger/batches/verify", {}, format="json")
    assert queued.status_code == 202 and queued.json()["task_id"]
    assert MerkleBatch.objects.get().verification_ok is True


def test_the_nightly_task_retries_a_raced_batch(ledger_rows, celery_eager, monkeypatch):
    original, attempts = anchoring.ledger_anchor_nightly, []

    def raced_once(**kwargs):
        attempts.append(kwargs)
        if len(attempts) == 1:
            raise anchoring.AnchoringRaced("1 row(s) changed while the batch was hashed")
        return original(**kwargs)

    monkeypatch.setattr(anchoring, "ledger_anchor_nightly", raced_once)
    result = tasks.anchor_ledger.delay(batch_date="2026-11-22")

    assert result.successful(), result.traceback
    assert len(attempts) == 2
    assert result.get()["anchored"]["transaction_count"] == 5


def test_unknown_or_impossible_batch_dates_are_404(staff_client, anchored):
    for date in ("2026-01-01", "2026-13-45"):
        response = staff_client.get(f"/api/v1/ledger/batches/{date}")
        assert (response.status_code, response.json()["errors"][0]["code"]) == (404, "not_found")
