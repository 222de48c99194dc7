from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from merchants.categories import CATEGORY_NAMES
from merchants.models import Merchant
from merchants.selectors import merchant_search
from merchants.services import match_merchant

pytestmark = pytest.mark.django_db

HEADER = "canonical_name,category,aliases,country,tags\n"
SEED = Path(__file__).resolve().parents[2] / "data" / "merchants_seed.csv"


def run(path, *args, errors_log=None, rejected=False):
    """The command's stdout; ``rejected``: it must fail (exit 1) because rows were rejected."""
    out, err = StringIO(), StringIO()
    command = ["import_merchants", str(path), *args, "--errors-log", str(errors_log or path.with_suffix(".log"))]
    if not rejected:
        call_command(*command, stdout=out, stderr=err)
        return out.getvalue()
    with pytest.raises(CommandError, match=r"row\(s\) rejected") as failure:
        call_command(*command, stdout=out, stderr=err)
    assert failure.value.returncode == 1
    return out.getvalue()


def write(tmp_path, body, name="merchants.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


GOOD = (
    'Starbucks,Food & Dining,STARBUCKS STORE|SBUX|SBUX,US,"[""coffee""]"\n'
    "Amazon,Shopping,AMZN MKTP US|AMZN MKTP,US,\n"
    'Tesco,groceries,TESCO STORES,gb,"{""chain"": true}"\n'
)


def test_good_file_is_imported_with_derived_columns(tmp_path):
    output = run(write(tmp_path, GOOD))

    assert "imported 3, updated 0, skipped 0, errors 0" in output
    tesco = Merchant.objects.get(canonical_name="Tesco")
    assert (tesco.category, tesco.country, tesco.tags) == ("Groceries", "GB", {"chain": True})
    starbucks = Merchant.objects.get(canonical_name="Starbucks")
    assert starbucks.aliases == ["SBUX", "STARBUCKS STORE"]
    assert starbucks.normalized_name == "starbucks"
    assert starbucks.alias_keys == ["sbux", "starbucks store"]
    assert merchant_search(q="amzn mktp")[0].canonical_name == "Amazon"
    assert not (tmp_path / "merchants.log").exists()


def test_rerunning_the_same_file_changes_nothing(tmp_path):
    path = write(tmp_path, GOOD)
    run(path, "--update")
    before = {m.id: m.updated_at for m in Merchant.objects.all()}

    output = run(path, "--update")

    assert "imported 0, updated 0, skipped 3, errors 0" in output
    assert {m.id: m.updated_at for m in Merchant.objects.all()} == before


def test_update_overwrites_changed_rows_only(tmp_path):
    run(write(tmp_path, GOOD))
    changed = write(tmp_path, GOOD.replace("Amazon,Shopping,AMZN MKTP US|AMZN MKTP", "Amazon,Shopping,AMAZON.COM"))

    without_update = run(changed)
    with_update = run(changed, "--update")

    assert "imported 0, updated 0, skipped 3" in without_update
    assert "imported 0, updated 1, skipped 2" in with_update
    amazon = Merchant.objects.get(canonical_name="Amazon")
    assert (amazon.aliases, amazon.alias_keys) == (["AMAZON.COM"], ["amazon.com"])


def test_partly_bad_file_imports_good_rows_and_logs_the_rest(tmp_path):
    body = (
        GOOD
        + "STARBUCKS,Food & Dining,,US,\n"  # duplicate of line 2 (case-insensitive)
        + "Gadget Hub,Gadgets,,US,\n"  # bad category
        + "Bad Country,Shopping,,USA,\n"
        + "Bad Tags,Shopping,,US,{not json\n"
        + ",Shopping,,US,\n"  # empty name
        + "Clasher,Shopping,Tesco|CLASH,US,\n"  # alias equals another merchant's name
        + "Costa Coffee,Food & Dining,COSTA,GB,\n"
    )
    path = write(tmp_path, body)

    output = run(path, rejected=True)

    assert "imported 4, updated 0, skipped 0, errors 6" in output
    assert "duplicates in file 1" in output
    log = (tmp_path / "merchants.log").read_text().splitlines()
    assert len(log) == 6
    assert log[0].startswith("line 5: duplicate of line 2")
    assert "unknown category 'Gadgets'" in log[1]
    assert "not an ISO 3166 alpha-2 code" in log[2]
    assert "tags is not valid JSON" in log[3]
    assert "canonical_name is empty" in log[4]
    assert "alias 'Tesco' is another merchant's name" in log[5]
    assert set(Merchant.objects.values_list("canonical_name", flat=True)) == {
        "Starbucks",
        "Amazon",
        "Tesco",
        "Costa Coffee",
    }


def test_dry_run_writes_nothing(tmp_path):
    output = run(write(tmp_path, GOOD), "--dry-run")
    assert "would have imported 3" in output
    assert not Merchant.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,category\nStarbucks,Food & Dining\n", "wrong header"),
        (HEADER.encode() + "Caf\u00e9 Central,Food & Dining,,FR,\n".encode("latin-1"), "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (b"", "wrong header"),
    ],
)
def test_malformed_file_fails_and_writes_nothing(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message):
        run(path)

    assert not Merchant.objects.exists()


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "nope.csv")


def test_the_seed_file_loads_500_plus_merchants_in_every_category(tmp_path):
    output = run(SEED, "--update", errors_log=tmp_path / "seed.log")

    assert "errors 0" in output
    assert Merchant.objects.count() >= 500
    assert set(Merchant.objects.values_list("category", flat=True)) == set(CATEGORY_NAMES)
    assert Merchant.objects.exclude(country="").values("country").distinct().count() >= 5
    assert match_merchant("AMZN Mktp US*2K3AB12").merchant.canonical_name == "Amazon"
    assert match_merchant("UBER *TRIP").merchant.canonical_name == "Uber"
    assert match_merchant("starbucks #1234").merchant.canonical_name == "Starbucks"
    assert merchant_search(q="Swigy")[0].canonical_name == "Swiggy"

    again = run(SEED, "--update", errors_log=tmp_path / "seed.log")
    assert "imported 0, updated 0" in again


BAD_AND_GOOD = GOOD + "Gadget Hub,Gadgets,,US,\n"


def test_the_error_log_lands_next_to_the_input_wherever_the_command_runs(tmp_path, monkeypatch):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = write(tmp_path, BAD_AND_GOOD, name="shops.csv")

    with pytest.raises(CommandError) as failure:
        call_command("import_merchants", str(path), stdout=StringIO(), stderr=StringIO())

    assert failure.value.returncode == 1
    log = tmp_path / "shops.errors.log"
    assert "unknown category 'Gadgets'" in log.read_text()
    assert list(elsewhere.iterdir()) == []
    assert Merchant.objects.count() == 3  # the good rows are in


def test_strict_writes_nothing_when_a_row_is_rejected(tmp_path):
    path = write(tmp_path, BAD_AND_GOOD)

    output = run(path, "--strict", rejected=True)

    assert "--strict: nothing written" in output
    assert Merchant.objects.count() == 0
    assert "Gadgets" in (tmp_path / "merchants.log").read_text()


def test_strict_imports_a_clean_file(tmp_path):
    output = run(write(tmp_path, GOOD), "--strict")

    assert "imported 3" in output and Merchant.objects.count() == 3


def test_progress_goes_to_stderr(tmp_path):
    out, err = StringIO(), StringIO()
    call_command(
        "import_merchants", str(write(tmp_path, GOOD)), "--errors-log", str(tmp_path / "x.log"), stdout=out, stderr=err
    )

    assert "merchants" in err.getvalue() and "3/3" in err.getvalue()
    assert "3/3" not in out.getvalue()
