"""Attachment text under any charset label: never an exception (issue 13 §5)."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest

from cds_service.clinical.fhir_values import attachment_text

TEXT = "Diffuse bone marrow œdema of the left femoral head."


def _attachment(charset: str, text: str = TEXT, encoding: str = "utf-8") -> SimpleNamespace:
    return SimpleNamespace(contentType=f"text/plain; charset={charset}",
                           data=base64.b64encode(text.encode(encoding)).decode())


@pytest.mark.parametrize("charset", ["idna", "punycode", "undefined", "zlib", "base64",
                                     "rot13", "no-such-charset", "utf-16"])
def test_a_charset_that_is_not_one_reads_as_utf8_without_raising(charset: str) -> None:
    assert isinstance(attachment_text(_attachment(charset)), str)


def test_a_real_charset_is_honoured() -> None:
    assert attachment_text(_attachment("iso-8859-1", "œdema".replace("œ", "e"), "latin-1")) \
        == "edema"
    assert attachment_text(_attachment("utf-8")) == TEXT


def test_punycode_is_not_decoded_as_punycode() -> None:
    """Python's punycode decoder is quadratic: a 400 KB attachment took 8 s."""
    text = attachment_text(_attachment("punycode", "abc-" * 100_000))
    assert text is not None and text.startswith("abc-")
