"""Turn one PDF, written once by pypdf, into many copies that differ in a few objects, fast.

Parsing and writing a 500-object brief with pypdf takes tens of milliseconds: too slow to repeat
for every one of hundreds of clients. A template is written once instead; each copy reuses the bytes
of every object it shares with the template, serialises only the objects given for that copy (the
stamp, the metadata), and gets a fresh cross-reference table. An encrypted copy (AES-256) has its
own random file key: objects holding strings or streams are kept as pre-serialised pieces with
holes where the encrypted strings and stream data go; objects holding neither are reused as bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from pypdf import PdfReader

# pypdf's writer encrypts with these; pypdf is pinned, so reusing them beats a second AES-256 (R6)
# implementation. Only the key derivation is slow (by design), and it runs once per copy.
from pypdf._encryption import EncryptAlgorithm, Encryption
from pypdf.generic import ArrayObject, ByteStringObject, DictionaryObject, PdfObject, StreamObject, TextStringObject

_OBJ = re.compile(rb"(\d+) 0 obj\b")


@dataclass(frozen=True)
class _Text:
    """A hole for a string: filled with the string encrypted, as hex."""

    raw: bytes


@dataclass(frozen=True)
class _Data:
    """A hole for stream data: filled with '/Length n>>', the data encrypted, and 'endstream'."""

    raw: bytes


Piece = bytes | _Text | _Data


class CopyTemplate:
    """A PDF cut into its objects' bytes, ready to be reassembled with some objects replaced."""

    def __init__(self, pdf: bytes):
        reader = PdfReader(io.BytesIO(pdf), strict=True)
        if reader.xref_objStm or reader.is_encrypted or set(reader.xref) - {0, 65535}:  # 65535: the free head
            raise ValueError("a template must be written by pypdf: plain objects, classic xref, not encrypted")
        xref_at = int(pdf[pdf.rindex(b"startxref") + len(b"startxref"):].split()[0])
        by_offset = sorted((offset, idnum) for idnum, offset in reader.xref[0].items())
        ends = [offset for offset, _ in by_offset[1:]] + [xref_at]
        self._header = pdf[:by_offset[0][0]]
        self._chunks: dict[int, bytes] = {}
        self._secret: dict[int, list[Piece]] = {}  # objects holding strings or streams, in pieces
        for (offset, idnum), end in zip(by_offset, ends):
            chunk = pdf[offset:end]
            found = _OBJ.match(chunk)
            if found is None or int(found.group(1)) != idnum:
                raise ValueError(f"object {idnum} is not where the cross-reference table says")
            self._chunks[idnum] = chunk
            obj = reader.get_object(idnum)
            if _has_secret(obj):
                self._secret[idnum] = _pieces(obj)
        trailer = reader.trailer
        self.size = int(trailer["/Size"])
        self.root = trailer.raw_get("/Root").idnum
        self.info = trailer.raw_get("/Info").idnum if "/Info" in trailer else None
        file_id = trailer.get("/ID")
        self._first_id = bytes(file_id[0].original_bytes) if file_id else hashlib.sha256(pdf).digest()[:16]
        self.reader = reader

    def copy(self, replace: Mapping[int, PdfObject], password: str | None = None, permissions: int = -1) -> bytes:
        """The template with the objects in replace (by object number) swapped in; encrypted if password."""
        unknown = set(replace) - set(self._chunks)
        if unknown:
            raise ValueError(f"no object {sorted(unknown)} in the template")
        if not password:
            replaced = {idnum: _serialise(idnum, obj) for idnum, obj in replace.items()}
            # The second half of /ID tells copies apart, and is the same for the same copy.
            second = hashlib.sha256(b"".join(replaced[i] for i in sorted(replaced))).digest()[:16]
            return self._assemble({**self._chunks, **replaced}, (self._first_id, second), None)
        encryption = Encryption.make(EncryptAlgorithm.AES_256, permissions, self._first_id)
        entry = encryption.write_entry(password, secrets.token_urlsafe(32))
        # AES-256 (V5) uses one key for every object: one filter serves the whole file.
        crypt = encryption._make_crypt_filter(0, 0)
        chunks = dict(self._chunks)
        secret = {**self._secret, **{idnum: _pieces(obj) for idnum, obj in replace.items()}}
        for idnum, pieces in secret.items():
            chunks[idnum] = b"%d 0 obj\n" % idnum + _fill(pieces, crypt) + b"\nendobj\n"
        encrypt_id = self.size
        chunks[encrypt_id] = _serialise(encrypt_id, entry)  # the encryption dictionary itself stays clear
        return self._assemble(chunks, (self._first_id, secrets.token_bytes(16)), encrypt_id)

    def _assemble(self, chunks: dict[int, bytes], file_id: tuple[bytes, bytes], encrypt_id: int | None) -> bytes:
        size = max(self.size, max(chunks) + 1)
        parts = [self._header]
        position = len(self._header)
        offsets: dict[int, int] = {}
        for idnum in sorted(chunks):
            offsets[idnum] = position
            parts.append(chunks[idnum])
            position += len(chunks[idnum])
        free = [i for i in range(1, size) if i not in offsets]
        links = dict(zip([0, *free], [*free, 0]))  # the free list runs 0 -> first free -> ... -> 0
        table = [b"xref\n0 %d\n%010d 65535 f \n" % (size, links[0])]
        table += [b"%010d 00000 n \n" % offsets[i] if i in offsets else b"%010d 00001 f \n" % links[i]
                  for i in range(1, size)]
        trailer = b"trailer\n<<\n/Size %d\n/Root %d 0 R\n" % (size, self.root)
        if self.info is not None:
            trailer += b"/Info %d 0 R\n" % self.info
        trailer += b"/ID [<%s> <%s>]\n" % (file_id[0].hex().encode(), file_id[1].hex().encode())
        if encrypt_id is not None:
            trailer += b"/Encrypt %d 0 R\n" % encrypt_id
        trailer += b">>\nstartxref\n%d\n%%%%EOF\n" % position
        return b"".join([*parts, *table, trailer])


def _serialise(idnum: int, obj: PdfObject) -> bytes:
    out = io.BytesIO()
    out.write(b"%d 0 obj\n" % idnum)
    obj.write_to_stream(out)
    out.write(b"\nendobj\n")
    return out.getvalue()


def _pieces(obj: PdfObject) -> list[Piece]:
    """obj serialised once, with holes for its strings and stream data; neighbouring bytes merged."""
    pieces: list[Piece] = []

    def add(item: PdfObject) -> None:
        if isinstance(item, ByteStringObject):
            pieces.append(_Text(bytes(item.original_bytes)))
        elif isinstance(item, TextStringObject):
            pieces.append(_Text(item.get_encoded_bytes()))
        elif isinstance(item, (DictionaryObject, ArrayObject)):
            is_dict = isinstance(item, DictionaryObject)
            pieces.append(b"<<" if is_dict else b"[")
            for key, value in (item.items() if is_dict else ((None, v) for v in item)):
                if key is not None:
                    if isinstance(item, StreamObject) and key == "/Length":
                        continue  # the encrypted data's length is written with it
                    add(key)
                pieces.append(b" ")
                add(value)
                pieces.append(b"\n" if is_dict else b"")
            if isinstance(item, StreamObject):
                pieces.append(_Data(item._data))  # the raw (still compressed) bytes, as pypdf encrypts them
            else:
                pieces.append(b">>" if is_dict else b"]")
        else:  # names, numbers, booleans, null and references hold nothing to encrypt
            out = io.BytesIO()
            item.write_to_stream(out)
            pieces.append(out.getvalue())

    add(obj)
    merged: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def _fill(pieces: list[Piece], crypt) -> bytes:
    out = []
    for piece in pieces:
        if isinstance(piece, bytes):
            out.append(piece)
        elif isinstance(piece, _Text):
            out.append(b"<" + crypt.str_crypt.encrypt(piece.raw).hex().encode() + b">")
        else:
            data = crypt.stm_crypt.encrypt(piece.raw)
            out.append(b"/Length %d>>\nstream\n" % len(data) + data + b"\nendstream")
    return b"".join(out)


def _has_secret(obj: PdfObject) -> bool:
    """Whether obj holds something encryption changes: a string, or stream data (links are not followed)."""
    if isinstance(obj, (StreamObject, ByteStringObject, TextStringObject)):
        return True
    if isinstance(obj, DictionaryObject):
        return any(_has_secret(value) for value in obj.values())
    if isinstance(obj, ArrayObject):
        return any(_has_secret(value) for value in obj)
    return False
