"""Message-language detection for Welsh-medium policy checks (issue 5).

`classify(text)` labels a post `cy` (Welsh), `en` (English), `cy+en` (bilingual), `other` (another
language) or `unknown` (no language content). The pipeline:

1. strip social markup (URLs, @mentions, #hashtags, emoji, `RT`, `CY:`/`EN:` labels, codes, times);
2. split into segments on the separators bilingual accounts use (line breaks, ` / `, ` | `, `•`,
   dashes, runs of emoji such as the Welsh and Union flags, a trailing `( ... )`);
3. label each segment by combining py3langid (character n-grams, restricted to the languages we
   see) with a small word lexicon and Welsh spelling cues, which decide short texts that n-grams
   alone get wrong;
4. `cy+en` when a Welsh and an English segment both carry real weight, else the whole text's label.

`is_enquiry(text, label)` says whether a Welsh or English message asks something or requests help.
The detector is built once per process, lazily and under a lock, and is read-only afterwards, so
`classify` is safe to call from several threads.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

CY, EN, BILINGUAL, OTHER, UNKNOWN = "cy", "en", "cy+en", "other", "unknown"
LABELS: tuple[str, ...] = (CY, EN, BILINGUAL, OTHER, UNKNOWN)

# py3langid languages we let it choose from: Welsh, English, the Celtic languages it knows (it has no
# Cornish or Manx: cue words cover those), and common languages seen on university accounts.
LANGID_LANGUAGES: tuple[str, ...] = (
    "cy", "en", "ga", "gd", "br", "fr", "de", "es", "pl",
    "it", "nl", "pt", "eu", "mt", "cs", "tr", "sv", "da", "la",
)  # fmt: skip


@dataclass(frozen=True)
class Segment:
    text: str
    label: str
    confidence: float


@dataclass(frozen=True)
class Detection:
    label: str
    confidence: float
    segments: tuple[Segment, ...]


# --------------------------------------------------------------------------------------------
# Markup removal and segmentation
# --------------------------------------------------------------------------------------------

_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:uk|com|org|net|cymru|wales|io|ly|me|co|gov)\b\S*",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_MENTION = re.compile(r"(?<![\w@])@\w+")
_HASHTAG = re.compile(r"(?<![\w#])#\w*")
_RT = re.compile(r"(?<!\w)RT\b:?")
_SIDE_LABEL = re.compile(r"(?<!\w)(?:CY|EN|CYM|ENG)\s*:", re.IGNORECASE)
# UK postcodes, times, dates, money, codes mixing letters and digits (J12746KM, 3-2, 9am, 5*)
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
_TIME = re.compile(r"\b\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|yb|yh)\b", re.IGNORECASE)
_CODE = re.compile(r"\b(?=\w*\d)\w+\b")
_LAUGH = re.compile(r"^(?:(?:ha){2,}h?|(?:he){2,}|lol+|lmao+|x+|o+|a+h+|w+o+w+|o+m+g+)$", re.IGNORECASE)

# separators bilingual accounts put between the two halves of a post
_SEPARATORS = re.compile(r"\n|\r| / | \| |•|·| — | – | - |\u2028|\u2029")
_TRAILING_BRACKETS = re.compile(r"^(?P<main>.*\S)\s*\((?P<inner>[^()]{2,})\)\s*[.!?]?\s*$", re.DOTALL)
_SEGMENT_BREAK = "\n"

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _is_emoji_char(ch: str) -> bool:
    """Emoji, pictographs, flag parts (regional indicators, tag characters) and their joiners."""
    cp = ord(ch)
    if 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0xE0000 <= cp <= 0xE007F:
        return True
    if cp in (0x200D, 0xFE0F, 0xFE0E, 0x20E3, 0x2B50, 0x2B55, 0x2764, 0x3030, 0x303D):
        return True
    return unicodedata.category(ch) == "So"


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def _replace_emoji(text: str) -> str:
    """Turn each run of emoji into a segment break: the flags often separate the two halves."""
    if text.isascii():
        return text
    # only non-ASCII runs can hold emoji: look at those, character by character
    return _NON_ASCII_RUN.sub(lambda m: _replace_emoji_in_run(m.group()), text)


def _replace_emoji_in_run(text: str) -> str:
    out: list[str] = []
    in_run = False
    for ch in text:
        if _is_emoji_char(ch):
            if not in_run:
                out.append(_SEGMENT_BREAK)
            in_run = True
        else:
            out.append(ch)
            in_run = False
    return "".join(out)


def strip_markup(text: str) -> str:
    """Remove social-media markup; emoji runs become line breaks (segment boundaries)."""
    text = unicodedata.normalize("NFC", text)
    text = _URL.sub(" ", _EMAIL.sub(" ", text))
    text = _MENTION.sub(" ", text)
    text = _HASHTAG.sub(" ", text)
    text = _RT.sub(" ", text)
    text = _SIDE_LABEL.sub("\n", text)
    text = _replace_emoji(text)
    text = _POSTCODE.sub(" ", text)
    text = _TIME.sub(" ", text)
    text = _CODE.sub(" ", text)
    return text


def split_segments(text: str) -> list[str]:
    """Split cleaned text on bilingual separators and a trailing bracketed translation."""
    parts: list[str] = []
    for piece in _SEPARATORS.split(text):
        match = _TRAILING_BRACKETS.match(piece)
        if match and _letter_count(match["inner"]) >= 3:
            parts.extend((match["main"], match["inner"]))
        else:
            parts.append(piece)
    return [p.strip(" \t.,;:!?-–—\"'“”‘’()[]") for p in parts if _letter_count(p) > 0]


def _letter_count(text: str) -> int:
    return sum(map(str.isalpha, text))


# --------------------------------------------------------------------------------------------
# Lexicons and spelling cues
# --------------------------------------------------------------------------------------------

# Welsh/English homographs count for neither side
_NEUTRAL: frozenset[str] = frozenset(
    word
    for line in (
        "a i o y e am an as at is to man hi well can plant pan tan hen dan fan son top bar car bag",
        "stop gem pump tad mam data staff help be do no so me he we us on or in it",
    )
    for word in line.split()
)
# Welsh clitics after an apostrophe (mae'n, i'r, a'i, i'w) versus English ones (don't, I'm, it's)
_CY_CLITICS = frozenset({"n", "r", "i", "w", "ch", "th", "m", "u"})
_EN_CLITICS = frozenset({"s", "t", "re", "ve", "ll", "d", "m"})

_CY_SPELLING = re.compile(r"[ŵŷ]|dd|^ll|^rh|^ff|^ngh|^mh|^nh|wy|ae[^\W]|^cy|yw|au$|iad$|wyd$|ydd|wch$|aeth$")
# letters and digraphs native Welsh spelling does not use (gh only occurs as ngh in Welsh)
# (and: ao, which Welsh only writes across the -haol suffix; ui and ou, where Welsh writes wi and ow;
# Manx aa, -ey and initial lh; Irish eclipsis bhf gc dt bp mb at the start of a word; Cornish -ow, -yow;
# letters of other European alphabets that neither Welsh nor English writes: å ø ß ł ą ę š č ğ ş...)
_NOT_CY_SPELLING = re.compile(
    r"[kqvxzçñ]|dh|c'h|zh|ee|oo|(?<!n)gh|[àèìòùáéíóú]|[åøæœßłąęśźżćńřšžčěůğşıãõőű]"
    r"|bh|fh|sh|(?<!h)ao|ui|ou|aa|ey$|^lh"
    r"|^(?:bhf|gc|dt|bp|mb)|ow$"
)
# Irish and Gaelic initial mutations spelt as a prefix, which no other language writes: eclipsis or
# h-/t-prothesis before a capital ("i mBaile", "go hÉirinn", "an tUachtarán", "i bhFrainc") and the
# hyphenated prefixes of Gaelic and older Irish ("a h-uile", "an t-sìde", "na h-Alba", "ar n-athair")
_CELTIC_PREFIX = re.compile(
    r"(?<![\w'’-])(?:(?:bh|[bdghmnt])[A-ZÁÉÍÓÚÀÈÌÒÙ][a-záéíóúàèìòù]+(?![\w'’-])"
    r"|[hnt]-[aeiouáéíóúàèìòùAEIOUÁÉÍÓÚÀÈÌÒÙ]|t-s[aeiouáéíóúàèìòùlnr])"
)
# spellings that are not Welsh but are English too, so evidence against Welsh only: consonants Welsh
# never doubles (it writes dd ff ll nn rr, and th not tt) and words with no vowel at all (Welsh counts
# w and y as vowels: "mhmm", "hmm" are not Welsh words)
_NOT_CY_NOR_OTHER = re.compile(r"tt|ss|bb|pp|cc|gg|^[^aeiouwyâêîôûŵŷäëïöü]+$")


# scoring weights (tuned on one half of the dev documents, checked on the other half)
# a date with a 12-hour clock time ("05/22/2001 09:25 AM", how English mail and web pages stamp
# messages); a time alone ("10:30am") stays unknown
_TWELVE_HOUR = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4},?\s+\d{1,2}:\d{2}\s?(?:AM|PM|am|pm)\b")
_NGRAM_MAX = 2.0  # weight of py3langid's log-probability for texts of 60+ letters
_P_FLOOR = 1e-4  # floor under py3langid probabilities: it is overconfident on languages it lacks
_OTHER_WORD = 2.5  # weight of a Cornish/Manx/Irish/Gaelic/Breton cue word
_FOREIGN_PENALTY = 1.5  # Welsh score lost per word spelt the way Welsh is not (k, v, dh, ee...)


@dataclass(frozen=True)
class _Lexicon:
    cy: frozenset[str]
    en_top: frozenset[str]
    en: frozenset[str]
    other: dict[str, str]


def _read_words(name: str) -> list[str]:
    text = resources.files("monitor.data.lang").joinpath(name).read_text(encoding="utf-8")
    return [w for line in text.splitlines() if not line.startswith("#") for w in line.split()]


def _load_lexicon() -> _Lexicon:
    cy = frozenset(_read_words("cy_words.txt"))
    en_list = _read_words("en_words.txt")
    other: dict[str, str] = {}
    lang = ""
    for word in _read_words("other_words.txt"):
        if word.startswith("["):
            lang = word.strip("[]")
        elif word not in cy and word not in _NEUTRAL and word not in en_list[:300]:
            other[word] = lang
    return _Lexicon(cy=cy, en_top=frozenset(en_list[:3000]), en=frozenset(en_list), other=other)


@dataclass
class _Evidence:
    """Word-level evidence for one piece of text."""

    words: int = 0
    cy: float = 0.0
    en: float = 0.0
    other: float = 0.0
    other_langs: tuple[str, ...] = ()
    foreign_letters: float = 0.0


# --------------------------------------------------------------------------------------------
# The detector
# --------------------------------------------------------------------------------------------


class _Detector:
    def __init__(self) -> None:
        from monitor.langid_model import load_identifier

        # restricted to LANGID_LANGUAGES; read from an uncompressed on-disk cache after the first load
        self._langid: LanguageIdentifier = load_identifier(LANGID_LANGUAGES)
        self._lex = _load_lexicon()

    # -- public -------------------------------------------------------------------------------

    def classify(self, text: str) -> Detection:
        cleaned = strip_markup(text)
        if not self._has_language(cleaned):
            if _TWELVE_HOUR.search(text):  # Welsh writes yb / yh
                return Detection(EN, 0.6, ())
            return Detection(UNKNOWN, 1.0, ())
        segments = tuple(self._label_segment(s) for s in split_segments(cleaned))
        segments = tuple(s for s in segments if s.label != UNKNOWN)
        if not segments:
            return Detection(UNKNOWN, 0.9, ())
        if _is_bilingual(segments):
            conf = min(max(s.confidence for s in segments if s.label == lab) for lab in (CY, EN))
            return Detection(BILINGUAL, conf, segments)
        if len(segments) == 1:
            return Detection(segments[0].label, segments[0].confidence, segments)
        whole = self._label_segment(" ".join(s.text for s in segments))
        if whole.label == UNKNOWN:
            return Detection(UNKNOWN, whole.confidence, segments)
        return Detection(whole.label, whole.confidence, segments)

    # -- segments -----------------------------------------------------------------------------

    def _has_language(self, cleaned: str) -> bool:
        words = _WORD.findall(cleaned)
        if sum(len(w) for w in words) < 3:
            return False
        return not all(_LAUGH.match(w) for w in words)

    def _label_segment(self, text: str) -> Segment:
        words = _WORD.findall(text)
        letters = sum(len(w) for w in words)
        if letters < 2 or all(_LAUGH.match(w) for w in words):
            return Segment(text, UNKNOWN, 0.5)
        ev = self._evidence(words)
        _add_celtic_prefixes(text, ev)
        probs = self._langid_probs(_mask_names(text, words, self._lex))
        label, conf = self._decide(ev, probs, letters)
        if label == EN and _has_welsh_core(ev):
            # code-switched Welsh ("mae o yn short and sweet") is Welsh with English words, never English
            label = CY
        if label == CY and _celtic_not_welsh(ev):
            # py3langid reads Manx, Cornish and Breton as Welsh (it has no gv or kw): cue words decide
            label = OTHER
        if label != UNKNOWN and _looks_like_name(words, ev, conf):
            return Segment(text, UNKNOWN, 0.5)
        return Segment(text, label, round(conf, 3))

    def _langid_probs(self, text: str) -> dict[str, float]:
        return dict(self._langid.rank(text))

    def _evidence(self, words: list[str]) -> _Evidence:
        ev = _Evidence(words=len(words))
        other_langs: list[str] = []
        title_case = all(w[0].isupper() for w in words if len(w) >= 3)
        for i, raw in enumerate(words):
            word = raw.lower().replace("’", "'")
            # a capitalised word inside a sentence is likely a name: little language evidence
            is_name = i > 0 and not title_case and raw[0].isupper() and not raw.isupper()
            self._score_word(word, 0.35 if is_name else 1.0, ev, other_langs)
        ev.other_langs = tuple(other_langs)
        return ev

    def _score_word(self, word: str, weight: float, ev: _Evidence, other_langs: list[str]) -> None:
        lex = self._lex
        if word in lex.other:
            ev.other += weight
            other_langs.append(lex.other[word])
            if _NOT_CY_SPELLING.search(word):
                ev.foreign_letters += weight
        elif word in lex.cy:
            ev.cy += weight
        elif word in lex.en:
            ev.en += weight * (1.0 if word in lex.en_top else 0.8)
        elif "'" in word:
            self._score_clitic(word, weight, ev, other_langs)
        elif len(word) >= 3 and word not in _NEUTRAL:
            self._score_spelling(word, weight, ev)

    def _score_clitic(self, word: str, weight: float, ev: _Evidence, other_langs: list[str]) -> None:
        stem, _, clitic = word.partition("'")
        if clitic in ("t", "re", "ve", "ll") or (clitic in _EN_CLITICS and stem in self._lex.en):
            ev.en += weight
        elif stem in self._lex.other and stem not in self._lex.cy:
            # a Cornish, Manx or Breton word before a clitic ("ta'n" Manx, "d'ar" Breton)
            ev.other += weight
            other_langs.append(self._lex.other[stem])
        elif _NOT_CY_SPELLING.search(stem) or _NOT_CY_NOR_OTHER.search(stem):
            # "veih'n" is Manx, not Welsh: a Welsh clitic after a stem Welsh would not spell
            ev.foreign_letters += weight
            ev.other += 0.5 * weight
        elif clitic in _CY_CLITICS or stem in self._lex.cy:
            ev.cy += weight * 0.8

    @staticmethod
    def _score_spelling(word: str, weight: float, ev: _Evidence) -> None:
        """An unlisted word: Welsh-looking spelling is weak Welsh evidence; letters and digraphs Welsh
        does not use (k, v, z, dh, ee, oo, gh...) are weak evidence of another language."""
        if _NOT_CY_SPELLING.search(word):
            ev.foreign_letters += weight
            ev.other += 0.5 * weight
        elif _NOT_CY_NOR_OTHER.search(word):
            ev.foreign_letters += weight
        elif _CY_SPELLING.search(word):
            ev.cy += 0.4 * weight

    def _decide(self, ev: _Evidence, probs: dict[str, float], letters: int) -> tuple[str, float]:
        p_cy, p_en = probs.get(CY, 0.0), probs.get(EN, 0.0)
        p_other = max(v for k, v in probs.items() if k not in (CY, EN))
        # n-gram evidence grows with length; lexicon evidence dominates short texts
        ngram_weight = min(1.0, letters / 60.0) * _NGRAM_MAX + 0.6
        # posts are overwhelmingly Welsh or English: another language needs more than a short text gives
        other_prior = -1.5 * max(0.0, 1.0 - letters / 40.0)
        scores = {
            CY: ngram_weight * math.log(p_cy + _P_FLOOR)
            + 1.6 * ev.cy
            - _FOREIGN_PENALTY * ev.foreign_letters,
            EN: ngram_weight * math.log(p_en + _P_FLOOR) + 1.6 * ev.en,
            OTHER: ngram_weight * math.log(p_other + _P_FLOOR) + _OTHER_WORD * ev.other + other_prior,
        }
        label = max(scores, key=lambda k: scores[k])
        ordered = sorted(scores.values(), reverse=True)
        margin = ordered[0] - ordered[1]
        conf = 1.0 / (1.0 + math.exp(-margin))
        if ev.cy + ev.en + ev.other == 0 and letters < 4 and margin < 2:
            return UNKNOWN, 0.5
        return label, conf


def _add_celtic_prefixes(text: str, ev: _Evidence) -> None:
    """Irish and Gaelic mutation prefixes ("i mBaile", "a h-uile") are cue words of those languages."""
    if "-" not in text and text.islower():
        return
    for _ in _CELTIC_PREFIX.finditer(text):
        ev.other += 1.0
        ev.foreign_letters += 1.0
        ev.other_langs += ("ga",)


def _mask_names(text: str, words: list[str], lex: _Lexicon) -> str:
    """Drop capitalised non-initial words from the n-gram input when the text has lower-case words:
    Welsh place names in English prose (Llanfairpwllgwyngyll, Betws-y-Coed) otherwise pull it to cy."""
    if not any(w.islower() and len(w) >= 3 for w in words[1:]):
        return text
    keep: list[str] = []
    for i, token in enumerate(text.split()):
        core = token.strip("\"'“”‘’()[],.;:!?")
        if i > 0 and core[:1].isupper() and core.lower() not in lex.en and core.lower() not in lex.cy:
            continue
        keep.append(token)
    return " ".join(keep) or text


def _looks_like_name(words: list[str], ev: _Evidence, confidence: float) -> bool:
    """Two or three capitalised words no lexicon knows, weakly labelled: a person, place or brand."""
    if not 2 <= len(words) <= 3 or ev.cy + ev.en + ev.other > 0 or confidence > 0.9:
        return False
    return all(w[0].isupper() for w in words)


CELTIC = frozenset({"kw", "gv", "ga", "gd", "br"})


def _celtic_not_welsh(ev: _Evidence) -> bool:
    """Text read as Welsh that is another Celtic language: at least as many words spelt the way Welsh
    never is as Welsh words; or cue words of Cornish, Manx, Irish, Gaelic or Breton and little Welsh
    (with no Welsh word one cue word is enough, otherwise two, at least half the Welsh evidence)."""
    if ev.foreign_letters >= 2 and ev.foreign_letters >= ev.cy:
        return True  # as many words spelt the way Welsh never is (gh, ee, k, v...) as Welsh words
    celtic = sum(1 for lang in ev.other_langs if lang in CELTIC)
    if celtic == 0:
        return False
    return ev.cy == 0 or (celtic >= 2 and celtic >= 0.5 * ev.cy)


def _has_welsh_core(ev: _Evidence) -> bool:
    """At least two Welsh words making a quarter or more of the words either lexicon knows."""
    return ev.cy >= 2.0 and ev.cy >= 0.25 * (ev.cy + ev.en)


def _is_bilingual(segments: tuple[Segment, ...]) -> bool:
    weight = {CY: 0, EN: 0}
    for seg in segments:
        if seg.label in weight and seg.confidence >= 0.6:
            weight[seg.label] += _letter_count(seg.text)
    low, high = sorted(weight.values())
    return low >= 3 and low >= 0.2 * high


# --------------------------------------------------------------------------------------------
# Module API
# --------------------------------------------------------------------------------------------

_detector: _Detector | None = None
_detector_lock = threading.Lock()


def get_detector() -> _Detector:
    """The process-wide detector, built on first use (double-checked under a lock)."""
    global _detector
    if _detector is None:
        with _detector_lock:
            if _detector is None:
                _detector = _Detector()
    return _detector


def classify(text: str) -> Detection:
    """Label `text` as one of LABELS, with a confidence in [0, 1] and the labelled segments."""
    return get_detector().classify(text)


# --------------------------------------------------------------------------------------------
# Enquiries
# --------------------------------------------------------------------------------------------

# Welsh question words and request forms at the start of a sentence. "Oes"/"Ydy" alone or followed by a
# comma are answers ("Oes, mae lle"), and "Beth bynnag" means "whatever".
_CY_ENQUIRY_START = re.compile(
    r"^(?:sut|pryd|ble|beth(?! bynnag)|be|pam|paham|faint|pwy(?! bynnag)|pa(?! bynnag)\b|"
    r"lle (?:mae|ydy|ydi|dw|ga)|a oes|oes(?=\s+[^\s,.!])|yd[yi](?:['’]r|(?=\s+[^\s,.!]))|"
    r"ydych chi|ydach chi|wyt ti|ydw i|oeddech chi|"
    r"a (?:yw|ydy|ydych|ydi|fydd|fyddwch|fyddech|allwch|allech|alla i|allaf|gaf|ga i|oedd|wnewch|wnaiff)|"
    r"allwch|allech|alla i|fedrwch|fedrech|fedra i|gallwch|gallech|ga i|gaf i|cha i|ca i|fyddech chi|fydd|"
    r"wnewch chi|wnei di|oes modd|hoffwn|hoffen|hoffem|dw i angen|dwi angen|rwy angen|rwyf angen|"
    r"rydw i angen|rydyn ni angen|mae angen help|dw i isio|dwi isio|helpwch|plis|unrhyw syniad|"
    r"oes gan unrhyw un|oes rhywun)\b",
    re.IGNORECASE,
)
_CY_ENQUIRY_ANYWHERE = re.compile(
    r"\b(?:os gwelwch yn dda|os gweli di['’]n dda|oes modd|plis|plîs|unrhyw syniad|rhowch wybod|"
    r"gadewch i ni wybod|a oes modd|tybed a|tybed os|dw i angen help|angen help|angen cymorth)\b",
    re.IGNORECASE,
)
_EN_ENQUIRY_START = re.compile(
    r"^(?:how (?:do|does|did|can|could|should|would|will|is|are|was|were|much|many|long|often|soon|to)|"
    r"when (?:is|are|does|do|will|can|should|did|was|were|would)|"
    r"where (?:is|are|do|does|can|should|did|will|was|would)|"
    r"what (?:is|are|time|does|do|should|can|will|was|were|would|happens|about|if|day|date)|"
    r"why (?:is|are|do|does|did|can|would|has|have|isn['’]t|don['’]t|doesn['’]t|can['’]t|won['’]t)|"
    r"who (?:is|are|do|can|should|will|was|would)|which (?:is|are|one|day|room|building)|"
    r"can (?:i|you|we|someone|anyone|they)|could (?:i|you|we|someone|anyone)|would (?:you|it|i)|"
    r"will (?:you|there|it|i)|may i|is (?:there|it|this|the|anyone)|are (?:there|you|we|the)|"
    r"do (?:you|i|we|they)|does (?:anyone|anybody|the|it|this)|did (?:you|anyone|i)|have (?:you|i)|"
    r"has (?:anyone|anybody)|anyone know|any (?:idea|news|update)s?|i need|we need|i['’]d like|"
    r"i would like|i['’]m looking for|i am looking for|please)\b",
    re.IGNORECASE,
)
_EN_ENQUIRY_ANYWHERE = re.compile(
    r"\b(?:please|pls|plz|any idea|anyone know|does anyone know|i was wondering|wondering if|let me know|"
    r"let us know|can you help|could you help|i need help|need some help|is it possible)\b",
    re.IGNORECASE,
)
# greetings and fillers that may open an enquiry ("Helo, oes modd...", "Hi there, can I...")
_OPENER = re.compile(
    r"^(?:(?:hi|hiya|hello|hey|helo|haia|shwmae|sumae|bore da|prynhawn da|noswaith dda|dear \w+|annwyl \w+|"
    r"s['’]mae|excuse me|esgusodwch fi|sorry|sori|um|er|ok|okay|iawn)\b[\s,!.:-]*)+",
    re.IGNORECASE,
)
_SENTENCE_SPLIT = re.compile(r"[.!?\n;]+")


def is_enquiry(text: str, label: str) -> bool:
    """True when a Welsh or English message asks a question or requests something.

    A question mark is enough; otherwise a sentence must open with an interrogative or request form
    of the message's language (both for `cy+en`), or use a polite request phrase anywhere.
    """
    cleaned = _MENTION.sub(" ", _URL.sub(" ", _HASHTAG.sub(" ", text)))
    if "?" in cleaned or "？" in cleaned:
        return True
    languages = {CY: (CY,), EN: (EN,), BILINGUAL: (CY, EN)}.get(label, ())
    starts = [_CY_ENQUIRY_START if lang == CY else _EN_ENQUIRY_START for lang in languages]
    anywhere = [_CY_ENQUIRY_ANYWHERE if lang == CY else _EN_ENQUIRY_ANYWHERE for lang in languages]
    if any(p.search(cleaned) for p in anywhere):
        return True
    for sentence in _SENTENCE_SPLIT.split(cleaned):
        sentence = _OPENER.sub("", sentence.strip(" \t\"'“”‘’()-–—•|/"))
        if sentence and any(p.match(sentence) for p in starts):
            return True
    return False
