"""Small real files of each allowed type, made in code (no binary fixtures)."""

import base64
import struct
import zlib


def png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte + one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# A complete 1x1 baseline JFIF image (arithmetic-coded), 125 bytes.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010101004800480000ffdb004300030202020203020202030303030406040404040408060605"
    "0609080a0a090809090a0c0f0c0a0b0e0b09090d110d0e0f101011100a0c12131210130f101010ffc9000b080001000101"
    "011100ffcc000600101005ffda0008010100003f00d2cf20ffd9"
)
# A complete 1x1 lossless WebP.
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")


def pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
        b"<< /Length 36 >>\nstream\nBT /F1 12 Tf 20 50 Td (Receipt) Tj ET\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def heic() -> bytes:
    # ISO-BMFF: an ftyp box (major brand heic, compatible mif1 heic) and an empty meta box.
    ftyp = b"ftyp" + b"heic" + struct.pack(">I", 0) + b"mif1heic"
    meta = b"meta" + struct.pack(">I", 0)
    return struct.pack(">I", len(ftyp) + 4) + ftyp + struct.pack(">I", len(meta) + 4) + meta


# A Linux executable's and a Windows executable's first bytes, as a renamed "receipt".
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
