"""Turn the chunks' PDFs into the brief's one PDF: pages, outline and named destinations in order.

pikepdf (qpdf) does the work through its public API: `Pdf.add_pages_from` appends the later chunks'
pages (less their lead page) to the first chunk's document with their outline entries, every named
destination of a copied page follows it (pikepdf carries only those the pages link to), and the
whole file is written anew with a trailer /ID computed from its content, so equal inputs give equal
bytes. The merged file also carries the document information, /Lang, and the cross-chunk links'
destinations: a self-link `xref-x` is pointed where `x` is (see chunks.py). A chunk that flows on
from the previous one has its first page drawn over that chunk's last page; the page numbers'
document is drawn over every page; and the chunks' subsets of each face are folded into one
(fonts.py), so the file embeds a face once, not once per chunk.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from briefgen.errors import PdfError
from briefgen.pdf.fonts import SUBSET_TAG, Folded, share_fonts

if TYPE_CHECKING:
    from briefgen.pdf import PdfMetadata

PRODUCER = "briefgen (WeasyPrint, pikepdf)"


def merge(
    chunks: Sequence[bytes],
    metadata: PdfMetadata,
    xrefs: Mapping[str, str],
    *,
    lead: int = 1,
    drop: Sequence[str] = (),
    flows: Sequence[bool] = (),
    furniture: bytes | None = None,
    fonts: Folded | None = None,
) -> bytes:
    """One PDF of `chunks` in order, with `metadata` and every self-link `xrefs` key pointing at its value.

    The first `lead` pages of every chunk but the first are left out, and so are the destinations
    named in `drop` (see chunks.py). A chunk whose `flows` entry is true runs on from the previous
    chunk's last page: its first page (after the lead) is drawn over that page, with its links, and
    its destinations and bookmarks there lead to it. `furniture`, a PDF with a page for every page
    of the result, is drawn over the pages (the page numbers, chunks.py). `fonts` keeps the merged
    font programs (fonts.py) between builds.
    """
    import pikepdf

    try:
        sources = [pikepdf.open(io.BytesIO(data)) for data in chunks]
        extra = pikepdf.open(io.BytesIO(furniture)) if furniture is not None else None
    except pikepdf.PdfError as exc:
        raise PdfError(f"a chunk's PDF cannot be read: {exc}") from exc
    pdf = sources[0]
    dests = _dests(pdf)
    for number, source in enumerate(sources[1:], start=1):
        before = {obj.objgen for obj in pdf.objects}
        first = len(pdf.pages)
        copied = pdf.add_pages_from(source, range(lead, len(source.pages)))  # with its outline entries
        if copied.renamed_dests:
            raise PdfError(f"chunk {number} repeats the anchors {sorted(copied.renamed_dests)}")
        _retag(pdf, before, number)
        pages: dict[tuple[int, int], Any] = {
            page.obj.objgen: pdf.pages[first + i].obj for i, page in enumerate(source.pages[lead:])
        }
        if number < len(flows) and flows[number] and first > 0 and first < len(pdf.pages):
            shared, onto = pdf.pages[first], pdf.pages[first - 1]
            _draw_over(pdf, onto, shared, f"/BriefgenRunOn{number}")
            pages[source.pages[lead].obj.objgen] = onto.obj
            del pdf.pages[first]
        for name, dest in _dests(source).items():  # every anchor, linked from its own chunk or not
            on = dest[0].objgen if isinstance(dest, pikepdf.Array) and len(dest) else None
            if name not in drop and on in pages:
                dests[name] = pikepdf.Array([pages[on], *list(dest)[1:]])
    if extra is not None:
        if len(extra.pages) != len(pdf.pages):
            raise PdfError(f"the page numbers are for {len(extra.pages)} pages, the brief has {len(pdf.pages)}")
        before = {obj.objgen for obj in pdf.objects}
        for index, (page, numbers) in enumerate(zip(pdf.pages, extra.pages, strict=True)):
            _overlay(page, numbers, f"/BriefgenPageNumbers{index + 1}")
        _retag(pdf, before, len(sources))
    share_fonts(pdf, fonts)
    for anchor, target in xrefs.items():
        if anchor not in dests or target not in dests:
            raise PdfError(f"the merged PDF lacks the destination {target if anchor in dests else anchor!r}")
        dests[anchor] = dests[target]
    for name in drop:
        dests.pop(name, None)
    if dests:
        flat: list[Any] = []
        for name in sorted(dests, key=lambda n: n.encode("utf-8")):  # a name tree's keys are in byte order
            flat += [pikepdf.String(name), dests[name]]
        pdf.Root.Names = pikepdf.Dictionary(Dests=pdf.make_indirect(pikepdf.Dictionary(Names=pikepdf.Array(flat))))
    creator = pdf.docinfo.get("/Creator") if "/Info" in pdf.trailer else None
    pdf.docinfo = pdf.make_indirect(pikepdf.Dictionary(_info(metadata, creator)))
    pdf.Root.Lang = pikepdf.String(metadata.lang)
    return save_anew(pdf)


def _overlay(page: Any, other: Any, name: str) -> None:
    """Draw page `other` over `page`, as pikepdf's Page.add_overlay does, but under a resource name
    given here: add_overlay picks a random one (Name.random), and equal inputs must give equal bytes.
    WeasyPrint's pages share one /Resources, so the name is unique in the document."""
    import pikepdf

    form = other.as_form_xobject()
    placed = page.add_resource(form, pikepdf.Name.XObject, pikepdf.Name(name), replace_existing=False)
    placement = page.calc_form_xobject_placement(form, placed, pikepdf.Rectangle(page.trimbox))
    page.contents_add(b"q\n", prepend=True)
    page.contents_add(b"Q\n", prepend=False)
    page.contents_add(placement, prepend=False)
    page.contents_coalesce()


def _draw_over(pdf: Any, onto: Any, shared: Any, name: str) -> None:
    """Draw page `shared` over page `onto` (both in `pdf`), move its links there, and make every link
    and bookmark that leads to `shared` lead to `onto` (the caller then removes `shared`)."""
    import pikepdf

    _overlay(onto, shared, name)
    links = list(shared.obj.get("/Annots", pikepdf.Array()))
    if links:
        for link in links:
            if "/P" in link:
                link.P = onto.obj
        onto.obj.Annots = pdf.make_indirect(pikepdf.Array([*onto.obj.get("/Annots", pikepdf.Array()), *links]))
        del shared.obj["/Annots"]
    target = shared.obj.objgen

    def repoint(holder: Any, key: str) -> None:
        dest = holder.get(key)
        if isinstance(dest, pikepdf.Array) and len(dest) and dest[0].objgen == target:
            holder[key] = pikepdf.Array([onto.obj, *list(dest)[1:]])

    for page in pdf.pages:
        for link in page.obj.get("/Annots", pikepdf.Array()):
            repoint(link, "/Dest")
            if isinstance(link.get("/A"), pikepdf.Dictionary):
                repoint(link.A, "/D")
    outlines = pdf.Root.get("/Outlines")
    stack = [outlines.First] if outlines is not None and "/First" in outlines else []
    while stack:
        item = stack.pop()
        repoint(item, "/Dest")
        if isinstance(item.get("/A"), pikepdf.Dictionary):
            repoint(item.A, "/D")
        stack += [item[key] for key in ("/First", "/Next") if key in item]


def save_anew(pdf: Any) -> bytes:
    """`pdf` (a pikepdf.Pdf) written anew, with object streams and a trailer /ID whose two halves both
    come from the content (deterministic_id; none kept from the file it was opened from): equal
    documents, equal bytes. The merge and the draft's mark write through here."""
    import pikepdf

    if "/ID" in pdf.trailer:
        del pdf.trailer.ID
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _dests(pdf: Any) -> dict[str, Any]:
    """The document's named destinations, name -> destination array (WeasyPrint writes one flat /Names array)."""
    import pikepdf

    names = pdf.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return {}
    return {str(key): value for key, value in pikepdf.NameTree(names.Dests).items()}


def _retag(pdf: Any, before: set[tuple[int, int]], chunk: int) -> None:
    """Give the font subsets chunk `chunk` added tags of their own.

    WeasyPrint tags a subset after the font, not the glyphs in it, so every chunk's subset of Inter
    would be "ABCDEF+Inter"; tools that know fonts by name (PostScript printing) would mix them up.
    """
    import pikepdf

    for obj in pdf.objects:
        if obj.objgen in before or not isinstance(obj, pikepdf.Dictionary):
            continue
        if obj.get("/Type") not in (pikepdf.Name.Font, pikepdf.Name.FontDescriptor):
            continue
        for key in ("/BaseFont", "/FontName"):
            name = str(obj.get(key, ""))
            if SUBSET_TAG.match(name):
                seed = hashlib.sha256(f"{chunk} {name[1:7]}".encode()).digest()
                tag = "".join(chr(ord("A") + byte % 26) for byte in seed[:6])
                obj[key] = pikepdf.Name(f"/{tag}{name[7:]}")


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
