"""Font faces available offline: matplotlib's bundled faces plus any system fonts.

A face is used when it is a text font: it maps at least 90% of 0-9A-Za-z to glyphs whose
names agree with the character (Adobe Glyph List). That drops symbol fonts that put other
glyphs at letter code points (matplotlib's BaKoMa ``cmex``/``cmsy``, excluded by name as well,
and LastResort), STIX size and non-Unicode variants, icon fonts, and it lets the Computer
Modern text faces keep their letters while their OT1 punctuation slots (``<`` drawn as ``¡``)
are refused per character. Faces with the same full name are kept once (Python packages
first, then system folders). Extra folders: ``$STUDY_FONT_DIRS`` (os.pathsep-separated).
"""

from __future__ import annotations

import os
import string
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FONT_DIRS_ENV", "FontFace", "discover_font_files", "read_face", "usable_faces"]

FONT_DIRS_ENV = "STUDY_FONT_DIRS"
SYSTEM_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.fonts",
    "~/.local/share/fonts",
)
FONT_SUFFIXES = (".ttf", ".otf")
# they draw symbols at letter code points (see above)
EXCLUDED_FONT_PREFIXES = ("cmex", "cmsy", "lastresort")
MIN_ALNUM_COVERAGE = 0.9  # share of 0-9A-Za-z a face must draw to count as a text font
ALNUM = string.digits + string.ascii_uppercase + string.ascii_lowercase


@dataclass(frozen=True)
class FontFace:
    """One usable face: its full name, file and the code points it really draws."""

    name: str  # full name (name table ID 4), e.g. "DejaVu Sans Bold"
    path: str
    codepoints: frozenset[int]  # cmap entries whose glyph name does not contradict the character


def _font_dirs() -> list[Path]:
    import matplotlib

    dirs = [Path(matplotlib.get_data_path()) / "fonts" / "ttf"]
    extra = [d for d in os.environ.get(FONT_DIRS_ENV, "").split(os.pathsep) if d]
    return dirs + [Path(d).expanduser() for d in (*extra, *SYSTEM_FONT_DIRS)]


def discover_font_files() -> list[Path]:
    """Candidate font files in a fixed order (package faces first, sorted within each folder)."""
    files: list[Path] = []
    for d in _font_dirs():
        if d.is_dir():
            found = sorted(
                p for p in d.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file()
            )
            files += [p for p in found if not p.name.lower().startswith(EXCLUDED_FONT_PREFIXES)]
    return files


def _agrees(glyph_name: str, codepoint: int) -> bool:
    from fontTools import agl

    decoded = agl.toUnicode(glyph_name)
    # unknown names (glyph123) are given the benefit of the doubt
    return decoded in ("", chr(codepoint))


def read_face(path: Path) -> FontFace | None:
    """The face in ``path`` if it is a usable text font, else None."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(str(path), lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
            name = font["name"].getDebugName(4) or path.stem
    except (TTLibError, OSError, KeyError, AssertionError, ValueError):
        return None
    codepoints = frozenset(cp for cp, glyph in cmap.items() if _agrees(glyph, cp))
    if sum(ord(c) in codepoints for c in ALNUM) < MIN_ALNUM_COVERAGE * len(ALNUM):
        return None
    return FontFace(name, str(path), codepoints)


def usable_faces(files: list[Path]) -> list[FontFace]:
    """Usable faces of ``files``, one per full name, sorted by name."""
    faces: dict[str, FontFace] = {}
    for path in files:
        face = read_face(path)
        if face is not None and face.name not in faces:
            faces[face.name] = face
    return [faces[n] for n in sorted(faces)]
