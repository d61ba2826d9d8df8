"""A corpus of awkward upload files, made on the fly: text in several encodings, Excel
workbooks written XML by XML (so formulas can carry a saved result or not, and the XML can
hold what Excel never writes), zip bombs, and executables under a spreadsheet's name.

Every file is built from a table of text cells, so each upload entry point gets the same
awkward file holding its own kind of data."""

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


@dataclass(frozen=True)
class Formula:
    """A formula cell, with the result Excel saved beside it (None: never calculated, as
    when a program other than Excel wrote the file)."""

    expression: str
    saved: str | float | None


# --- Text ---------------------------------------------------------------------------------


def text(rows, *, encoding: str, delimiter: str = ",", bom: bool = False) -> bytes:
    body = "".join(delimiter.join(str(cell) for cell in row) + "\r\n" for row in rows)
    if encoding == "utf-16-le":  # Excel's "Unicode Text": tab-separated, with a BOM
        return b"\xff\xfe" + body.encode("utf-16-le")
    if encoding == "utf-16-be":
        return b"\xfe\xff" + body.encode("utf-16-be")
    return (b"\xef\xbb\xbf" if bom else b"") + body.encode(encoding)


# --- Excel, part by part --------------------------------------------------------------------


def column_letter(index: int) -> str:
    letters, index = "", index + 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _cell(ref: str, value) -> str:
    if isinstance(value, Formula):
        formula = f"<f>{escape(value.expression)}</f>"
        if value.saved is None:
            return f'<c r="{ref}">{formula}</c>'
        if isinstance(value.saved, str):
            return f'<c r="{ref}" t="str">{formula}<v>{escape(value.saved)}</v></c>'
        return f'<c r="{ref}">{formula}<v>{value.saved!r}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def sheet_xml(rows, *, doctype: str = "", dimension: str = "", tail: str = "") -> str:
    cells = "".join(
        f'<row r="{r}">'
        + "".join(_cell(f"{column_letter(c)}{r}", v) for c, v in enumerate(row) if v != "")
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    dimension = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}<worksheet xmlns="{MAIN}">'
        f"{dimension}<sheetData>{cells}{tail}</sheetData></worksheet>"
    )


def _parts(sheet: str, shared: str | None, workbook_doctype: str = "") -> dict[str, str]:
    shared_override = (
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        if shared is not None
        else ""
    )
    shared_rel = (
        f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        if shared is not None
        else ""
    )
    parts = {
        "[Content_Types].xml": DECLARATION
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        f"{shared_override}</Types>",
        "_rels/.rels": DECLARATION
        + f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?>\n{workbook_doctype}'
        f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
        '<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": DECLARATION
        + f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>{shared_rel}</Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    if shared is not None:
        parts["xl/sharedStrings.xml"] = shared
    return parts


def _zip(parts: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def xlsx(rows) -> bytes:
    """A plain workbook of these cells (text inline, numbers as numbers, formulas)."""
    return _zip(_parts(sheet_xml(rows), None))


def formula_xlsx(rows, *, at: tuple[int, int], expression: str, saved) -> bytes:
    """The rows with one cell (row, column; 0-based) a formula, with or without its result."""
    rows = [list(row) for row in rows]
    rows[at[0]][at[1]] = Formula(expression, saved)
    return xlsx(rows)


# --- Excel as an attack ---------------------------------------------------------------------

LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    + "]>"
)
EXTERNAL = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def entity_xlsx(rows, *, doctype: str, entity: str, part: str) -> bytes:
    """A workbook whose first data cell (in the sheet, or in the shared strings, or the
    workbook part) expands an entity declared in a DOCTYPE."""
    rows = [list(row) for row in rows]
    if part == "sheet":
        rows[1][0] = "ENTITY-HERE"
        sheet = sheet_xml(rows, doctype=doctype).replace("ENTITY-HERE", f"&{entity};")
        return _zip(_parts(sheet, None))
    if part == "shared":
        sheet = sheet_xml(rows).replace(
            f'<c r="A2" t="inlineStr"><is><t>{escape(str(rows[1][0]))}</t></is></c>',
            '<c r="A2" t="s"><v>0</v></c>',
        )
        shared = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}<sst xmlns="{MAIN}" count="1" '
            f'uniqueCount="1"><si><t>&{entity};</t></si></sst>'
        )
        return _zip(_parts(sheet, shared))
    return _zip(_parts(sheet_xml(rows), None, workbook_doctype=doctype))


def zip_bomb_xlsx(rows, *, unpacked: int = 150 * 1024 * 1024) -> bytes:
    """A workbook whose sheet unpacks to ``unpacked`` bytes of blank space from a few hundred
    kilobytes."""
    sheet = sheet_xml(rows)
    head, tail = sheet.split("<sheetData>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in _parts("", None).items():
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, content)
        with archive.open("xl/worksheets/sheet1.xml", "w") as handle:
            handle.write((head + "<sheetData>").encode())
            chunk = b" " * (1 << 20)
            for _ in range(unpacked // len(chunk)):
                handle.write(chunk)
            handle.write(tail.encode())
    return buffer.getvalue()


def lying_zip_bomb(bomb: bytes, name: str = "xl/worksheets/sheet1.xml") -> bytes:
    """The bomb with its sheet declared to be a kilobyte, as bombs do to slip past a check of
    the declared sizes: the size is rewritten in the entry's local header and in the central
    directory; its data and CRC stay those of the real, huge content."""
    data = bytearray(bomb)
    encoded = name.encode()
    # signature, offset of the name's length, of the name, of the uncompressed size
    for signature, name_len_at, name_at, size_at in (
        (b"PK\x03\x04", 26, 30, 22),
        (b"PK\x01\x02", 28, 46, 24),
    ):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            length = struct.unpack_from("<H", data, start + name_len_at)[0]
            if bytes(data[start + name_at : start + name_at + length]) == encoded:
                struct.pack_into("<I", data, start + size_at, 1024)
            start += 4
    return bytes(data)


def dimension_bomb_xlsx(rows) -> bytes:
    """A tiny workbook that claims a sheet of 1,048,576 rows by 16,384 columns: a reader
    that believes it makes seventeen billion empty cells."""
    return _zip(_parts(sheet_xml(rows, dimension="A1:XFD1048576"), None))


def truncated_xlsx(rows) -> bytes:
    whole = xlsx(rows)
    return whole[: len(whole) // 2]


# --- Not spreadsheets at all ----------------------------------------------------------------

# The first bytes of a Linux program (ELF) and of a Windows one (PE, "MZ"), padded as the
# real headers are: enough for anything that sniffs the content.
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 200
PE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 44
    + b"\x80\x00\x00\x00"
    + b"This program cannot be run in DOS mode.\r\r\n$"
    + b"\x00" * 200
)


# --- Photos ---------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 4, height: int = 4) -> bytes:
    """A white RGB picture; at 50,000 pixels square a decompression bomb: a few hundred
    bytes that claim 2.5 billion pixels (7.5 GB once decoded)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * (3 * width)
    rows = min(height, 4)  # a bomb's pixel data is cut short: the claim is the attack
    data = compressor.compress(row * rows) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data)
            + _png_chunk(b"IEND", b""))  # fmt: skip


SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
)
