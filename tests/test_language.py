"""Tests for the Welsh/English language detector, `is_enquiry` and `socialmon detect-language`."""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli.language_cmd import detect_language
from monitor.language import (
    _CELTIC_PREFIX,
    _NOT_CY_SPELLING,
    LABELS,
    Detection,
    classify,
    get_detector,
    is_enquiry,
)

FIXTURE = Path(__file__).parent / "fixtures" / "langid" / "dev_sample.jsonl"
FLAG_CY = "🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f"
FLAG_GB = "🇬🇧"


# ---------------------------------------------------------------------------------------------
# Regression floors on the dev sample (tests/fixtures/langid, see its README for provenance)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored() -> list[tuple[dict[str, Any], str]]:
    items = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    return [(item, classify(item["text"]).label) for item in items]


def _accuracy(scored: list[tuple[dict[str, Any], str]], label: str, bucket: str | None = None) -> float:
    hits = [
        pred == label for item, pred in scored if item["label"] == label and bucket in (None, item["bucket"])
    ]
    return sum(hits) / len(hits)


def _rate(scored: list[tuple[dict[str, Any], str]], gold: str, predicted: set[str]) -> float:
    preds = [pred for item, pred in scored if item["label"] == gold]
    return sum(p in predicted for p in preds) / len(preds)


def test_fixture_is_a_few_hundred_items(scored: list[tuple[dict[str, Any], str]]) -> None:
    assert len(scored) >= 300
    assert {item["label"] for item, _ in scored} == set(LABELS)


@pytest.mark.parametrize(
    ("label", "bucket", "floor"),
    [
        ("cy", None, 0.99),
        ("cy", "<=20", 0.96),
        ("cy", "21-40", 0.98),
        ("en", None, 0.97),
        ("en", "<=20", 0.90),
        ("en", "21-40", 0.93),
        ("en", "41-100", 0.98),
        ("other", None, 0.90),
        ("unknown", None, 0.97),
    ],
)
def test_accuracy_floors(
    scored: list[tuple[dict[str, Any], str]], label: str, bucket: str | None, floor: float
) -> None:
    assert _accuracy(scored, label, bucket) >= floor


def test_welsh_over_40_chars(scored: list[tuple[dict[str, Any], str]]) -> None:
    long_cy = [pred == "cy" for item, pred in scored if item["label"] == "cy" and len(item["text"]) > 40]
    assert sum(long_cy) / len(long_cy) >= 0.995


def test_cross_language_error_ceilings(scored: list[tuple[dict[str, Any], str]]) -> None:
    assert _rate(scored, "en", {"cy"}) <= 0.01
    assert _rate(scored, "en", {"cy", "cy+en"}) <= 0.015
    assert _rate(scored, "cy", {"en"}) <= 0.005


def test_bilingual_floors(scored: list[tuple[dict[str, Any], str]]) -> None:
    pairs = [(item["label"], pred) for item, pred in scored if item.get("kind") != "codeswitch"]
    tp = sum(g == "cy+en" and p == "cy+en" for g, p in pairs)
    fp = sum(g != "cy+en" and p == "cy+en" for g, p in pairs)
    fn = sum(g == "cy+en" and p != "cy+en" for g, p in pairs)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.98
    assert 2 * precision * recall / (precision + recall) >= 0.95
    posted = [pred == "cy+en" for item, pred in scored if item["kind"].startswith("pair")]
    assert sum(posted) / len(posted) >= 0.95


def test_code_switched_welsh_is_never_english(scored: list[tuple[dict[str, Any], str]]) -> None:
    by_label: dict[str, int] = defaultdict(int)
    for item, pred in scored:
        if item["kind"] in ("codeswitch", "spoken-welsh-with-english-words"):
            by_label[pred] += 1
    assert by_label["en"] <= 1


# ---------------------------------------------------------------------------------------------
# Hand cases
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Great day in Llanfairpwllgwyngyll and Betws-y-Coed!", "en"),
        ("The Senedd will debate this petition", "en"),
        ("Congratulations to all our graduates from Prifysgol Bangor", "en"),
        ("Bore da!", "cy"),
        ("Good morning!", "en"),
        ("Diolch yn fawr!", "cy"),
        ("Thank you so much!", "en"),
        ("Croeso i Fangor", "cy"),  # soft mutation of Bangor
        ("Llongyfarchiadau i’n myfyrwyr", "cy"),
        ("Mae'n ddiwrnod braf yng Nghaerdydd", "cy"),  # nasal mutation
        ("Dewch i'n gweld ni yn y Steddfod", "cy"),
        ("Nôl / Back", "cy+en"),
        ("Oes — Yes", "cy+en"),
        ("Diolch — Thanks", "cy+en"),
        (f"{FLAG_CY} Croeso i'r Diwrnod Agored {FLAG_GB} Welcome to the Open Day", "cy+en"),
        (f"{FLAG_CY} Newyddion {FLAG_GB} News", "cy+en"),
        ("CY: Mae'r llyfrgell ar gau heddiw\nEN: The library is closed today", "cy+en"),
        ("Mae'r cais ar agor nawr (Applications are now open)", "cy+en"),
        ("Cofrestrwch heddiw | Register today #DiwrnodAgored", "cy+en"),
        ("mae o yn short and sweet", "cy"),
        ("oedd y boy yma just wedi sort of sgipio", "cy"),
        ("🎓🎉", "unknown"),
        ("https://www.bangor.ac.uk/news", "unknown"),
        ("@BangorUni @prifysgolbangor", "unknown"),
        ("#Graddio2024 #Graduation2024", "unknown"),
        ("LL57 2DG", "unknown"),
        ("10:30am", "unknown"),
        ("01248 351151", "unknown"),
        ("haha", "unknown"),
        ("RT @BangorUni", "unknown"),
        ("", "unknown"),
        ("Re hir yw an hanow devnydhyer ma.", "other"),  # Cornish
        ("Dynnargh dhe Gernow, ni a wra agas gweres.", "other"),  # Cornish
        ("Ta mish as Roxy geaishtagh riu ayns y gharey.", "other"),  # Manx
        ("Tá an aimsir go hálainn inniu agus tá mé sásta.", "other"),  # Irish
        ("Tha mi a' dol dhan bhùth an-diugh.", "other"),  # Scottish Gaelic
        ("C'est une belle journée à Bangor.", "other"),
        # read as Welsh by n-grams; spelling (gh, ee) or one cue word with no Welsh word decides
        ("Ta mee goll dys y thie nish", "other"),  # Manx
        ("My a vynn mos dhe'n dre hedhyw", "other"),  # Cornish
        ("Emañ ar gazh war an daol", "other"),  # Breton
        ("05/22/2001 09:25 AM", "en"),  # a 12-hour clock with a date: Welsh writes yb / yh
        ("Agorwch y drws", "cy"),
        # Welsh words also in English word lists ("de": south; the northern tag for "ynte")
        ("Mae hi'n byw yn y de", "cy"),
        ("stress o de", "cy"),
        # a Welsh-looking clitic after a stem Welsh would not spell ("veih'n" is Manx)
        ("y thie veih'n dy", "other"),
        ("Dilynwch ni ar Instagram", "cy"),
    ],
)
def test_hand_cases(text: str, label: str) -> None:
    assert classify(text).label == label


@pytest.mark.parametrize("text", ["Mhmm", "Rhys Bassett", "Michaela Pritchett"])
def test_spellings_welsh_never_uses_are_not_welsh(text: str) -> None:
    # no vowel at all (Welsh counts w and y as vowels); consonants Welsh never doubles (tt, ss)
    assert classify(text).label != "cy"


# ---------------------------------------------------------------------------------------------
# Issue 14, third round: orthography and function words of the other Celtic languages
# (examples written for these tests from the languages' grammars, not taken from the dev set)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "i mBaile",
        "go hÉirinn",
        "an tUachtarán",
        "i bhFrainc",
        "i gCorcaigh",
        "ár bPobal",
        "i dTrá Lí",
        "a h-uile duine",
        "an t-sìde",
        "na h-Alba",
        "ar n-athair",
        "an t-seachdain",
    ],
)
def test_irish_and_gaelic_mutation_prefixes(text: str) -> None:
    assert _CELTIC_PREFIX.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "e-bost",
        "T-shirt",
        "t-shirt",
        "iPhone",
        "eBay",
        "McDonald",
        "yng Nghymru",
        "ym Mangor",
        "ei hathro",
        "mRNA",
        "Caerdydd",
        "dQw4w9WgXcQ",
    ],
)
def test_welsh_and_english_spellings_are_not_mutation_prefixes(text: str) -> None:
    assert not _CELTIC_PREFIX.search(text)


@pytest.mark.parametrize(
    "word",
    [
        "saor",
        "caol",
        "tuilleadh",
        "cuir",
        "gouzout",
        "dour",
        "baatey",
        "Gaelgey",
        "lhiat",
        "mbliana",
        "gcuid",
        "dtús",
        "bhfuil",
        "settyansow",
        "dewisyow",
        "smørbrød",
        "straße",
        "łódź",
        "teşekkür",
    ],
)
def test_spellings_welsh_never_uses(word: str) -> None:
    assert _NOT_CY_SPELLING.search(word.lower())


@pytest.mark.parametrize(
    "word",
    [
        "cadarnhaol",
        "deall",
        "dechreuodd",
        "ieuenctid",
        "rhowch",
        "Ioan",
        "tywydd",
        "mwynhau",
        "bowlen",
        "llongyfarchiadau",
        "cymraeg",
        "ymgeiswyr",
        "gwybodaeth",
    ],
)
def test_welsh_words_are_not_flagged_by_the_non_welsh_spellings(word: str) -> None:
    assert not _NOT_CY_SPELLING.search(word.lower())


def test_no_welsh_lexicon_word_has_a_non_welsh_spelling() -> None:
    welsh = get_detector()._lex.cy
    # "shwmae" and "isho" are the colloquial Welsh exceptions to "sh", which predate these rules
    assert sorted(w for w in welsh if _NOT_CY_SPELLING.search(w)) == ["isho", "shwmae"]


@pytest.mark.parametrize(
    "text",
    [
        # Irish: the mutation prefix or a function word decides short lines
        "Ceolchoirm mhor i nGaillimh",
        "Chuaigh siad abhaile",
        "Rinne sé a dhícheall",
        "Fuair mé ríomhphost",
        # Scottish Gaelic
        "Tha sinn gu math",
        "a h-uile latha",
        "Chaidh iad dhachaigh",
        "Ceart gu leor",
        # Manx ("ta'n": a Manx verb before the clitic, not Welsh "mae'n")
        "Moghrey mie",
        "Fastyr mie",
        "Slane lhiat",
        "Ta'n laa braew",
        "Traa dy liooar",
        "Vel oo goll magh?",
        # Breton
        "Kenavo!",
        "Degemer mat",
        "Trugarez deoc'h",
        "Petra eo da anv?",
        # Cornish
        "Nadelik lowen",
        "Bledhen nowydh da",
        "Fatla genes?",
        "Prag na?",
        # other European languages: letters neither Welsh nor English writes
        "Dziękuję bardzo",
        "Tack så mycket",
        "Teşekkürler",
    ],
)
def test_short_celtic_and_european_lines_are_other(text: str) -> None:
    assert classify(text).label == "other"


@pytest.mark.parametrize(
    "text",
    ["Ceol i nGaillimh", "Ar an mbus", "Lhiam lhiat", "Oie vie", "Taing mhor", "Gu math", "Saor in aisce"],
)
def test_celtic_spelling_and_function_words_decide_with_confidence(text: str) -> None:
    # eclipsis (nG, mb), Manx lh and ie, Gaelic gu and taing: no longer a near thing with Welsh or English
    detection = classify(text)
    assert detection.label == "other"
    assert detection.confidence >= 0.9


@pytest.mark.parametrize(
    "text",
    [
        "Dyddiad annilys",
        "Tocynnau ar werth nawr",
        "Canlyniadau'r arholiadau",
        "Llety i fyfyrwyr",
        "Cyngerdd heno!",
        "Tywydd oer heddiw",
        "Gêm fawr heddiw",
        "Efallai fory",
        "Ffioedd dysgu",
        "Agwedd gadarnhaol",  # -haol: Welsh writes "ao" only across this suffix
        "Dechreuodd y tymor",
        "Rhowch wybod",
        "Ioan a Huw",
        "Dewis iaith",  # "dewis" is Cornish too, and Welsh
        "Ci ar goll",  # "goll" (lost) is Welsh; Manx "goll" (going) is no cue word
    ],
)
def test_short_welsh_stays_welsh(text: str) -> None:
    assert classify(text).label == "cy"


@pytest.mark.parametrize(
    "text",
    [
        "Flights to Moscow",
        "Glasgow here we come",
        "Guinness time",
        "Happy NY!",
        "War memorial",
        "Follow us",
        "Bailey and Harvey",
        "Snow day!",
    ],
)
def test_short_english_with_celtic_looking_spellings_stays_english(text: str) -> None:
    assert classify(text).label == "en"


def test_code_switched_welsh_never_english() -> None:
    for text in (
        "you know dyw e ddim yn dda iawn really",
        "dw i talu hundred and eighty rywbeth",
        "yeah ond ti ddim yn meddwl bod yna kind of barrier",
    ):
        assert classify(text).label in ("cy", "cy+en"), text


def test_detection_shape() -> None:
    detection = classify(f"{FLAG_CY} Adborth {FLAG_GB} Feedback")
    assert isinstance(detection, Detection)
    assert detection.label in LABELS
    assert 0.0 <= detection.confidence <= 1.0
    assert [s.label for s in detection.segments] == ["cy", "en"]
    with pytest.raises(AttributeError):
        detection.label = "en"  # type: ignore[misc]


def test_classify_is_thread_safe() -> None:
    texts = [
        "Bore da!",
        "Good morning!",
        "Nôl / Back",
        "🎓",
        "Ta mish as Roxy geaishtagh riu ayns y gharey.",
    ] * 40
    expected = [classify(t).label for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(lambda t: classify(t).label, texts)) == expected


# ---------------------------------------------------------------------------------------------
# is_enquiry
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        ("Sut mae cofrestru ar gyfer y diwrnod agored", "cy", True),
        ("Pryd mae'r llyfrgell ar agor dros y Pasg", "cy", True),
        ("Ble mae'r swyddfa dderbyn", "cy", True),
        ("Faint yw'r ffioedd dysgu", "cy", True),
        ("Oes modd cael copi o'r sleidiau", "cy", True),
        ("Helo, allwch chi anfon y ddolen eto", "cy", True),
        ("Ga i ofyn am estyniad", "cy", True),
        ("Ydy’r llyfrgell ar agor heno", "cy", True),
        ("A oes parcio ar y campws", "cy", True),
        ("Hoffwn wybod mwy am y cwrs", "cy", True),
        ("Dw i angen help gyda fy nghais", "cy", True),
        ("Oes lle ar ôl ar y daith?", "cy", True),
        ("Diolch!", "cy", False),
        ("Diolch yn fawr am ddiwrnod gwych", "cy", False),
        ("Oes, mae lle ar ôl", "cy", False),
        ("Llongyfarchiadau i bawb a raddiodd heddiw", "cy", False),
        ("How do I apply for accommodation", "en", True),
        ("When is the open day", "en", True),
        ("Where can I park", "en", True),
        ("Could you send me the link please", "en", True),
        ("Is there a bus from the station", "en", True),
        ("Do you have any places left", "en", True),
        ("I need help with my application", "en", True),
        ("Hi, can I still register for Saturday", "en", True),
        ("Thanks, great event", "en", False),
        ("What a great day", "en", False),
        ("When I arrived the hall was full", "en", False),
        ("Congratulations to all our graduates! https://bangor.ac.uk/?id=1", "en", False),
        ("Pryd mae'r cyfarfod / When is the meeting", "cy+en", True),
    ],
)
def test_is_enquiry(text: str, label: str, expected: bool) -> None:
    assert is_enquiry(text, label) is expected


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def test_cli_plain() -> None:
    result = CliRunner().invoke(detect_language, [], input="Bore da!\nGood morning!\nNôl / Back\n🎓\n")
    assert result.exit_code == 0
    assert result.output.splitlines() == ["cy", "en", "cy+en", "unknown"]


def test_cli_json_echoes_ids_in_order() -> None:
    lines = [
        json.dumps({"id": "a1", "text": "Diolch yn fawr iawn"}),
        json.dumps({"text": "Thank you very much"}),
        "plain text line in English",
    ]
    result = CliRunner().invoke(detect_language, ["--json", "--segments"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0
    answers = [json.loads(line) for line in result.output.splitlines()]
    assert [a.get("id") for a in answers] == ["a1", None, None]
    assert [a["label"] for a in answers] == ["cy", "en", "en"]
    assert all(0.0 <= a["confidence"] <= 1.0 and "segments" in a for a in answers)


def test_cli_bad_lines_get_errors_not_a_crash() -> None:
    payload = b'{"id": 1}\n\xff\xfe broken\n{"text": 5}\nBore da\n'
    result = CliRunner().invoke(detect_language, ["--json"], input=payload)
    assert result.exit_code == 0
    answers = [json.loads(line) for line in result.output.splitlines()]
    assert answers[0]["line"] == 1 and "text" in answers[0]["error"]
    assert answers[1]["line"] == 2 and "UTF-8" in answers[1]["error"]
    assert answers[2]["line"] == 3 and "error" in answers[2]
    assert answers[3] == {"label": "cy", "confidence": answers[3]["confidence"]}

    plain = CliRunner().invoke(detect_language, [], input=b'{"id": 1}\nBore da\n')
    assert plain.exit_code == 0
    assert plain.output.splitlines() == ["error: line 1: JSON object without a string `text` field", "cy"]
