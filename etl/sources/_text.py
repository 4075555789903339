"""Text helpers shared by the format readers: decoding with fallbacks, entity decoding, clean-up."""

from __future__ import annotations

import html
import re

ENCODINGS = ("utf-8", "cp1252", "latin-1")
"""Decoding order. UTF-8 first (strict: anything not valid UTF-8 fails it), then cp1252 (Windows-1252:
the raw telegram dumps, pilcrow = byte 0xB6), then latin-1, which decodes every byte sequence (cp1252 leaves
five bytes undefined: 0x81 0x8D 0x8F 0x90 0x9D)."""


def decode(data: bytes) -> tuple[str, str]:
    """Decode ``data`` with the first encoding of :data:`ENCODINGS` that accepts it.

    Returns ``(text, encoding)``. A UTF-8 byte-order mark is dropped (encoding ``utf-8-sig``).
    Never raises: latin-1 maps every byte.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            data = data[3:]
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes everything")  # pragma: no cover


_NUMERIC_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}));")
_XML_REF = re.compile(r"&(amp|lt|gt|quot|apos);")
_XML_CHARS = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _numeric(match: re.Match[str]) -> str:
    hexa, dec = match.groups()
    code = int(hexa, 16) if hexa else int(dec)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return chr(code)


def decode_entities_strict(text: str) -> str:
    """Decode only well-formed references: ``&#x000A;``, ``&#182;`` and ``&amp; &lt; &gt; &quot; &apos;``.

    For text that was *not* HTML-escaped by its publisher (the cablegate ``<pre>`` blocks): raw ``&`` stays
    as it is (``AT&T``, ``R&D``, ``&notice``), which :func:`html.unescape` would mangle (``&not`` -> ``¬``,
    ``&copy`` -> ``©`` even without a semicolon).
    """
    if "&" not in text:
        return text
    text = _NUMERIC_REF.sub(_numeric, text)
    return _XML_REF.sub(lambda m: _XML_CHARS[m.group(1)], text)


def decode_entities_html(text: str) -> str:
    """Full HTML5 entity decoding, for markup whose text *was* escaped by its publisher (PlusD pages)."""
    return html.unescape(text) if "&" in text else text


def normalize_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` -> ``\\n``."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


_PILCROW_START = re.compile(r"(?m)^([ \t]*)\u00b6[ \t]*(?:\n(?=[ \t]*[0-9A-Z(]))?")


def strip_paragraph_pilcrows(text: str) -> str:
    """Remove a pilcrow (``¶``) that opens a line (paragraph marks of the web renderings / raw dumps).

    A pilcrow alone on its line (PDF text layers) is removed with its line end, joining it to its paragraph.
    """
    if "\u00b6" not in text:
        return text
    return _PILCROW_START.sub(r"\1", text)


def looks_binary(sample: bytes) -> bool:
    """True for data that is not text: NUL bytes or many C0 control characters in the sample."""
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(8, len(sample) // 100)


_CONTROL_BYTES = bytes(b for b in range(256) if b < 9 or 13 < b < 32 or b == 127)
