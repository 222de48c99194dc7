"""Every documented response has a description: at least its reason phrase."""

import yaml
from django.core.management import call_command


def test_every_response_in_the_schema_has_a_reason_phrase(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(path))
    schema = yaml.safe_load(path.read_text())

    descriptions = {
        (route, method, code): response.get("description")
        for route, operations in schema["paths"].items()
        for method, operation in operations.items()
        for code, response in operation["responses"].items()
    }
    assert descriptions and all(descriptions.values())
    throttled = [d for (_r, _m, code), d in descriptions.items() if code == "429"]
    assert throttled and set(throttled) == {"Too Many Requests"}
    assert descriptions[("/api/v1/transactions", "get", "200")] == "OK"
