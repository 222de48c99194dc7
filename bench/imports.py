"""Import benchmark: preview (parse + store + classify) and commit throughput
for CSV, OFX and CAMT.053 statements, into an account that already holds
--existing rows, with --merchants synthetic merchants in the master list.

Payees are drawn from --payees distinct statement strings: a third exact
merchant names, a third aliases, a third unknown (the trigram tier's worst
case). Prints ONE JSON line and deletes what it created (merchants too unless
--keep-merchants).

    DATABASE_URL=... .venv/bin/python bench/imports.py --rows 100000 --existing 100000 --merchants 1000000
"""

import argparse
import datetime
import io
import json
import os
import random
import resource
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from merchant_search import BENCH_TAG, aliases_for, synthetic_names  # noqa: E402
from merchant_search import load as load_merchants  # noqa: E402

from accounts.models import User  # noqa: E402
from ledger.imports import commits, parsers, previews  # noqa: E402
from ledger.models import Account, Import, Transaction  # noqa: E402
from merchants.models import Merchant  # noqa: E402
from merchants.services import normalize_merchant_text  # noqa: E402

START = datetime.date(2024, 1, 1)


def seed_merchants(count: int, rng: random.Random) -> list[str]:
    """The synthetic master list, loaded the way bench/merchant_search.py loads
    it (COPY with the secondary indexes rebuilt once: 1M merchants in minutes;
    bulk_create maintained every index row by row and took most of two hours)."""
    existing = Merchant.objects.filter(tags__contains=[BENCH_TAG]).count()
    names = synthetic_names(count, rng)
    if existing != count:
        Merchant.objects.filter(tags__contains=[BENCH_TAG]).delete()
        load_merchants(names)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE merchants_merchant")
    return names


def payee_pool(names: list[str], count: int, rng: random.Random) -> list[str]:
    pool = []
    for n in range(count):
        index = rng.randrange(len(names)) if names else 0
        kind = n % 3
        if kind == 0 and names:
            pool.append(names[index].upper())
        elif kind == 1 and names:
            pool.append(aliases_for(names[index], index)[0])
        else:
            pool.append(f"LOCAL SHOP {n} TOWN")
    return pool


def statement_rows(count: int, payees: list[str], rng: random.Random):
    for n in range(count):
        day = START + datetime.timedelta(days=rng.randrange(365))
        cents = rng.randrange(100, 20000) * (1 if rng.random() < 0.9 else -1)
        yield n, day, Decimal(cents) / 100, rng.choice(payees)


def csv_file(rows) -> bytes:
    out = io.StringIO()
    out.write("Transaction Date,Post Date,Description,Category,Type,Amount,Memo\n")
    for _, day, amount, payee in rows:
        # Chase card layout: money out written negative.
        out.write(f"{day:%m/%d/%Y},{day:%m/%d/%Y},{payee},Shopping,Sale,{-amount:.2f},\n")
    return out.getvalue().encode()


def ofx_file(rows) -> bytes:
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" '
              'OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE>'
              "<SEVERITY>INFO</SEVERITY></STATUS><DTSERVER>20250101</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS>"
              "</SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE>"
              "<SEVERITY>INFO</SEVERITY></STATUS><STMTRS><CURDEF>USD</CURDEF><BANKACCTFROM><BANKID>1</BANKID>"
              "<ACCTID>1</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM><BANKTRANLIST>"
              "<DTSTART>20240101</DTSTART><DTEND>20241231</DTEND>\n")  # fmt: skip
    for n, day, amount, payee in rows:
        kind = "DEBIT" if amount > 0 else "CREDIT"
        out.write(f"<STMTTRN><TRNTYPE>{kind}</TRNTYPE><DTPOSTED>{day:%Y%m%d}</DTPOSTED><TRNAMT>{-amount:.2f}</TRNAMT>"
                  f"<FITID>B{n}</FITID><NAME>{payee[:32]}</NAME></STMTTRN>\n")  # fmt: skip
    out.write("</BANKTRANLIST><LEDGERBAL><BALAMT>0.00</BALAMT><DTASOF>20241231</DTASOF></LEDGERBAL></STMTRS>"
              "</STMTTRNRS></BANKMSGSRSV1></OFX>\n")  # fmt: skip
    return out.getvalue().encode()


def camt_file(rows) -> bytes:
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
              '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
              "<BkToCstmrStmt><GrpHdr><MsgId>B</MsgId><CreDtTm>2025-01-01T00:00:00</CreDtTm></GrpHdr><Stmt>"
              "<Id>S1</Id><CreDtTm>2025-01-01T00:00:00</CreDtTm><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id>"
              "<Ccy>USD</Ccy></Acct>\n")  # fmt: skip
    for n, day, amount, payee in rows:
        side, party = ("DBIT", "Cdtr") if amount > 0 else ("CRDT", "Dbtr")
        out.write(f'<Ntry><NtryRef>N{n}</NtryRef><Amt Ccy="USD">{abs(amount):.2f}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
                  f"<Sts>BOOK</Sts><BookgDt><Dt>{day:%Y-%m-%d}</Dt></BookgDt><ValDt><Dt>{day:%Y-%m-%d}</Dt></ValDt>"
                  f"<AcctSvcrRef>R{n}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><{party}><Nm>{payee}</Nm></{party}>"
                  f"</RltdPties></TxDtls></NtryDtls></Ntry>\n")  # fmt: skip
    out.write("</Stmt></BkToCstmrStmt></Document>\n")
    return out.getvalue().encode()


def seed_existing(user, account, count: int, payees: list[str], rng: random.Random) -> None:
    now = datetime.datetime.now(datetime.UTC)
    columns = ("id, created_at, updated_at, user_id, account_id, kind, amount, currency, date, merchant_raw, "
               "merchant_normalized, category, source, notes, external_id, confidence, blockchain_hash, ipfs_cid, "
               "is_deleted, bank_category")  # fmt: skip
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY ledger_transaction ({columns}) FROM STDIN") as copy:
            for _, day, amount, payee in statement_rows(count, payees, rng):
                day = day - datetime.timedelta(days=400)  # before the statement: no duplicates by design
                copy.write_row((uuid.uuid4(), now, now, user.pk, account.pk, "standard", amount, "USD", day, payee,
                                normalize_merchant_text(payee), "Uncategorized", "manual", "", "", "{}", "", "",
                                False, ""))  # fmt: skip
        cursor.execute("ANALYZE ledger_transaction")


def cpu_s() -> float:
    """CPU seconds of this process plus its database backend (from /proc when the server is local)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = usage.ru_utime + usage.ru_stime
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        pass
    return total


def load() -> float:
    return round(os.getloadavg()[0], 2)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_reset() -> float:
    """Start a new peak: Linux resets VmHWM (the peak RSS) on `5` into
    clear_refs. -> the RSS now, in MB (0 where /proc cannot do it)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status_mb("VmRSS")
    except OSError:
        return 0.0


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def parse_rate(name: str, content: bytes) -> int:
    """Rows per second of the parse alone (no storing, no classification)."""
    started = time.perf_counter()
    count = sum(1 for _ in parsers.iter_parse(content, filename=name, profile=None, overrides={}, max_rows=10**7))
    return round(count / (time.perf_counter() - started))


def run(user, account, name: str, content: bytes, *, commit: bool) -> dict:
    parse_rows_per_s = parse_rate(name, content)
    before = rss_mb()
    base = peak_reset()
    started, cpu = time.perf_counter(), cpu_s()
    source = previews.import_preview(user=user, account_id=account.id, upload=SimpleUploadedFile(name, content))
    preview_s = time.perf_counter() - started
    preview_cpu = cpu_s() - cpu
    result = {
        "rows": source.total,
        "new": source.new_count,
        "preview_s": round(preview_s, 3),
        "preview_rows_per_s": round(source.total / preview_s),
        "preview_rows_per_cpu_s": round(source.total / preview_cpu),
        "parse_rows_per_s": parse_rows_per_s,
        "file_mb": round(len(content) / 1e6, 1),
    }
    if base:
        result["preview_peak_rss_growth_mb"] = round(_status_mb("VmHWM") - base, 1)
    if commit:
        base = peak_reset()
        started, cpu = time.perf_counter(), cpu_s()
        done = commits.import_commit(user=user, import_id=source.id, run_async=False)
        commit_s = time.perf_counter() - started
        commit_cpu = cpu_s() - cpu
        result.update(imported=done.imported_count, commit_s=round(commit_s, 3),
                      commit_rows_per_s=round(done.imported_count / commit_s),
                      commit_rows_per_cpu_s=round(done.imported_count / commit_cpu))  # fmt: skip
        if base:
            # The commit's own peak (the worker's), apart from the preview's and the test file's.
            result["commit_peak_rss_growth_mb"] = round(_status_mb("VmHWM") - base, 1)
    result["peak_rss_growth_mb"] = round(rss_mb() - before, 1)
    result["load"] = load()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--merchants", type=int, default=100_000)
    parser.add_argument("--payees", type=int, default=3000, help="Distinct payee strings in the statement.")
    parser.add_argument("--keep-merchants", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--formats", default="csv,ofx,camt053", help="Which of csv,ofx,camt053 to run.")
    args = parser.parse_args()
    # The bench measures throughput: the upload limits of a request do not apply.
    settings.LEDGER_IMPORT_MAX_BYTES = 1 << 40
    settings.LEDGER_IMPORT_MAX_ROWS = 10**8
    # As a worker runs: with DEBUG, Django keeps each statement's SQL (9,000 of them, a batch's ids
    # spelled out in each), which a million-row commit would count as its own memory.
    settings.DEBUG = False
    rng = random.Random(args.seed)

    names = seed_merchants(args.merchants, rng)
    payees = payee_pool(names, args.payees, rng)
    user = User.objects.create_user(email=f"bench-imports-{uuid.uuid4().hex[:8]}@example.com", password=None)
    try:
        accounts = {fmt: Account.objects.create(user=user, name=f"Bench {fmt}", currency="USD")
                    for fmt in ("csv", "ofx", "camt053")}  # fmt: skip
        seed_existing(user, accounts["csv"], args.existing, payees, rng)
        rows = list(statement_rows(args.rows, payees, rng))
        out = {"bench": "imports", "rows": args.rows, "existing": args.existing, "merchants": args.merchants,
               "distinct_payees": args.payees}  # fmt: skip
        out["csv"] = run(user, accounts["csv"], "chase.csv", csv_file(rows), commit=True)
        formats = args.formats.split(",")
        if "ofx" in formats:
            out["ofx"] = run(user, accounts["ofx"], "bank.ofx", ofx_file(rows), commit=False)
        if "camt053" in formats:
            out["camt053"] = run(user, accounts["camt053"], "stmt.xml", camt_file(rows), commit=False)
        for fmt in [fmt for fmt in ("ofx", "camt053") if fmt in out]:
            out[fmt]["preview_vs_csv"] = round(out[fmt]["preview_s"] / out["csv"]["preview_s"], 2)
            out[fmt]["parse_vs_csv"] = round(out["csv"]["parse_rows_per_s"] / out[fmt]["parse_rows_per_s"], 2)
        print(json.dumps(out))
    finally:
        Transaction.objects.filter(user=user).delete()
        Import.objects.filter(user=user).delete()
        user.delete()
        if not args.keep_merchants:
            Merchant.objects.filter(tags__contains=[BENCH_TAG]).delete()


if __name__ == "__main__":
    main()
