"""Request and response examples for the main operations, by operationId
(config.openapi.TallyAutoSchema adds them). Plain data: the kernel knows no
domain app. Request examples must be accepted as they stand (schemathesis sends them)."""

from drf_spectacular.utils import OpenApiExample

_USER = {
    "id": "0b5b1f0e-6c1e-4a5e-9d8f-3f2f8b7a1c10",
    "email": "ada@example.com",
    "pending_email": None,
    "full_name": "Ada Lovelace",
    "phone": "",
    "preferences": {},
    "wallet_addresses": [],
    "is_verified": True,
    "is_staff": False,
}
_TRANSACTION = {
    "id": "6f1c2b7e-3d4a-4b8e-9a1f-2c3d4e5f6a7b",
    "account": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    "kind": "standard",
    "transfer": None,
    "reconciled_at": None,
    "amount": "12.40",
    "currency": "EUR",
    "date": "2026-11-04",
    "merchant_raw": "TESCO STORES 3021",
    "merchant": {"id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "canonical_name": "Tesco", "category": "Groceries"},
    "category": "Groceries",
    "source": "manual",
    "notes": "",
    "external_id": "",
    "confidence": 1.0,
    "anomaly_score": None,
    "attachment_count": 0,
    "tags": ["weekly-shop"],
    "created_at": "2026-11-04T18:22:05Z",
}
_IMPORT = {
    "id": "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a9f",
    "account": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    "status": "preview",
    "filename": "november.csv",
    "format": "csv",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "profile": None,
    "detected_by": "header",
    "profile_used": {},
    "counts": {"total": 3, "new": 2, "duplicate": 1, "error": 0, "filtered": 0, "transfers_matched": 0, "imported": 0},
    "processed": 0,
    "warnings": [],
    "statement": None,
    "error": "",
    "created_at": "2026-11-30T09:00:00Z",
    "expires_at": "2026-12-01T09:00:00Z",
    "committed_at": None,
    "reverted_at": None,
}
_BUDGET = {
    "id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
    "category": "Groceries",
    "amount": "400.00",
    "start_date": "2026-11-01",
    "end_date": "2026-12-01",
    "auto_renew": True,
    "spent": "312.40",
    "remaining": "87.60",
    "percentage": 78.1,
    "status": "healthy",
    "suggested_amount": "380.00",
    "created_at": "2026-11-01T08:00:00Z",
    "updated_at": "2026-11-01T08:00:00Z",
}


def _request(summary, value):
    return OpenApiExample(summary, value=value, request_only=True)


def _response(summary, value, status_code="200"):
    return OpenApiExample(summary, value=value, response_only=True, status_codes=[status_code])


OPERATION_EXAMPLES = {
    "v1_auth_login_create": [
        _request("Log in", {"email": "ada@example.com", "password": "correct-horse-battery-9"}),
        _response(
            "Tokens",
            {
                "access": "eyJhbGciOiJIUzI1NiJ9...",
                "refresh": "eyJhbGciOiJIUzI1NiJ9...",
                "session_id": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
                "user": _USER,
            },
        ),  # fmt: skip
    ],
    "v1_transactions_create": [
        _request(
            "Spending",
            {"amount": "12.40", "date": "2026-11-04", "merchant_raw": "TESCO STORES 3021", "tags": ["weekly-shop"]},
        ),
        _request("A refund (money in)", {"amount": "-25.00", "date": "2026-11-05", "merchant_raw": "AMAZON REFUND"}),
        _response("Created", _TRANSACTION, "201"),
    ],
    "v1_transactions_list": [
        _response("One page", _TRANSACTION),  # an item: drf-spectacular lays the page out around it
    ],
    "v1_imports_create": [_response("Preview", {**_IMPORT, "rows": []}, "201")],
    "v1_imports_commit_create": [
        _request("Commit, forcing one duplicate in", {"force_rows": [3], "skip_rows": []}),
        _response("Committed", {**_IMPORT, "status": "committed", "committed_at": "2026-11-30T09:01:00Z"}),
    ],
    "v1_budgets_create": [
        _request("Monthly groceries", {"category": "Groceries", "amount": "400.00", "auto_renew": True}),
        _response("Created", _BUDGET, "201"),
    ],
    "v1_budgets_status_retrieve": [
        _response(
            "This period",
            {
                "budget_count": 2,
                "total_budgeted": "600.00",
                "total_spent": "512.40",
                "total_remaining": "87.60",
                "overall_percentage": 85.4,
                "over_budget_count": 1,
                "at_risk_count": 0,
                "healthy_count": 1,
                "over_budget": [
                    {
                        "category": "Dining",
                        "budget": "200.00",
                        "spent": "200.00",
                        "percentage": 100.0,
                        "overage": "0.00",
                    }
                ],
                "at_risk": [],
            },
        ),  # fmt: skip
    ],
}
