"""A search query's text, read as `websearch_to_tsquery` reads it (words, `"a phrase"`, `-word`,
`or`) plus prefixes (`prog*`), and written as a `to_tsquery` source whose operands are quoted.

PostgreSQL folds that source with `notes_fold` (migration 9), as it folds the notes: accents,
symbols, CJK bigrams (a quoted run of CJK characters becomes a phrase of its bigrams).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The CJK ranges of `notes_fold` (migration 9): Han, kana and Hangul.
_CJK = (
    "\u1100-\u11ff\u3005\u3007\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002ffff"
)
_ONE_CJK = re.compile(f"[{_CJK}]")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
# A fuzzy word: letters only (after stripping the punctuation around it), three or more.
_FUZZY_WORD = re.compile(r"[^\W\d_]{3,}")
_EDGES = re.compile(r"^\W+|\W+$")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
FUZZY_WORDS_MAX = 6


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    negated: bool = False
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class SearchText:
    """`tsquery`: the whole query; `exclude`: its excluded terms, OR'ed (None without any);
    `words`: the wanted words, for typo matching; `wanted`: those words as one text."""

    tsquery: str
    exclude: str | None
    words: tuple[str, ...]

    @property
    def wanted(self) -> str:
        return " ".join(self.words)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _operand(term: Term) -> str:
    suffix = ":*" if term.prefix else ""
    spelt = term.text.translate(_UMLAUTS)
    if spelt != term.text:  # Überweisung also as Ueberweisung, as the notes have both
        operand = f"({_quote(term.text)}{suffix} | {_quote(spelt)}{suffix})"
    else:
        operand = _quote(term.text) + suffix
    return ("!" if term.negated else "") + operand


def _terms(q: str) -> list[Term | None]:
    """The terms in order; None stands for an `or` between two terms."""
    terms: list[Term | None] = []
    for match in _TOKEN.finditer(q):
        dash, phrase, word = match.groups()
        if word is None:
            if phrase.strip():
                terms.append(Term(phrase.strip(), negated=bool(dash)))
            continue
        negated = word.startswith("-") and len(word) > 1
        word = word[1:] if negated else word
        if not negated and word.lower() == "or":
            terms.append(None)
            continue
        prefix = word.endswith("*") and len(word.rstrip("*")) > 0
        word = word.rstrip("*") if prefix else word
        # One CJK character is a prefix of the bigrams that start with it (and of the last
        # character of a run, which the document also keeps alone).
        prefix = prefix or (len(word) == 1 and bool(_ONE_CJK.match(word)))
        if word.strip("-"):
            terms.append(Term(word, negated=negated, prefix=prefix))
    return terms


def parse(q: str) -> SearchText:
    parts: list[str] = []
    pending_or = False
    excluded: list[str] = []
    words: list[str] = []
    for term in _terms(q):
        if term is None:
            pending_or = bool(parts)
            continue
        operand = _operand(term)
        if parts:
            parts.append("|" if pending_or else "&")
        parts.append(operand)
        pending_or = False
        if term.negated:
            excluded.append(_operand(Term(term.text, prefix=term.prefix)))
        else:
            for word in term.text.split():
                core = _EDGES.sub("", word)
                if _FUZZY_WORD.fullmatch(core) and not _ONE_CJK.search(core):
                    words.append(core)
    return SearchText(
        tsquery=" ".join(parts),
        exclude=" | ".join(excluded) or None,
        words=tuple(dict.fromkeys(words))[:FUZZY_WORDS_MAX],
    )
