"""Victim identity protection: names to initials, and name words out of free text.

In sexual and gender-based violence and juvenile cases (the SOP's
``sensitive_flags``) documents for wider circulation must not identify the
victim. Here the complainant stands for the victim, so the complainant's name
is shown as initials ("Muhammad Aslam" -> "M. A.") and every word of the name
that turns up in free text (evidence references, notes, answers) is replaced
by its initial as well ("statement of Aslam's brother" -> "statement of A.'s
brother").

What counts as a word: a run of letters, combining marks and digits, so Urdu
names with diacritics (zer, zabar, pesh) stay whole. Matching ignores case
and Unicode normalisation (NFC on both sides).

Choices, so that nobody has to rediscover them:
- Words of fewer than ``MIN_WORD`` characters are replaced only as part of
  the full name: "Bo" alone would otherwise wipe "bo" out of every sentence.
- A word is caught where it *starts* a word of the text ("Aslam", "Aslam's",
  "Aslams", "ASLAM-ji"), not in the middle of another word ("Ali" is left in
  "quality"; a name glued to a preceding word, "MrAslam", is not caught).
- Over-redaction is accepted: if an accused shares a word with the victim
  ("Muhammad"), that word is replaced in free text too. Names in structured
  fields (accused, officers) are not touched: only the victim is protected.
- A transliteration (Aslam / اسلم) is a different word and is not caught.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MIN_WORD = 3
WITHHELD = "(name withheld)"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM"


def name_words(name: str) -> list[str]:
    """The words of a name, in order: runs of letters, marks and digits."""
    words, current = [], []
    for ch in _nfc(name or ""):
        if _is_word_char(ch):
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def _initial(word: str) -> str:
    """First character of a word with any combining marks that belong to it."""
    out = word[0]
    for ch in word[1:]:
        if unicodedata.category(ch).startswith("M"):
            out += ch
        else:
            break
    return out.upper() + "."


def initials(name: str) -> str:
    """'Muhammad Aslam' -> 'M. A.'; 'محمد اسلم' -> 'م. ا.'; no letters at all -> '(name withheld)'."""
    words = name_words(name)
    if not words:
        return WITHHELD
    return " ".join(_initial(w) for w in words)


@dataclass(frozen=True)
class Redactor:
    """Replaces protected names in text. ``Redactor(())`` changes nothing."""

    names: tuple[str, ...]
    _patterns: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        patterns = []
        # The full names first (longest first), so that "Muhammad Aslam" becomes
        # "M. A." in one piece; then each long-enough word, longest first, so a
        # word that contains another ("Aliya", "Ali") is replaced whole.
        fulls = sorted({_nfc(n).strip() for n in self.names if n and n.strip()}, key=len, reverse=True)
        for full in fulls:
            patterns.append((re.compile(re.escape(full), re.IGNORECASE), initials(full), True))
        words = {w for n in self.names for w in name_words(n) if len(w) >= MIN_WORD}
        for word in sorted(words, key=lambda w: (-len(w), w)):
            patterns.append((re.compile(re.escape(word), re.IGNORECASE), _initial(word), False))
        object.__setattr__(self, "_patterns", tuple(patterns))

    @property
    def active(self) -> bool:
        return bool(self._patterns)

    def person(self, name: str) -> str:
        """A protected person's name as shown: initials."""
        return initials(name) if self.active else name

    def text(self, text: str | None) -> str | None:
        """Free text with every protected name and name word replaced by initials."""
        if not text or not self.active:
            return text
        out = _nfc(text)
        for pattern, replacement, whole in self._patterns:
            out = _replace(out, pattern, replacement, whole)
        return out


def _replace(text: str, pattern: re.Pattern, replacement: str, whole: bool) -> str:
    """Replace matches that start a word; with ``whole``, only those that also end one."""
    parts, last, pos = [], 0, 0
    while (m := pattern.search(text, pos)) is not None:
        start, end = m.start(), m.end()
        inside = start > 0 and _is_letter(text[start - 1])  # "Ali" in "quality" is not the name
        runs_on = whole and end < len(text) and _is_letter(text[end])  # nor the full name "Al" in "Also"
        if inside or runs_on:
            pos = start + 1  # a skipped match may hide an overlapping one that counts
            continue
        parts.append(text[last:start])
        parts.append(replacement)
        last = pos = end
    parts.append(text[last:])
    return "".join(parts)


def redactor(names) -> Redactor:
    return Redactor(tuple(n for n in names if n))
