"""What a file is, from its first bytes (never from its name or the client's
Content-Type): the allow-list of receipt formats."""

JPEG, PNG, PDF, WEBP, HEIC = "image/jpeg", "image/png", "application/pdf", "image/webp", "image/heic"
ALLOWED_TYPES = (JPEG, PNG, PDF, WEBP, HEIC)
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", PDF: ".pdf", WEBP: ".webp", HEIC: ".heic"}
SNIFF_BYTES = 32
# ISO-BMFF brands of HEIF/HEIC images (ftyp box at offset 4).
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def sniff(head: bytes) -> str | None:
    """The allowed content type of a file starting with ``head``, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return HEIC
    return None
