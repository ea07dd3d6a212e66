"""Text as Signoff keeps, compares and shows it: one normal form, no invisible or control characters.

Every string a person gives (slash text, a modal, an amend, ``explain``, a file test) passes
``normalize_text`` in ``fields.coerce`` before it is validated, stored, compared or shown (a
reject or changes reason passes it in ``services.decide``), and every text constant of a
``when`` condition passes it when the file compiles:

1. Control characters (Unicode category Cc: NUL, escape, …) are refused with a message
   naming the character; tab is whitespace. Line breaks (CR, LF, NEL, U+2028, U+2029) are
   refused in a single-line field and become ``\\n`` in a multiline one.
   Lone surrogates (category Cs: what undecodable bytes become) and noncharacters
   (U+FDD0–U+FDEF and the last two code points of every plane) are refused the same way.
2. Characters that render blank but are not whitespace (the Hangul fillers, U+2800 BRAILLE
   PATTERN BLANK) become a space, so ``wire\u3164transfer`` reads as the two words it shows.
3. Format characters (category Cf: zero-width space and joiners, bidi controls, soft hyphen,
   byte-order mark) and every other Default_Ignorable_Code_Point (combining grapheme joiner,
   variation selectors, Khmer inherent vowels, Mongolian free variation selectors, tags) are
   removed: they change nothing a person sees, only what a comparison sees.
4. Unicode NFKC (UAX #15): compatibility forms become their plain equivalent (NBSP → space,
   fullwidth ``Ａ`` → ``A``, ``ﬁ`` → ``fi``).
5. Whitespace runs become one space; the ends are stripped (per line in multiline text).

``mixed_script_problem`` refuses a word that mixes scripts the way a spoof does (a Cyrillic
``Е`` inside the Latin ``Evil``), after Unicode TS #39's "highly restrictive" level: one script
per word besides Common and Inherited characters, or Latin with the Han-based combinations
Japanese, Chinese and Korean use. A word wholly in one script (a Cyrillic or Japanese name)
is accepted, unless it reads as Latin letters next to Latin words (``Еѵіӏ Corp``, TS #39's
whole-script confusable).

``comparison_key`` is what ``eq``, ``ne``, ``in``, ``not_in`` and ``contains`` decide on: the
normal form, case-folded, so ``EVIL CORP`` and ``evil corp`` are the same name and ``Acrne Corp``
is not ``Acme Corp``. ``look_alike_keys`` say which texts a person could take for one another:
Unicode TS #39 §4 confusable skeletons (from the confusables data shipped by
``confusable-homoglyphs``), taken before and after case folding so that ``EviI`` (capital I)
looks like ``Evil`` and ``Bad lnc`` like ``Bad Inc``. Signoff never decides on a look-alike:
a rule that holds or fails only by one goes to a person (``bot.domain.outcome``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from confusable_homoglyphs import categories, confusables

#: Characters that end a line; ``\\r\\n`` counts once.
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
#: Unicode category Cc is exactly these two ranges; tab is whitespace, not refused.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
#: Lone surrogates and noncharacters (Unicode §23.7): not text, refused with their code point.
_NOT_TEXT = re.compile(
    "[\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17))
    + "]"
)
#: Default_Ignorable_Code_Point, copied from DerivedCoreProperties.txt of Unicode 14.0.0, the
#: version of this Python's ``unicodedata`` (``unicodedata.unidata_version``); the property is not
#: in ``unicodedata``. Unassigned ranges in it (U+2065, U+FFF0–FFF8, U+E0000…) are reserved as
#: ignorable too. The Hangul fillers are listed here but become a space first (``_BLANK``).
_DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
#: Characters that show as an empty space without being whitespace: Hangul fillers (choseong,
#: jungseong, compatibility, halfwidth) and U+2800 BRAILLE PATTERN BLANK.
_BLANK = re.compile("[\u115f\u1160\u3164\uffa0\u2800]")
#: Scripts that do not make a word "mixed": punctuation, digits, symbols, combining marks.
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED", "Unknown"})
#: TS #39 §5.2 "highly restrictive": the script sets one word may combine.
_ALLOWED_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)


def odd_character(text: str) -> str | None:
    """The first character ``normalize_text`` would refuse, remove or change, named
    (``U+200B ZERO WIDTH SPACE``); None when every character stays as it is."""
    for char in text:
        kept = (char.isascii() and char.isprintable()) or (
            _not_text(char) is None
            and not _CONTROL.match(char)
            and not _LINE_BREAK.match(char)
            and _shown(char) == char
            and unicodedata.normalize("NFKC", char) == char
            and (char == " " or not char.isspace())
        )
        if not kept:
            return character_name(char)
    return None


def hidden_character(text: str) -> str | None:
    """The first character of ``text`` a reader cannot see or that reorders what they see, named
    (``U+202E RIGHT-TO-LEFT OVERRIDE``): a control or format character (Cc, Cf: zero-width, bidi),
    any other default-ignorable or blank-looking one, a line break, whitespace other than the
    space, a surrogate or a noncharacter. None when there is none. For identifiers, which are
    compared exactly and never normalized beyond NFC."""
    for char in text:
        if char.isascii() and char.isprintable():
            continue
        if (
            unicodedata.category(char) in ("Cc", "Cf", "Cs")
            or _NOT_TEXT.match(char)
            or _DEFAULT_IGNORABLE.match(char)
            or _BLANK.match(char)
            or (char.isspace() and char != " ")
        ):
            return character_name(char)
    return None


def character_name(char: str) -> str:
    """``U+0000`` followed by the character's Unicode name when it has one: ``U+200B ZERO WIDTH SPACE``."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def normalize_text(raw: str, *, multiline: bool = False) -> str:
    """``raw`` in Signoff's normal form (see the module docstring), or ``ValueError`` saying why not.

    The messages name the offending character and are written to follow a field's name:
    ``contains the control character U+0000, which is not allowed``. The result is stable:
    ``normalize_text(normalize_text(x)) == normalize_text(x)``.
    """
    if raw.isascii() and raw.isprintable():
        return " ".join(raw.split())  # the common case: nothing to remove, refuse or recompose
    text = _LINE_BREAK.sub("\n", raw)
    problem = _not_text(text)
    if problem is not None:
        raise ValueError(problem)
    for match in _CONTROL.finditer(text):
        if match.group() != "\n":
            raise ValueError(f"contains the control character {character_name(match.group())}, which is not allowed")
        if not multiline:
            raise ValueError("is a single-line field: remove the line break")
    text = _shown(unicodedata.normalize("NFKC", _shown(text)))  # twice: NFKC maps U+FFA0 to U+1160
    lines = (" ".join(line.split()) for line in text.split("\n"))  # split(): runs of any whitespace
    return "\n".join(lines).strip("\n") if multiline else next(lines)


def is_blank(raw: str) -> bool:
    """Whether ``raw`` shows nothing: only whitespace, blank-looking and invisible characters (see
    ``normalize_text``); such a value is "not given". Never raises."""
    if raw.isascii():
        return not raw.strip()
    return not _shown(raw).strip()


def _not_text(text: str) -> str | None:
    """Why ``text`` holds something that is not a character (a lone surrogate, a noncharacter), or None."""
    found = _NOT_TEXT.search(text)
    if found is None:
        return None
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return (
            f"contains U+{ord(char):04X}, a lone surrogate (half a UTF-16 pair, or a byte that is not UTF-8), "
            "which is not allowed"
        )
    return f"contains the noncharacter U+{ord(char):04X}, which is not allowed"


def mixed_script_problem(text: str) -> str | None:
    """Why ``text`` looks like a spoof (a word mixing scripts), or None.

    Words are runs of letters between Common characters (spaces, digits, punctuation), so
    ``Acme/Газпром`` is two words and fine, while ``Еvil`` (Cyrillic ``Е``) is one word in two scripts.
    """
    if text.isascii():
        return None  # Latin letters and Common characters only
    words: list[str] = []
    word: list[str] = []
    for char in (*text, " "):
        if _script(char) in _NEUTRAL_SCRIPTS and not unicodedata.category(char).startswith("M"):
            if word:
                words.append("".join(word))
            word = []
        else:
            word.append(char)
    for each in words:
        problem = _mixed_word(each)
        if problem is not None:
            return problem
    return _latin_look_alike(words)


def _latin_look_alike(words: list[str]) -> str | None:
    """A whole word of another script that reads as Latin letters, next to Latin words (``Еѵіӏ Corp``)."""
    if not any(_scripts(word) == {"LATIN"} for word in words):
        return None
    for word in words:
        scripts = _scripts(word)
        if scripts and scripts != {"LATIN"}:
            # As written (Greek ``ΑΒΕ`` reads ``ABE``) and case-folded (Cyrillic ``ѕ`` reads ``s``).
            for skeleton in (_skeleton(word), _skeleton(word.casefold())):
                if skeleton.isascii() and skeleton.isalpha():
                    return (
                        f"“{word}” is written in {', '.join(s.title() for s in sorted(scripts))} letters that look "
                        f"like the Latin “{skeleton}”, as look-alike spoofs do; type the word in one script"
                    )
    return None


def _scripts(word: str) -> set[str]:
    return {_script(char) for char in word} - _NEUTRAL_SCRIPTS


@lru_cache(maxsize=8192)
def _script(char: str) -> str:
    """The Unicode script of ``char`` (Scripts.txt, as the confusables package ships it): ``LATIN``, ``COMMON``…"""
    return str(categories.alias(char))


def _mixed_word(word: str) -> str | None:
    scripts: dict[str, str] = {}
    for char in word:  # the first letter of each script, to name it
        script = _script(char)
        if script not in _NEUTRAL_SCRIPTS:
            scripts.setdefault(script, char)
    if len(scripts) < 2 or any(set(scripts) <= allowed for allowed in _ALLOWED_MIXES):
        return None
    found = ", ".join(f"{character_name(char)} ({script.title()})" for script, char in sorted(scripts.items()))
    return (
        f"“{word}” mixes letters of different scripts ({found}), as look-alike spoofs do; type the word in one script"
    )


def comparison_key(text: str) -> str:
    """What text conditions decide on: the normal form, case-folded (``Evil CORP`` → ``evil corp``).

    Never raises: stored values from before normalization (with a control character, say)
    still compare by what they show.
    """
    return _key(text)


@lru_cache(maxsize=1024)  # the values a burst of requests compares against many rules
def _key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", _shown(text).casefold()).split())


def look_alike_keys(text: str) -> frozenset[str]:
    """The confusable skeletons of ``text`` (TS #39 §4): two texts a person could take for one
    another share one. Case-insensitive, and catching capital ``I`` for ``l`` both ways: the
    skeleton of the case-folded text, the case-folded skeleton, and the skeleton of that
    (``EviI Corp`` → {``evii corp``, ``evil corp``}). Latin small capitals (``ᴇ``) read as their
    letter. Whitespace runs are one space. Never raises.
    """
    return _look_alike_keys(text)


@lru_cache(maxsize=1024)
def _look_alike_keys(text: str) -> frozenset[str]:
    shown = _shown(text)
    skeleton = _skeleton(shown)
    forms = (_skeleton(shown.casefold()), skeleton.casefold(), _skeleton(skeleton.casefold()), skeleton)
    return frozenset(" ".join(unicodedata.normalize("NFKC", form).split()) for form in forms)


def _shown(text: str) -> str:
    """``text`` as it shows, in NFKC: blank-looking and control characters (but line breaks) as
    spaces; format characters (Cf) and default-ignorable code points removed."""
    visible = _DEFAULT_IGNORABLE.sub("", _without_format_characters(_BLANK.sub(" ", text)))
    shown = "".join(" " if unicodedata.category(c) == "Cc" and c != "\n" else c for c in visible)
    return unicodedata.normalize("NFKC", shown)


def _skeleton(text: str) -> str:
    return unicodedata.normalize("NFD", "".join(_prototype(char) for char in unicodedata.normalize("NFD", text)))


@lru_cache(maxsize=8192)
def _prototype(char: str) -> str:
    """The character a look-alike stands for (Cyrillic ``е`` → ``e``), from the confusables data.

    The data lists, for a look-alike, the one character it is confused with, and for that
    character all its look-alikes; a pair that lists only each other maps to the lower code
    point, so the mapping is the same whichever side is met.
    """
    if char in _SMALL_CAPITALS:
        return _SMALL_CAPITALS[char]
    found = confusables.is_confusable(char, greedy=True)
    if not found:
        return char
    glyphs: list[str] = [str(entry["c"]).replace("\u200e", "") for entry in found[0]["homoglyphs"]]
    if len(glyphs) != 1:
        return char
    target = glyphs[0]
    if len(target) == 1:
        back = confusables.is_confusable(target, greedy=True)
        back_glyphs = [entry["c"].replace("\u200e", "") for entry in back[0]["homoglyphs"]] if back else []
        if back_glyphs == [char] and ord(char) < ord(target):
            return char
    return target


#: Latin small capitals (``ᴇ``, ``ʟ``) that the confusables data leaves out: they read as their letter.
_SMALL_CAPITALS = {
    char: name[-1].lower()
    for char in map(chr, range(0x0100, 0x2000))
    if (name := unicodedata.name(char, "")).startswith("LATIN LETTER SMALL CAPITAL ") and len(name) == 28
}


def _without_format_characters(text: str) -> str:
    if text.isascii():
        return text  # no ASCII character is a format character
    return "".join(char for char in text if unicodedata.category(char) != "Cf")
