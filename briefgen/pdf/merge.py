"""Turn the chunks' PDFs into the brief's one PDF: pages, outline and named destinations in order.

The first chunk's bytes are kept as they are and the others (less their lead page) are added in one
incremental update (pypdf's PdfWriter in incremental mode, `append` with the outline), so the largest
chunk is never parsed and rewritten: merging costs about a tenth of a second. The update also carries the document
information, /Lang, the cross-chunk links' destinations (a self-link `xref-x` is pointed where `x`
is), and a trailer /ID taken from a SHA-256 of the file's content: equal inputs, equal bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from briefgen.errors import PdfError

if TYPE_CHECKING:
    from briefgen.pdf import PdfMetadata

PRODUCER = "briefgen (WeasyPrint, pypdf)"
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SUBSET = re.compile(r"/[A-Z]{6}\+")


def merge(
    chunks: Sequence[bytes], metadata: PdfMetadata, xrefs: Mapping[str, str], *, lead: int = 1, drop: Sequence[str] = ()
) -> bytes:
    """One PDF of `chunks` in order, with `metadata` and every self-link `xrefs` key pointing at its value.

    The first `lead` pages of every chunk but the first are left out, and so are the destinations
    named in `drop` (see chunks.py).
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, TextStringObject

    base = PdfReader(io.BytesIO(chunks[0]))
    writer = PdfWriter(base, incremental=True)
    for number, data in enumerate(chunks[1:], start=1):
        reader = PdfReader(io.BytesIO(data))
        before = {ref.idnum for ref in writer.list_objects_in_increment()}
        writer.append(reader, pages=list(range(lead, len(reader.pages))), import_outline=True)
        _retag(writer, before, number)
    if xrefs or drop:
        _repoint(writer.get_named_dest_root(), xrefs, drop)
    info = base.trailer.raw_get("/Info")
    creator = writer.metadata.get("/Creator") if writer.metadata is not None else None
    writer.metadata = _info(metadata, creator)
    writer.root_object[NameObject("/Lang")] = TextStringObject(metadata.lang)
    size = base.trailer["/Size"]
    assert isinstance(size, int)  # a NumberObject, an int: pypdf read the chunk's own trailer
    return _write_update(writer, chunks[0], base_size=size, info=info.idnum)


def _retag(writer: Any, before: set[int], chunk: int) -> None:
    """Give the font subsets chunk `chunk` added tags of their own.

    WeasyPrint tags a subset after the font, not the glyphs in it, so every chunk's subset of Inter
    would be "ABCDEF+Inter"; tools that know fonts by name (PostScript printing) would mix them up.
    """
    from pypdf.generic import DictionaryObject, NameObject

    for ref in writer.list_objects_in_increment():
        if ref.idnum in before:
            continue
        font = writer.get_object(ref.idnum)
        if not isinstance(font, DictionaryObject) or font.get("/Type") not in ("/Font", "/FontDescriptor"):
            continue
        for key in ("/BaseFont", "/FontName"):
            name = str(font.get(key, ""))
            if _SUBSET.match(name):
                seed = hashlib.sha256(f"{chunk} {name[1:7]}".encode()).digest()
                tag = "".join(chr(ord("A") + byte % 26) for byte in seed[:6])
                font[NameObject(key)] = NameObject(f"/{tag}{name[7:]}")


def _repoint(names: Any, xrefs: Mapping[str, str], drop: Sequence[str]) -> None:
    """Give each self-link destination the destination of the anchor it stands for; drop `drop`."""
    from pypdf.generic import ArrayObject

    index = {str(names[k]): k + 1 for k in range(0, len(names) - 1, 2)}
    for anchor, target in xrefs.items():
        if anchor not in index or target not in index:
            raise PdfError(f"the merged PDF lacks the destination {target if anchor in index else anchor!r}")
        dest = names[index[target]]
        names[index[anchor]] = ArrayObject(dest) if isinstance(dest, list) else dest
    for name in drop:
        if name in index:
            del names[index[name] - 1 : index[name] + 1]
            index = {str(names[k]): k + 1 for k in range(0, len(names) - 1, 2)}


def _info(metadata: PdfMetadata, creator: Any) -> dict[str, str]:
    info = {"/Title": metadata.title, "/Producer": PRODUCER}
    if metadata.authors:
        info["/Author"] = ", ".join(metadata.authors)
    if metadata.subject:
        info["/Subject"] = metadata.subject
    if metadata.keywords:
        info["/Keywords"] = ", ".join(metadata.keywords)
    if creator:
        info["/Creator"] = str(creator)
    if metadata.created is not None:
        stamp = f"D:{metadata.created:%Y%m%d}000000Z"
        info["/CreationDate"] = info["/ModDate"] = stamp
    return info


def _write_update(writer: Any, base: bytes, *, base_size: int, info: int) -> bytes:
    """`base` then the writer's new and changed objects and a cross-reference stream listing them."""
    found = _STARTXREF.search(base[-64:])
    if found is None:
        raise PdfError("a chunk's PDF has no startxref")
    out = io.BytesIO()
    out.write(base if base.endswith(b"\n") else base + b"\n")
    offsets: dict[int, int] = {}
    for ref in sorted(writer.list_objects_in_increment(), key=lambda r: r.idnum):
        offsets[ref.idnum] = out.tell()
        out.write(b"%d 0 obj\n" % ref.idnum)
        writer.get_object(ref.idnum).write_to_stream(out)
        out.write(b"\nendobj\n")
    file_id = hashlib.sha256(out.getvalue()).hexdigest()[:32]  # never random, never the time
    number = max(base_size, max(offsets, default=0) + 1)
    offsets[number] = out.tell()
    numbers = sorted(offsets)
    blocks: list[list[int]] = []
    for n in numbers:
        if blocks and blocks[-1][0] + blocks[-1][1] == n:
            blocks[-1][1] += 1
        else:
            blocks.append([n, 1])
    rows = b"".join(struct.pack(">BIB", 1, offsets[n], 0) for n in numbers)
    index = " ".join(f"{start} {count}" for start, count in blocks)
    head = (
        f"{number} 0 obj\n<< /Type /XRef /Size {number + 1} /Root {writer.root_object.indirect_reference.idnum} 0 R"
        f" /Info {info} 0 R /Prev {int(found.group(1))} /ID [ <{file_id}> <{file_id}> ] /Index [ {index} ]"
        f" /W [ 1 4 1 ] /Length {len(rows)} >>\nstream\n"
    )
    out.write(head.encode("ascii"))
    out.write(rows)
    out.write(b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % offsets[number])
    return out.getvalue()
