"""Files browsers fetch from the site root on their own (WHITENOISE_ROOT)."""

import struct


def test_favicon_is_served_from_the_root(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
    body = b"".join(response.streaming_content)
    # An ICO directory: reserved 0, type 1 (icon), at least one image.
    reserved, kind, count = struct.unpack("<HHH", body[:6])
    assert (reserved, kind) == (0, 1) and count >= 1
    assert "max-age" in response["Cache-Control"]
