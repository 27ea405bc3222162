"""The vocabulary files: spelled out as documented, checked with the file and entry named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cds_service.clinical import vocabulary
from cds_service.clinical.text_reader import TextReader, default_reader
from cds_service.resources import hooks_dir
from cds_service.services.definitions import DefinitionError, load_catalog

FORMS = {"edema": ("edema", "oedema")}


@pytest.mark.parametrize(("phrase", "expected"), [
    ("bone marrow {edema}", ["bone marrow edema", "bone marrow oedema"]),
    ("(avascular|aseptic) necrosis", ["aseptic necrosis", "avascular necrosis"]),
    ("[bone] marrow {edema}", ["bone marrow edema", "bone marrow oedema", "marrow edema",
                               "marrow oedema"]),
    ("(double - line|double line) sign", ["double - line sign", "double line sign"]),
])
def test_phrases_spell_out(phrase: str, expected: list[str]) -> None:
    assert vocabulary.spell_out(phrase, FORMS) == expected


WIDE = "(" + "|".join(f"w{i}" for i in range(40)) + ")"


@pytest.mark.parametrize(("phrase", "message"), [
    ("{oedema} pattern", "unknown form group"),
    ("(a|b", "unbalanced"),
    ("(a||b)", "empty alternative"),
    (f"{WIDE} {WIDE}", "spells out to more than"),
])
def test_bad_phrases_are_refused(phrase: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        vocabulary.spell_out(phrase, FORMS)


def _hooks_copy(tmp_path: Path) -> Path:
    hooks = tmp_path / "hooks"
    shutil.copytree(hooks_dir(), hooks)
    return hooks


def test_a_broken_entry_stops_start_up_naming_file_and_entry(tmp_path: Path) -> None:
    hooks = _hooks_copy(tmp_path)
    targets = hooks / "vocabulary" / "targets.toml"
    targets.write_text(targets.read_text(encoding="utf-8").replace(
        'concept = "TOH"', 'concept = "TOHH"', 1), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"targets\.toml: term\[\d+\]: concept 'TOHH'"):
        load_catalog(hooks)


def test_broken_toml_is_named(tmp_path: Path) -> None:
    hooks = _hooks_copy(tmp_path)
    (hooks / "vocabulary" / "modifiers.toml").write_text("[[modifier]\n", encoding="utf-8")
    with pytest.raises(vocabulary.VocabularyError, match=r"modifiers\.toml: cannot read TOML"):
        vocabulary.load(hooks / "vocabulary")


def test_an_edited_vocabulary_changes_the_reading(tmp_path: Path) -> None:
    hooks = _hooks_copy(tmp_path)
    targets = hooks / "vocabulary" / "targets.toml"
    targets.write_text(targets.read_text(encoding="utf-8") + (
        '\n[[term]]\nconcept = "TOH"\nsign = "local name"\nphrases = ["hip flu syndrome"]\n'),
        encoding="utf-8")
    edited = TextReader.from_folder(hooks / "vocabulary")
    found = edited.read("Findings in keeping with hip flu syndrome.").mentions
    assert [(m.concept, m.sign) for m in found] == [("TOH", "local name")]
    assert default_reader().read("Findings in keeping with hip flu syndrome.").mentions == ()
