"""``python -m ledger.verify_proof proof.json``: the offline verifier lives in
ledger/anchoring/verify_proof.py (standard library only, copyable)."""

import sys

from ledger.anchoring.verify_proof import main

if __name__ == "__main__":
    sys.exit(main())
