"""Retrieval quality on a question set: hit@1, hit@5, MRR@10 per kind, the misses, latency.

    python -m retrieval.evaluate --set eval/dev.jsonl [--set eval/extra.jsonl] [--mode full|fusion|lexical|dense|all]

A question set is JSONL: {"q", "gold": [lines of other-services.md], "kind", optional "source",
"services" (compare), "service" (tips), "variant"}. Out-of-scope questions (gold []) count as
right when nothing is returned.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

DEFAULT_SOURCE = "other-services.md"
EXAM_MARKERS = ("examen", "exam")
EXPECTED_INTENT = {"compare": "compare", "tips": "tips", "out_of_scope": "none"}  # other kinds: "lookup"


def load_set(paths: list[str]) -> list[dict]:
    items = []
    for p in paths:
        for n, line in enumerate(Path(p).read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                d = json.loads(line)
                d.setdefault("source", DEFAULT_SOURCE)
                d["_origin"] = f"{Path(p).name}:{n}"
                items.append(d)
    return items


def _rank(hits, item) -> int | None:
    gold = set(item["gold"])
    for i, h in enumerate(hits, 1):
        if h.source == item["source"] and h.line in gold:
            return i
    return None


def evaluate(retriever, items: list[dict], mode: str = "full") -> dict:
    """Per-kind figures and the misses for one ranking mode (see Retriever.search)."""
    by_kind: dict[str, list[dict]] = defaultdict(list)
    misses: list[str] = []
    latencies: list[float] = []
    for it in items:
        t0 = time.perf_counter()
        answer = retriever.ask(it["q"], k=10, mode=mode)
        hits = answer.hits
        latencies.append(time.perf_counter() - t0)
        kind = it["kind"] + ("/" + it["variant"] if it.get("variant") else "")
        row: dict = {"refused": not hits}
        if mode == "full":  # did the question understanding read the question as its kind says?
            row["intent_ok"] = answer.intent == EXPECTED_INTENT.get(it["kind"], "lookup")
        if it["gold"]:
            r = _rank(hits, it)
            row.update(hit1=r == 1, hit5=r is not None and r <= 5, rr=1.0 / r if r else 0.0)
            if r is None or r > 1:
                top = f"{hits[0].source}:{hits[0].line}" if hits else "rien"
                misses.append(f"[{kind}] {it['q']!r} gold={it['gold']} rang={r} top={top}")
        else:
            row.update(hit1=not hits, hit5=not hits, rr=1.0 if not hits else 0.0)
            if hits:
                misses.append(
                    f"[{kind}] {it['q']!r} hors sujet mais {len(hits)} passage(s), top={hits[0].source}:{hits[0].line}"
                )
        if it["kind"] == "compare" and it.get("services"):
            top8 = {h.heading for h in hits[:8]}
            row["compare_ok"] = all(s in top8 for s in it["services"])
        if it["kind"] == "tips" and it.get("service"):
            good = sum(
                1
                for h in hits[:4]
                if h.heading == it["service"] and any(m in " ".join(h.breadcrumb).lower() for m in EXAM_MARKERS)
            )
            row["tips_ok"] = good >= 3
        by_kind[kind].append(row)
    table = {}
    for kind, rows in sorted(by_kind.items()):
        if not rows:
            continue
        t = {
            "n": len(rows),
            "hit@1": float(np.mean([r["hit1"] for r in rows])),
            "hit@5": float(np.mean([r["hit5"] for r in rows])),
            "mrr@10": float(np.mean([r["rr"] for r in rows])),
            "refused": int(sum(r["refused"] for r in rows)),
        }
        if any("compare_ok" in r for r in rows):
            t["compare_ok"] = float(np.mean([r["compare_ok"] for r in rows if "compare_ok" in r]))
        if any("tips_ok" in r for r in rows):
            t["tips_ok"] = float(np.mean([r["tips_ok"] for r in rows if "tips_ok" in r]))
        if any("intent_ok" in r for r in rows):
            t["intent_ok"] = float(np.mean([r["intent_ok"] for r in rows if "intent_ok" in r]))
        table[kind] = t
    all_rows = [r for rows in by_kind.values() for r in rows]
    table["overall"] = {
        "n": len(all_rows),
        "hit@1": float(np.mean([r["hit1"] for r in all_rows])),
        "hit@5": float(np.mean([r["hit5"] for r in all_rows])),
        "mrr@10": float(np.mean([r["rr"] for r in all_rows])),
        "refused": int(sum(r["refused"] for r in all_rows)),
    }
    lat = np.array(latencies) * 1000
    return {
        "mode": mode,
        "table": table,
        "misses": misses,
        "latency_ms": {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95))},
    }


def format_result(res: dict) -> str:
    lines = [f"== {res['mode']} ==", f"{'kind':<22}{'n':>4}{'hit@1':>8}{'hit@5':>8}{'MRR@10':>8}{'refusés':>9}  extra"]
    for kind, t in res["table"].items():
        extra = " ".join(f"{k}={t[k]:.2f}" for k in ("intent_ok", "compare_ok", "tips_ok") if k in t)
        lines.append(
            f"{kind:<22}{t['n']:>4}{t['hit@1']:>8.2f}{t['hit@5']:>8.2f}{t['mrr@10']:>8.2f}{t['refused']:>9}  {extra}"
        )
    lines.append(f"latence p50 {res['latency_ms']['p50']:.1f} ms, p95 {res['latency_ms']['p95']:.1f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m retrieval.evaluate", description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", required=True, help="question set (JSONL); repeatable")
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--index", default="index")
    ap.add_argument("--model", default=None)
    ap.add_argument(
        "--mode",
        default="full",
        choices=["full", "fusion", "lexical", "dense", "all"],
        help="full: the default search; fusion: hybrid without question understanding; all: the four",
    )
    ap.add_argument("--lexical-weight", type=float, default=None, help="override the fusion weight (tuning)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--misses", type=int, default=30, help="how many misses to list")
    args = ap.parse_args(argv)

    from .retriever import Retriever

    try:
        items = load_set(args.set)
    except (OSError, ValueError) as e:
        print(f"Jeu de questions illisible : {e}", file=sys.stderr)
        return 2
    if args.lexical_weight is not None:
        from . import fusion

        fusion.LEXICAL_WEIGHT = args.lexical_weight
    retriever, notice = Retriever.open(args.corpus, args.index, args.model)
    if notice:
        print(notice, file=sys.stderr)
    modes = ["lexical", "dense", "fusion", "full"] if args.mode == "all" else [args.mode]
    results = [evaluate(retriever, items, m) for m in modes]
    if args.json:
        print(json.dumps({"model": retriever.manifest.get("model"), "results": results}, ensure_ascii=False, indent=1))
        return 0
    print(f"modèle : {retriever.manifest.get('model')}, {len(items)} questions")
    for res in results:
        print(format_result(res))
        if res["misses"] and args.misses:
            print("manqués :")
            for m in res["misses"][: args.misses]:
                print("  " + m)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
