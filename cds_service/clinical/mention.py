"""One finding read in text: what was found, how the text qualifies it, and where."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mention:
    """One concept found in text, with how the sentence qualifies it."""

    concept: str
    phrase: str  # the words matched
    sentence: str  # the sentence it was read in (quoted on cards)
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    hypothetical: bool = False
    resolved: bool = False
    improving: bool = False
    in_indication: bool = False  # in the clinical question: asked, not found
    site: str | None = None  # nearest anatomical site in the sentence (anatomy.SITES)
    side: str | None = None  # "left" | "right" | "bilateral"
    diffuse: bool = False
    focal: bool = False
    section: str | None = None  # the report section it was read in (sections.toml)
    sign: str = ""  # what the words describe ("double line sign"); the concept if none

    @property
    def affirmed(self) -> bool:
        """Stated as present now."""
        return not (self.negated or self.uncertain or self.historical or self.hypothetical
                    or self.resolved or self.in_indication)

    @property
    def possible(self) -> bool:
        """Raised as a possibility ("cannot exclude", "suspicious for"), not denied."""
        return self.uncertain and not (self.negated or self.in_indication or self.resolved)

    @property
    def transient(self) -> bool:
        """Described as resolved or resolving (evidence of a self-limiting episode)."""
        return (self.resolved or self.improving) and not self.negated
