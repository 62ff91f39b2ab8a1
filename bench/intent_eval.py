"""Score the intent step on the labelled messages: python bench/intent_eval.py [--misses].

Precision and recall per label on the dev and the held-back split of bench/intent_data, the
medication sub-kind accuracy, how often the fixed texts would come in the message's language,
and how many of the triage's messages (bench/triage_data w1-w11, ../shared/triage: health
questions, and some figures of speech about traffic or exams) would be answered as off topic;
with --review, the review set's kinds for information (never tuned on). Misses of the held-back
parts (the held split; the triage's held-back writers w5, w6) are listed only with
--held-misses: tune on dev and the triage's training writers, never on the held-back ones."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT / "bench" / "intent_data"
CACHE = ROOT / ".cache"
LABELS = ("health", "medication", "off_topic", "greeting")
TRIAGE = ROOT / "bench" / "triage_data"
TUNING_HEALTH = [*(TRIAGE / f"w{i}.jsonl" for i in (1, 2, 3, 4, 7, 8, 9, 10, 11)),
                 ROOT.parent / "shared" / "triage" / "train.jsonl",
                 ROOT.parent / "shared" / "triage" / "dev.jsonl"]
HELD_HEALTH = [TRIAGE / "w5.jsonl", TRIAGE / "w6.jsonl"]


class Verdicts:
    """The triage's (level, language) per text, cached in .cache/ (the slow part of a run; keyed
    by the triage mode and the triage's model and rule files, so a changed triage is rerun)."""

    def __init__(self, triage, mode: str) -> None:  # noqa: ANN001 - bot.triage.Triage
        digest = hashlib.sha1(mode.encode())
        for path in sorted((ROOT / "prompts" / "triage").glob("*.toml")) + [
                ROOT / "bot" / "triage" / "model.json"]:
            digest.update(path.read_bytes())
        self.triage, self.path = triage, CACHE / f"intent-verdicts-{digest.hexdigest()[:12]}.json"
        self.known = json.loads(self.path.read_text()) if self.path.exists() else {}

    def get(self, text: str) -> tuple[str, str]:
        key = hashlib.sha1(text.encode()).hexdigest()
        if key not in self.known:
            verdict = self.triage.classify(text)
            self.known[key] = [verdict.level, verdict.language]
        level, language = self.known[key]
        return level, language

    def save(self) -> None:
        CACHE.mkdir(exist_ok=True)
        self.path.write_text(json.dumps(self.known))


def read(path: Path) -> list[dict]:
    """Rows of a JSONL file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def table(pairs: list[tuple[str, str]]) -> list[str]:
    """Precision and recall per label from (gold, predicted) pairs."""
    lines = ["| label | n | precision | recall |", "|---|---|---|---|"]
    for label in LABELS:
        gold = sum(g == label for g, _ in pairs)
        said = sum(p == label for _, p in pairs)
        right = sum(g == p == label for g, p in pairs)
        precision = f"{right / said:.3f} ({right}/{said})" if said else "–"
        recall = f"{right / gold:.3f} ({right}/{gold})" if gold else "–"
        lines.append(f"| {label} | {gold} | {precision} | {recall} |")
    accuracy = sum(g == p for g, p in pairs) / len(pairs)
    lines.append(f"| **all** | {len(pairs)} | accuracy {accuracy:.3f} | |")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules-only", action="store_true",
                        help="the triage's rules without its semantic model")
    parser.add_argument("--misses", action="store_true", help="list the dev split's misses")
    parser.add_argument("--held-misses", action="store_true", help="also list held-back misses")
    parser.add_argument("--split", choices=("dev", "held", "both"), default="both")
    parser.add_argument("--review", action="store_true",
                        help="also score bench/review/messages.jsonl (information only)")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    parser.add_argument("--no-health-check", action="store_true",
                        help="skip the false-refusal check on the triage messages")
    args = parser.parse_args(argv[1:])
    from bot.intent import load_default
    from bot.triage import load_default as load_triage

    triage = load_triage(semantic=not args.rules_only)
    classifier = load_default()
    mode = "the triage's rules only" if args.rules_only else "the full triage, as the bot runs"
    report = [f"# Intent results (after {mode})", ""]
    verdicts = Verdicts(triage, "rules" if args.rules_only else "full")
    for split in ("dev", "held") if args.split == "both" else (args.split,):
        rows = read(DATA / f"{split}.jsonl")
        pairs, kinds, misses, timings = [], Counter(), [], []
        language = Counter()
        by_lang: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in rows:
            level, lang = verdicts.get(row["text"])  # the engine's order: triage, then intent
            start = time.perf_counter()
            intent = classifier.classify(row["text"], level, lang)
            timings.append((time.perf_counter() - start) * 1000)
            pairs.append((row["label"], intent.label))
            by_lang[row["lang"]].append((row["label"], intent.label))
            if row["label"] == intent.label == "medication":
                kinds[row["kind"] == intent.kind] += 1
            if intent.label != "health":
                shown = intent.language or lang
                language[shown == row["lang"]] += 1
            if (row["label"], row.get("kind")) != (intent.label, intent.kind or row.get("kind")) \
                    and (split == "dev" and args.misses or args.held_misses):
                misses.append(f"- {row['id']}: {row['label']}/{row['kind']} -> {intent.name} "
                              f"({level}): {row['text']}")
        report += [f"## {split} ({len(rows)} messages)", "", *table(pairs), "",
                   f"- medication sub-kind right: {kinds[True]}/{sum(kinds.values())}",
                   f"- fixed texts in the message's language: {language[True]}/"
                   f"{sum(language.values())} (intent cue language, else the detector's)",
                   "- per language accuracy: " + ", ".join(
                       f"{lang} {sum(g == p for g, p in v)}/{len(v)}"
                       for lang, v in sorted(by_lang.items())),
                   f"- intent step after the triage: p50 {np.percentile(timings, 50):.2f} ms, "
                   f"p95 {np.percentile(timings, 95):.2f} ms", ""]
        if misses:
            report += [f"### Misses in {split} ({len(misses)})", "", *misses, ""]
    if not args.no_health_check:
        for name, paths in (("the triage's training writers (w1-w4, w7-w11, shared train and "
                             "dev)", TUNING_HEALTH), ("the triage's held-back writers (w5, w6)",
                                                     HELD_HEALTH)):
            refused, total, examples = Counter(), 0, []
            for path in paths:
                for row in read(path):
                    level, lang = verdicts.get(row["text"])
                    if level == "emergency":
                        continue  # never reaches the intent step
                    total += 1
                    intent = classifier.classify(row["text"], level, lang)
                    if intent.label in ("off_topic", "greeting"):
                        refused[intent.label] += 1
                        examples.append(f"- {row.get('id', path.stem)} -> {intent.label} "
                                        f"({level}): {row['text'][:110]}")
            show = paths is TUNING_HEALTH or args.held_misses
            report += [f"## Triage messages answered as off topic or greeting: {name}", "",
                       f"- {sum(refused.values())}/{total} non-emergency messages: "
                       f"{dict(refused)}", "", *(examples if show else []), ""]
    if args.review:
        review = {"medication": "medication", "off_topic": "off_topic", "greeting": "greeting"}
        pairs = []
        for row in read(ROOT / "bench" / "review" / "messages.jsonl"):
            level, lang = verdicts.get(row["text"])
            intent = classifier.classify(row["text"], level, lang)
            pairs.append((review.get(row["kind"], "health"),
                          "emergency" if level == "emergency" else intent.label))
        report += ["## Review set (bench/review/messages.jsonl, information only: its kinds "
                   "medication, off_topic and greeting against the rest)", "", *table(pairs), ""]
    verdicts.save()
    print("\n".join(report))
    if args.out:
        args.out.write_text("\n".join(report) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
