"""Bytes to text: charset detection, unicode repair, and telling HTML from plain text."""
from __future__ import annotations

import codecs
import re
import unicodedata

import ftfy
from charset_normalizer import from_bytes

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Magic numbers of formats that are never news text; checked before any decoding.
_BINARY_MAGIC = (
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"BZh",
    b"\x7fELF", b"RIFF", b"OggS", b"ID3", b"\x00\x00\x01\x00",
)
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title)\b", re.I | re.S)
_HTML_TAG = re.compile(rb"</?(p|div|span|a|br|article|section|h[1-6]|li|ul|script|table)\b[^>]*>", re.I)
# Legacy encodings that real web pages use; restricting the detector to them keeps it from
# reading a short cp1252 snippet as EBCDIC or UTF-16.
_WEB_ENCODINGS = [
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "latin_1", "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_9", "iso8859_15", "koi8_r", "koi8_u",
    "gb18030", "big5", "shift_jis", "euc_jp", "euc_kr", "cp949", "iso2022_jp", "tis_620",
]
# Repair encoding damage only: the body must keep the source's quotes, ligatures and widths.
_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False, uncurl_quotes=False, fix_latin_ligatures=False, fix_character_width=False,
    normalization="NFC", explain=False,
)
_MOJIBAKE_HINT = re.compile("[ÂÃÅÎÏÐÑâã][\x80-\xbf€™œ…–—‘’“”]")
# What ftfy (with the config above) would change besides NFC: mojibake, C1 controls, terminal escapes,
# surrogates, replacement characters, and the formatting characters it removes (BOM, deprecated
# format controls, interlinear annotations). Text without any of them skips ftfy, with identical output.
_NEEDS_FTFY = re.compile(
    "[\x80-\x9f\x1b\ud800-\udfff\ufffd\ufeff\u206a-\u206f\ufff9-\ufffc]"
    "|[ÂÃÅÎÏÐÑâãÄÆÇËÌÍÒÓÔÕ×ØÙÚÛÜÝÞß][\x80-\xbf€™œ…–—‘’“”\xa0-\xbf]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The same characters as bytes: in UTF-8 these bytes are exactly those characters, and deleting them from
# the bytes to compare lengths is ten times as fast as scanning the decoded text (0.1 against 1 ms per page).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
# The detector often ranks several single-byte code pages level (cp1252, cp1250, cp1257 decode
# "déjà" as "déjà", "déjŕ", "déją" with the same scores); within these margins of the best
# candidate we take cp1252, the legacy charset browsers assume for unlabelled pages.
CHARSET_TIE_CHAOS = 0.05
CHARSET_TIE_COHERENCE = 0.05
# Below this many bytes (a word or two) the detector has no evidence: cp1252 unless it fails to decode.
MIN_DETECTOR_BYTES = 32
DEFAULT_LEGACY_CHARSET = "cp1252"


class DecodeError(ValueError):
    """The bytes are not text we can read; ``reason`` is the quarantine reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


def looks_like_html(raw: bytes) -> bool:
    """True when the bytes are HTML by content, whatever the file is called.

    >>> looks_like_html(b"<!DOCTYPE html><html><body><p>Hi</p></body></html>")
    True
    >>> looks_like_html(b"Turkey <3 peace. Plain text.")
    False
    """
    head = raw[:4096]
    if _HTML_START.search(head):
        return True
    return len(_HTML_TAG.findall(head)) >= 3


def decode_text(raw: bytes, *, repair: bool = True) -> tuple[str, tuple[str, ...]]:
    """Decode ``raw`` to clean unicode text and name the repairs made.

    ``repair=False`` skips the unicode repair (ftfy), which is slow over a whole HTML page whose
    markup is never kept: the pipeline repairs the extracted body instead (see :func:`repair_text`).
    Raises DecodeError for empty, whitespace-only and binary input.

    >>> decode_text("Erdoğan".encode("utf-8"))
    ('Erdoğan', ())
    >>> decode_text("Café".encode("cp1252"))
    ('Café', ('charset:cp1252',))
    >>> decode_text("Zelenskyâ€™s".encode("utf-8"))
    ('Zelensky’s', ('mojibake',))
    """
    if not raw:
        raise DecodeError("empty", "the input has no bytes")
    repairs: list[str] = []
    text = _decode_bytes(raw, repairs)
    # No charset repair means UTF-8, where control bytes are control characters: most texts have none.
    controls = bool(repairs) or len(raw.translate(None, _CONTROL_BYTES)) != len(raw)
    if controls and "\x00" in text:
        text = text.replace("\x00", "")
        repairs.append("nul_bytes")
    if repair:
        text, fixes = repair_text(text)
        repairs.extend(fixes)
    if controls:
        stripped = _CONTROL.sub("", text)
        if stripped != text:
            repairs.append("control_chars")
            text = stripped
    if not text.strip():
        raise DecodeError("empty", "the input holds only whitespace")
    return text, tuple(repairs)


def repair_text(text: str) -> tuple[str, tuple[str, ...]]:
    """Mojibake and other encoding damage repaired with ftfy, and whether anything was.

    >>> repair_text("Zelenskyâ€™s")
    ('Zelensky’s', ('mojibake',))
    >>> repair_text("clean text")
    ('clean text', ())
    """
    if not _NEEDS_FTFY.search(text):  # ftfy costs ~3 ms per page; clean text only needs NFC
        return (text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)), ()
    fixed = ftfy.fix_text(text, config=_FTFY_CONFIG)
    if fixed == text:
        return text, ()
    return fixed, (("mojibake",) if ftfy.fix_encoding(text) != text else ())


def has_mojibake_hint(text: str) -> bool:
    """Cheap test for UTF-8 read as a single-byte charset (``Ã©``, ``â€™``); ftfy runs only where it fires.

    >>> has_mojibake_hint("Zelenskyâ€™s"), has_mojibake_hint("Erdoğan’s")
    (True, False)
    """
    return _MOJIBAKE_HINT.search(text) is not None


def _decode_bytes(raw: bytes, repairs: list[str]) -> str:
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                break
            if codec != "utf-8-sig":
                repairs.append(f"charset:{codec}")
            return text
    if raw.startswith(_BINARY_MAGIC):
        raise DecodeError("binary", f"binary file signature {raw[:4]!r}")
    sample = raw[:65536]
    codec = _bomless_utf16(sample) if sample.count(b"\x00") > len(sample) // 10 else None
    if codec:
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            pass
        else:
            repairs.append(f"charset:{codec}")
            return text
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = _mostly_utf8(raw)
    if text is not None:
        repairs.append("replaced_undecodable")
        return text
    if sample.count(b"\x00") > len(sample) // 10:
        raise DecodeError("binary", "more than 10% NUL bytes and no UTF-16 byte order mark")
    encoding = _legacy_charset(sample)
    if encoding is None:
        raise DecodeError("binary", "no character set decodes these bytes as text")
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        text = raw.decode(encoding, errors="replace")
        repairs.append("replaced_undecodable")
    repairs.append(f"charset:{encoding}")
    return text


def _mostly_utf8(raw: bytes) -> str | None:
    """UTF-8 with a few bytes that are not (a character cut in two, a stray byte of another charset), decoded
    as UTF-8 with those bytes replaced by U+FFFD; None when the bytes are in a legacy charset.

    Decoding the whole text as cp1252 for a few bad bytes would turn every other accented letter into
    mojibake. In a legacy charset a valid UTF-8 multi-byte sequence is a rare accident (an accented capital
    followed by a punctuation byte), so the text counts as UTF-8 when its valid multi-byte characters
    outnumber its invalid bytes.

    >>> _mostly_utf8("Erdoğan’s café".encode() + b"\\xff"), _mostly_utf8("Café à la carte".encode("cp1252"))
    ('Erdoğan’s café\\ufffd', None)
    """
    text = raw.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - raw.count("\ufffd".encode())
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    valid = non_ascii - text.count("\ufffd")
    return text if valid > bad else None


def _bomless_utf16(sample: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the NUL bytes sit on one side of each pair, as in Latin text saved as UTF-16.

    >>> _bomless_utf16("News of the day".encode("utf-16-le")), _bomless_utf16(bytes(range(64)))
    ('utf-16-le', None)
    """
    even, odd = sample[0::2], sample[1::2]
    if not even or not odd:
        return None
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.5 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.5 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _legacy_charset(sample: bytes) -> str | None:
    """The detector's charset for non-UTF-8 bytes, cp1252 when it is as good as the best."""
    if len(sample) < MIN_DETECTOR_BYTES:
        try:
            sample.decode(DEFAULT_LEGACY_CHARSET)
            return DEFAULT_LEGACY_CHARSET
        except UnicodeDecodeError:
            pass
    matches = list(from_bytes(sample, cp_isolation=_WEB_ENCODINGS))
    if not matches:
        return None
    best = matches[0]
    fallback = next((m for m in matches if m.encoding == DEFAULT_LEGACY_CHARSET), None)
    if fallback is None:
        return best.encoding
    tied = (fallback.chaos <= best.chaos + CHARSET_TIE_CHAOS
            and fallback.coherence >= best.coherence - CHARSET_TIE_COHERENCE)
    return DEFAULT_LEGACY_CHARSET if tied else best.encoding
