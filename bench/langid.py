"""Benchmark the language detector on a labelled JSON Lines file.

    python bench/langid.py PATH.jsonl [--via-cli] [--docs even|odd] [--errors N]

Each line: {"id", "text", "label", "kind"?, "doc"?, "lang"?}. Prints accuracy per label and per length
bucket, the cross-language error rates the acceptance criteria name, bilingual precision/recall/F1
(with and without `kind: codeswitch` items), throughput, detector load time and peak RSS.
`--via-cli` runs the texts through `socialmon detect-language --json` as acceptance does.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

BUCKETS: tuple[tuple[str, int], ...] = (("<=20", 20), ("21-40", 40), ("41-100", 100), ("101-280", 280))
LABEL_ORDER: tuple[str, ...] = ("cy", "en", "cy+en", "other", "unknown")


def bucket(text: str) -> str:
    for name, upper in BUCKETS:
        if len(text) <= upper:
            return name
    return ">280"


def load_items(path: Path, docs: str | None) -> list[dict[str, Any]]:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if docs:
        # a stable split by source document, so texts of one document never sit on both sides
        parity = 0 if docs == "even" else 1
        items = [it for it in items if zlib.crc32(str(it.get("doc", it["id"])).encode()) % 2 == parity]
    return items


def predict_in_process(texts: list[str]) -> tuple[list[str], float, float]:
    """Labels, detector load seconds, and classification seconds."""
    start = time.perf_counter()
    from monitor.language import classify, get_detector

    get_detector()
    load = time.perf_counter() - start
    start = time.perf_counter()
    labels = [classify(t).label for t in texts]
    return labels, load, time.perf_counter() - start


def predict_via_cli(texts: list[str]) -> tuple[list[str], float, float]:
    """Labels from `socialmon detect-language --json`; load time is a run on one line."""

    def run(lines: list[str]) -> tuple[list[dict[str, Any]], float]:
        payload = "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(lines))
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "monitor.cli.main", "detect-language", "--json"],
            input=payload.encode(),
            capture_output=True,
            check=True,
        )
        elapsed = time.perf_counter() - start
        return [json.loads(line) for line in proc.stdout.decode().splitlines()], elapsed

    _, load = run(["warm up"])
    answers, elapsed = run(texts)
    return [a.get("label", "error") for a in answers], load, elapsed


def rate(num: int, den: int) -> str:
    return f"{num / den:.4f} ({num}/{den})" if den else "n/a"


def report(items: list[dict[str, Any]], preds: list[str]) -> None:
    per_label: dict[str, list[bool]] = defaultdict(list)
    per_bucket: dict[tuple[str, str], list[bool]] = defaultdict(list)
    confusion: Counter[tuple[str, str]] = Counter()
    for item, pred in zip(items, preds, strict=True):
        gold = item["label"]
        per_label[gold].append(pred == gold)
        per_bucket[(gold, bucket(item["text"]))].append(pred == gold)
        confusion[(gold, pred)] += 1

    print("accuracy per label and length bucket")
    names = [b for b, _ in BUCKETS] + [">280"]
    print(f"  {'label':8} {'all':>16} " + " ".join(f"{b:>14}" for b in names))
    for label in LABEL_ORDER:
        hits = per_label.get(label, [])
        cells = [rate(sum(per_bucket[(label, b)]), len(per_bucket[(label, b)])) for b in names]
        print(f"  {label:8} {rate(sum(hits), len(hits)):>16} " + " ".join(f"{c:>14}" for c in cells))

    n_en, n_cy = len(per_label["en"]), len(per_label["cy"])
    print("cross-language errors")
    print("  English called Welsh:             ", rate(confusion[("en", "cy")], n_en))
    print(
        "  English called Welsh or bilingual:",
        rate(confusion[("en", "cy")] + confusion[("en", "cy+en")], n_en),
    )
    print("  Welsh called English:             ", rate(confusion[("cy", "en")], n_cy))

    print("bilingual")
    for name, keep in (
        ("all", lambda it: True),
        ("without codeswitch", lambda it: it.get("kind") != "codeswitch"),
    ):
        pairs = [(it["label"], p) for it, p in zip(items, preds, strict=True) if keep(it)]
        tp = sum(g == "cy+en" and p == "cy+en" for g, p in pairs)
        fp = sum(g != "cy+en" and p == "cy+en" for g, p in pairs)
        fn = sum(g == "cy+en" and p != "cy+en" for g, p in pairs)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        print(f"  {name:20} precision {prec:.4f}  recall {rec:.4f}  F1 {f1:.4f}")
    posted = [
        p == "cy+en" for it, p in zip(items, preds, strict=True) if str(it.get("kind", "")).startswith("pair")
    ]
    print("  recall on posted pairs:", rate(sum(posted), len(posted)))
    codesw = Counter(p for it, p in zip(items, preds, strict=True) if it.get("kind") == "codeswitch")
    print("  codeswitch items called:", dict(codesw))
    print("other-language accuracy:", rate(sum(per_label["other"]), len(per_label["other"])))
    print("no-language (unknown) accuracy:", rate(sum(per_label["unknown"]), len(per_label["unknown"])))
    print(
        "confusion (gold -> predicted):",
        {f"{g}->{p}": n for (g, p), n in sorted(confusion.items()) if g != p},
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path)
    parser.add_argument(
        "--via-cli", action="store_true", help="run through `socialmon detect-language --json`"
    )
    parser.add_argument("--docs", choices=("even", "odd"), help="only one half of the documents (by CRC32)")
    parser.add_argument("--errors", type=int, default=0, help="print up to N misclassified items")
    args = parser.parse_args()

    items = load_items(args.path, args.docs)
    texts = [it["text"] for it in items]
    predict = predict_via_cli if args.via_cli else predict_in_process
    preds, load, elapsed = predict(texts)

    print(f"{len(items)} items from {args.path}{f' (docs: {args.docs})' if args.docs else ''}")
    report(items, preds)
    mode = "via CLI, incl. start-up" if args.via_cli else "in process, one core"
    print(f"throughput: {len(texts) / elapsed:.0f} texts/s ({mode}); {elapsed:.2f} s for {len(texts)}")
    print(f"detector load: {load:.2f} s{' (CLI run on one line)' if args.via_cli else ''}")
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: {max(rss_self, rss_child):.0f} MB")
    shown = 0
    for item, pred in zip(items, preds, strict=True):
        if pred != item["label"] and shown < args.errors:
            shown += 1
            print(f"  {item['label']:>7} -> {pred:7} {item.get('kind', '')[:24]:24} {item['text'][:110]!r}")


if __name__ == "__main__":
    main()
