"""Writing small PDFs for tests: text lines, and the dangerous extras a result must not have."""

from __future__ import annotations

import io


def make_pdf(
    lines: list[str], *, javascript: bool = False, embedded: bool = False, pages: int = 1
) -> bytes:
    """A valid PDF (Helvetica, WinAnsi) with ``lines`` on each page."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    page_ids: list[int] = []
    pages_id = len(objects) + 1 + 2 * pages  # placeholder index computed below
    content_ids = []
    for _ in range(pages):
        stream = b"BT /F1 12 Tf 50 780 Td 16 TL\n"
        for line in lines:
            text = (
                line.encode("cp1252")
                .replace(b"\\", b"\\\\")
                .replace(b"(", b"\\(")
                .replace(b")", b"\\)")
            )
            stream += b"(" + text + b") Tj T*\n"
        stream += b"ET"
        content_ids.append(
            add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        )
        page_ids.append(add(b""))  # filled below, once the Pages id is known
    pages_id = add(b"")
    for cid, pid in zip(content_ids, page_ids, strict=True):
        objects[pid - 1] = (
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, cid, font)
        )
    kids = b" ".join(b"%d 0 R" % pid for pid in page_ids)
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    extra = b""
    if javascript:
        js = add(b"<< /S /JavaScript /JS (app.alert\\('x'\\);) >>")
        extra += b" /OpenAction %d 0 R" % js
    if embedded:
        data = b"MZ not really a program"
        f = add(
            b"<< /Type /EmbeddedFile /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"
        )
        spec = add(b"<< /Type /Filespec /F (a.exe) /EF << /F %d 0 R >> >>" % f)
        extra += b" /Names << /EmbeddedFiles << /Names [(a.exe) %d 0 R] >> >>" % spec
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R%s >>" % (pages_id, extra))

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, catalog, xref)
    )
    return out.getvalue()


def encrypt(pdf: bytes, password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
