"""decode_text on legacy charsets, UTF-16, mojibake and binary input; cases in tests/goldens/bad_inputs/decode_cases.json."""
from __future__ import annotations


import pytest

from tests.cases import load_cases
from transforms.decode import DecodeError, decode_text, looks_like_html

CASES = load_cases("bad_inputs", "decode_cases.json")


def _raw(case: dict) -> bytes:
    return bytes.fromhex(case["hex"]) if "hex" in case else case["text"].encode(case["encoding"])


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_decode_case(case):
    if "error" in case:
        with pytest.raises(DecodeError) as raised:
            decode_text(_raw(case))
        assert raised.value.reason == case["error"]
        return
    text, repairs = decode_text(_raw(case))
    assert text == (case["expect"] if "expect" in case else case["text"])
    assert list(repairs) == case["repairs"] or set(case["repairs"]) <= set(repairs), repairs


def test_deeply_nested_html_is_still_recognised_quickly():
    page = b"<html><body>" + b"<div>" * 100_000 + b"text" + b"</div>" * 100_000 + b"</body></html>"
    assert looks_like_html(page)
    text, repairs = decode_text(page)
    assert len(text) == len(page) and repairs == ()
