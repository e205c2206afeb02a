"""Candidate characters of the glyph dataset, in tiers of decreasing priority.

Classes come from the smallest prefix of tiers that holds enough characters, so small class
counts use digits and Latin letters and larger ones add Greek, Cyrillic, mathematical symbols,
punctuation, accented Latin letters and further scripts. When two characters look alike, the
earlier one keeps the class (Latin A stays, Greek Alpha goes).
"""

from __future__ import annotations

import string

__all__ = ["GLYPH_TIERS"]


def _span(first: int, last: int, skip: tuple[int, ...] = ()) -> str:
    return "".join(chr(c) for c in range(first, last + 1) if c not in skip)


GLYPH_TIERS: tuple[tuple[str, str], ...] = (
    ("digits_latin", string.digits + string.ascii_uppercase + string.ascii_lowercase),
    ("greek", _span(0x391, 0x3A9, skip=(0x3A2,)) + _span(0x3B1, 0x3C9) + "ϑϕϖϐϱϵ"),
    ("cyrillic", _span(0x410, 0x44F) + "ЁёЂђЄєЅѕІіЇїЈјЉљЊњЋћЎўЏџҐґ"),
    (
        "math",
        "+−×÷=≠≈≡≤≥<>±∓∞∑∏∐∫∮√∂∇∆∈∉∋⊂⊃⊆⊇∪∩∧∨¬∀∃∄∅∝∠⊥∥⊕⊗⊙∘∴∵ℵℏℓ℘ℜℑ"
        "→←↑↓↔↕⇒⇐⇔⇑⇓↦∼≅≃≪≫⊢⊣⊤⋆⋅⌈⌉⌊⌋⟨⟩∗∖≺≻⊏⊐⊓⊔⊖⊘⊚⊛",
    ),
    ("punctuation", "!?#$%&@*§¶©®™€£¥¢¿¡()[]{}/\\|~^'\"`;:,.•†‡°‰′″‹›«»–—_¤ƒ♠♣♥♦♪♫☺☼★☆✓✗"),
    (
        "latin_extended",
        "ßæÆœŒøØðÐþÞłŁŋŊħĦıȷ"
        + _span(0xC0, 0xDD, skip=(0xC6, 0xD0, 0xD7, 0xD8))
        + _span(0xE0, 0xFF, skip=(0xE6, 0xF0, 0xF7, 0xF8, 0xFE)),
    ),
    (
        "other_scripts",
        _span(0x5D0, 0x5EA) + _span(0x531, 0x556) + _span(0x561, 0x586) + _span(0x10D0, 0x10F0),
    ),
)
