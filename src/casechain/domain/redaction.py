"""Identity protection in memos: victims by initials, juvenile accused by number.

In sexual and gender-based violence and juvenile cases (the SOP's
``sensitive_flags``) documents for wider circulation must not identify the
victim. Here the complainant stands for the victim, so the complainant's name
is shown as initials ("Muhammad Aslam" -> "M. A.") and every word of the name
that turns up in free text (evidence references, notes, answers) is replaced
by its initial as well ("statement of Aslam's brother" -> "statement of A.'s
brother").

In a case flagged ``juvenile`` (``ACCUSED_PROTECTED_FLAGS``) the Juvenile
Justice System Act 2018 also protects the identity of a juvenile accused, so
every accused is shown by number ("Accused 1 (juvenile)") and every word of
an accused's name in free text is replaced by that number ("Role of Bilal"
-> "Role of Accused 1"). The flag marks the case, not a person, so all its
accused are protected. The rule is the statute's, not an office's, so it
does not depend on the SOP listing ``juvenile`` among its sensitive flags.

What counts as a word: a run of letters, combining marks and digits, so Urdu
names with diacritics (zer, zabar, pesh) stay whole. Matching ignores case
and Unicode normalisation (NFC on both sides).

Choices, so that nobody has to rediscover them:
- Words of fewer than ``MIN_WORD`` characters are replaced only as part of
  the full name: "Bo" alone would otherwise wipe "bo" out of every sentence.
- A word is caught where it *starts* a word of the text ("Aslam", "Aslam's",
  "Aslams", "ASLAM-ji"), not in the middle of another word ("Ali" is left in
  "quality"; a name glued to a preceding word, "MrAslam", is not caught).
- Over-redaction is accepted: if an unprotected accused shares a word with
  the victim ("Muhammad"), that word is replaced in free text too. Names in
  structured fields (accused, officers) are touched only where protected.
- A word (or name) that belongs to more than one protected person ("Muhammad"
  of the victim and of a juvenile accused) becomes "(name withheld)": neither
  person's initial or number would be right for it.
- Text put in by a replacement is never matched again: a victim called
  "Accused" does not turn "Accused 1" into "A. 1".
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


# Case flags under which every accused is shown by number, not by name
# (Juvenile Justice System Act 2018: a juvenile accused is not to be identified).
ACCUSED_PROTECTED_FLAGS = ("juvenile",)


def accused_label(number: int) -> str:
    """How a protected accused is named in free text: 'Accused 2'."""
    return f"Accused {number}"


def accused_shown(number: int) -> str:
    """How a protected accused is named where the accused are listed: 'Accused 2 (juvenile)'."""
    return f"{accused_label(number)} (juvenile)"


def protected_flags(flags, sensitive_flags) -> list[str]:
    """The case's flags that call for any protection: the SOP's sensitive flags and the juvenile rule."""
    return sorted(set(flags) & (set(sensitive_flags) | set(ACCUSED_PROTECTED_FLAGS)))


def protects_accused(flags) -> bool:
    return bool(set(flags) & set(ACCUSED_PROTECTED_FLAGS))


@dataclass(frozen=True)
class Redactor:
    """Replaces protected names in text. ``Redactor(())`` changes nothing.

    ``names`` are shown by initials (the victim); ``accused`` are the accused
    in order when they are protected, each shown by number.
    """

    names: tuple[str, ...]
    accused: tuple[str, ...] = ()
    _patterns: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # Each protected person, with what their whole name and each word becomes.
        people = [(n, initials(n), _initial) for n in self.names if n and n.strip()]
        people += [(n, accused_label(i), (lambda _w, label=accused_label(i): label)) for i, n in enumerate(self.accused, start=1) if n and n.strip()]
        # key (lower case, NFC) -> [shown text, whole only?, owners, replacement]
        found: dict[str, list] = {}

        def add(text: str, whole: bool, owner: int, replacement: str) -> None:
            key = text.lower()
            entry = found.setdefault(key, [text, whole, set(), replacement])
            entry[1] = entry[1] and whole
            if owner not in entry[2] and entry[2]:
                entry[3] = WITHHELD
            entry[2].add(owner)

        for owner, (name, shown, word_shown) in enumerate(people):
            full = _nfc(name).strip()
            add(full, True, owner, shown)
            for word in name_words(name):
                if len(word) >= MIN_WORD:
                    add(word, False, owner, word_shown(word))
        # The full names first (longest first), so that "Muhammad Aslam" becomes
        # "M. A." in one piece; then each long-enough word, longest first, so a
        # word that contains another ("Aliya", "Ali") is replaced whole.
        order = sorted(found.values(), key=lambda e: (not e[1], -len(e[0]), e[0]))
        patterns = tuple((re.compile(re.escape(text), re.IGNORECASE), replacement, whole) for text, whole, _, replacement in order)
        object.__setattr__(self, "_patterns", patterns)

    @property
    def active(self) -> bool:
        return bool(self._patterns)

    @property
    def victim_protected(self) -> bool:
        return any(n and n.strip() for n in self.names)

    @property
    def accused_protected(self) -> bool:
        return bool(self.accused)

    def person(self, name: str) -> str:
        """A protected person's name as shown: initials."""
        return initials(name) if self.victim_protected else name

    def accused_name(self, number: int, name: str) -> str:
        """The ``number``-th accused (from 1) as listed: 'Accused 1 (juvenile)' when protected."""
        return accused_shown(number) if self.accused_protected else name

    def text(self, text: str | None) -> str | None:
        """Free text with every protected name and name word replaced."""
        if not text or not self.active:
            return text
        # Pieces of text: (text, replaced?). Only pieces not yet replaced are searched.
        pieces = [(_nfc(text), False)]
        for pattern, replacement, whole in self._patterns:
            out = []
            for i, (piece, done) in enumerate(pieces):
                if done:
                    out.append((piece, True))
                    continue
                before = pieces[i - 1][0][-1:] if i else ""
                after = pieces[i + 1][0][:1] if i + 1 < len(pieces) else ""
                out.extend(_replace(piece, pattern, replacement, whole, before, after))
            pieces = [p for p in out if p[0]]
        return "".join(p for p, _ in pieces)


def _replace(text: str, pattern: re.Pattern, replacement: str, whole: bool, before: str = "", after: str = "") -> list[tuple[str, bool]]:
    """Split ``text`` into pieces, the matches that start a word replaced (with
    ``whole``, only those that also end one). ``before`` and ``after`` are the
    characters around ``text``."""
    parts, last, pos = [], 0, 0
    while (m := pattern.search(text, pos)) is not None:
        start, end = m.start(), m.end()
        prev = text[start - 1] if start > 0 else before
        nxt = text[end] if end < len(text) else after
        inside = bool(prev) and _is_letter(prev)  # "Ali" in "quality" is not the name
        runs_on = whole and bool(nxt) and _is_letter(nxt)  # nor the full name "Al" in "Also"
        if inside or runs_on:
            pos = start + 1  # a skipped match may hide an overlapping one that counts
            continue
        parts.append((text[last:start], False))
        parts.append((replacement, True))
        last = pos = end
    parts.append((text[last:], False))
    return parts


def redactor(names, accused=()) -> Redactor:
    """A redactor for victims ``names`` (by initials) and protected ``accused`` (by number, in order)."""
    return Redactor(tuple(n for n in names if n), tuple(accused))


def for_case(flags, sensitive_flags, complainant: str, accused, revealed: bool = False) -> Redactor:
    """What a memo of a case must hide: the complainant where a sensitive flag is set,
    every accused where the juvenile rule applies; nothing once revealed to a permitted officer."""
    if revealed:
        return Redactor(())
    victim = [complainant] if set(flags) & set(sensitive_flags) else []
    return redactor(victim, tuple(accused) if protects_accused(flags) else ())
