"""Checks a Tally Merkle proof offline, with the standard library only.

    curl -H "Authorization: Bearer $TOKEN" \
        https://tally.example/api/v1/transactions/<id>/proof > proof.json
    python -m ledger.verify_proof proof.json      # or '-' for stdin

It recomputes the transaction hash from the facts in the proof, the leaf
hash, and the path up to the root, and compares each with the proof's
claims (rules: ledger/anchoring/merkle.py). Exit status: 0 the proof holds, 1 it does
not, 2 the file could not be read. The anchor reference is printed but not
checked here: a ``local`` anchor needs the server's key; a public-chain or
OpenTimestamps reference is checked with that chain's own tools.
"""

import argparse
import json
import sys

from ledger.anchoring.merkle import verify_proof


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger.verify_proof", description=__doc__.split("\n\n")[0])
    parser.add_argument("proof", help="proof JSON file from GET /api/v1/transactions/{id}/proof, or - for stdin")
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")
    args = parser.parse_args(argv)
    try:
        if args.proof == "-":
            proof = json.load(sys.stdin)
        else:
            with open(args.proof, encoding="utf-8") as handle:
                proof = json.load(handle)
        if not isinstance(proof, dict):
            raise ValueError("the proof must be a JSON object")
    except (OSError, ValueError) as exc:
        print(f"cannot read proof: {exc}", file=sys.stderr)
        return 2
    checks = verify_proof(proof)
    valid = bool(checks) and all(passed for _, passed, _ in checks)
    if not args.quiet:
        for name, passed, detail in checks:
            line = f"{'ok  ' if passed else 'FAIL'} {name}"
            print(line if passed or not detail else f"{line}  ({detail})")
        anchor = proof.get("anchor") or {}
        print(f"     anchor: {anchor.get('backend', '?')} {anchor.get('ref', '')} (not checked offline)")
        print("     the batch date and root are the server's claims; the anchor is what ties the root to a time")
    print(
        f"VALID: transaction {proof.get('transaction_id')} is leaf {proof.get('leaf_index')} of the "
        f"{proof.get('batch_date')} batch with root {proof.get('root_hash')}"
        if valid
        else "INVALID: the proof does not hold"
    )
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
