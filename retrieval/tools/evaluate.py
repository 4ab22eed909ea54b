"""Retrieval quality on question sets, per corpus: hit@1, hit@5, MRR@10 per kind, answers complete, latency.

    python -m retrieval.evaluate --set eval/dev.jsonl [--set eval/stockage.jsonl ...] [--mode full|all]

Two kinds of sets, one JSON object per line:
- ranked: {"q", "gold": [lines], "kind", optional "source" (file, default other-services.md),
  "corpus" (notes folder, default --corpus), "services" (compare), "service" (tips), "variant"}.
  Out-of-scope questions (gold []) count as right when nothing is returned.
- answers: {"q", "must": [[line, line], [line]], optional "min", "kind", "source", "corpus"}: a group
  is met when one of its lines is shown in the first k passages; the answer is complete when at
  least `min` groups (default: all) are met. The lines shown are counted too: showing a whole file
  must not be the way to win.
- conversations: {"turns": [q1, q2, ...], "gold": [lines], "kind", "source", "corpus", optional "services"}:
  each turn is asked with the previous answer (Retriever.ask(..., previous=)); the gold lines answer the
  last turn. Kinds: "followup" (the last turn goes on about the subject), "compare_followup" (it compares
  the subject with what it names), "switch" (it names another subject), "standalone" (complete on its
  own). Reported per kind: hit@1 / hit@3 (the first passage / the first 3 passages show a gold line),
  subject@1 (the first passage sits under a gold line's heading, or under one of its parents: "the right
  subject"), carried (the last answer carried a subject over), compare_ok (every "services" heading
  among the first 8 passages). For "switch", subject@1 is how often the switch is followed.

Each corpus gets its own index (the --index folder for --corpus, a cache under the system's temp
folder for the others) and its own tables, then one line saying whether the default ranking is at
least as good as lexical alone and dense alone on every kind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_SOURCE = "other-services.md"
EXPECTED_INTENT = {"compare": "compare", "tips": "tips", "out_of_scope": "none"}  # other kinds: "lookup"
MODES = ["lexical", "dense", "fusion", "plain", "full"]
ANSWER_K = 5


def load_set(paths: list[str]) -> list[dict]:
    items = []
    for p in paths:
        for n, line in enumerate(Path(p).read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                d = json.loads(line)
                if isinstance(d, dict) and "turns" in d:
                    turns = d["turns"]
                    if not isinstance(turns, list) or not turns or "gold" not in d:
                        raise ValueError(f"{Path(p).name}:{n} : une conversation demande « turns » et « gold »")
                    d["q"] = turns[-1]
                if not isinstance(d, dict) or "q" not in d or ("gold" not in d and "must" not in d):
                    raise ValueError(f"{Path(p).name}:{n} : ni « gold » ni « must »")
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


def _passage_rank(passages, item) -> int | None:
    gold = set(item["gold"])
    for i, p in enumerate(passages, 1):
        if p.source == item["source"] and gold & set(p.lines):
            return i
    return None


def _headings(h) -> set[str]:
    return {h.heading, *getattr(h, "heading_path", [])}


def evaluate(retriever, items: list[dict], mode: str = "full") -> dict:
    """Per-kind figures and the misses for one ranking mode (see Retriever.search); ranked items only."""
    by_kind: dict[str, list[dict]] = defaultdict(list)
    misses: list[str] = []
    latencies: list[float] = []
    for it in items:
        if "gold" not in it or "turns" in it:
            continue
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
            # the same, counted on what the student reads: the passage a gold line is shown in
            pr = _passage_rank(retriever.ask(it["q"], k=5, mode=mode).passages, it)
            row.update(p1=pr == 1, p5=pr is not None)
            if r is None or r > 1:
                top = f"{hits[0].source}:{hits[0].line}" if hits else "rien"
                misses.append(f"[{kind}] {it['q']!r} gold={it['gold']} rang={r} top={top}")
        else:
            row.update(hit1=not hits, hit5=not hits, rr=1.0 if not hits else 0.0, p1=not hits, p5=not hits)
            if hits:
                misses.append(
                    f"[{kind}] {it['q']!r} hors sujet mais {len(hits)} passage(s), top={hits[0].source}:{hits[0].line}"
                )
        if it["kind"] == "compare" and it.get("services"):
            top8 = set().union(*(_headings(h) for h in hits[:8])) if hits else set()
            row["compare_ok"] = all(s in top8 for s in it["services"])
        if it["kind"] == "tips":
            good = [h for h in hits[:4] if h.exam and (not it.get("service") or it["service"] in _headings(h))]
            row["tips_ok"] = len(good) >= min(3, len(hits[:4])) and bool(hits)
        by_kind[kind].append(row)
    table = {kind: _summary(rows) for kind, rows in sorted(by_kind.items()) if rows}
    all_rows = [r for rows in by_kind.values() for r in rows]
    if all_rows:
        table["overall"] = _summary(all_rows, extras=False)
    lat = np.array(latencies or [0.0]) * 1000
    return {
        "mode": mode,
        "table": table,
        "misses": misses,
        "latency_ms": {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95))},
    }


CONVERSATION_K = 5


def _related(passage, chunk) -> bool:
    """The passage sits under the chunk's heading, or the chunk under the passage's (same file)."""
    if passage.source != chunk.source:
        return False
    return passage.heading in {chunk.heading, *chunk.heading_path} or chunk.heading in passage.heading_path


def evaluate_conversations(retriever, items: list[dict], k: int = CONVERSATION_K) -> dict:
    """Per conversation kind: hit@1, hit@3, subject@1, carried, compare_ok of the last turn (see the docstring)."""
    at = {(c.source, c.line): c for c in retriever.chunks}
    by_kind: dict[str, list[dict]] = defaultdict(list)
    misses: list[str] = []
    for it in items:
        if "turns" not in it:
            continue
        answer = None
        for q in it["turns"]:
            answer = retriever.ask(q, k=k, previous=answer)
        assert answer is not None
        passages = answer.passages
        gold = [at[(it["source"], n)] for n in it["gold"] if (it["source"], n) in at]
        r = _passage_rank(passages, it)
        row = {
            "hit1": r == 1,
            "hit3": r is not None and r <= 3,
            "subject1": r == 1 or (bool(passages) and any(_related(passages[0], c) for c in gold)),
            "carried": answer.subject is not None,
        }
        if it.get("services"):
            top = set().union(*({p.heading, *p.heading_path} for p in passages[:8])) if passages else set()
            row["compare_ok"] = all(s in top for s in it["services"])
        by_kind[it["kind"]].append(row)
        if r != 1 or not row["subject1"]:
            top_ = f"{passages[0].source}:{passages[0].lines[0]} ({passages[0].heading})" if passages else "rien"
            carried = "+".join(answer.subject.names) if answer.subject else "-"
            talk = " → ".join(it["turns"])
            misses.append(f"[{it['kind']}] {talk!r} gold={it['gold']} rang={r} top={top_} sujet={carried}")
    table = {}
    for kind, rows in sorted(by_kind.items()):
        t: dict[str, float] = {"n": len(rows)}
        for key, name in (("hit1", "hit@1"), ("hit3", "hit@3"), ("subject1", "subject@1"), ("carried", "carried")):
            t[name] = float(np.mean([r[key] for r in rows]))
        ok = [r["compare_ok"] for r in rows if "compare_ok" in r]
        if ok:
            t["compare_ok"], t["compare_n"] = float(np.mean(ok)), len(ok)
        table[kind] = t
    return {"k": k, "table": table, "misses": misses}


def merge_conversations(results: list[dict]) -> dict:
    """The conversation tables of several corpora as one (figures weighted by their counts)."""
    table: dict[str, dict[str, float]] = {}
    for res in results:
        for kind, t in res["table"].items():
            m = table.setdefault(kind, {"n": 0})
            for key, v in t.items():
                if key not in ("n", "compare_n"):
                    m[key] = m.get(key, 0.0) + v * t["compare_n" if key == "compare_ok" else "n"]
            m["n"] += t["n"]
            m["compare_n"] = m.get("compare_n", 0) + t.get("compare_n", 0)
    for m in table.values():
        for key in m:
            if key not in ("n", "compare_n"):
                m[key] /= m["compare_n" if key == "compare_ok" else "n"]
    return {"k": results[0]["k"] if results else CONVERSATION_K, "table": dict(sorted(table.items())), "misses": []}


def format_conversations(res: dict) -> str:
    lines = [
        f"== conversations (dernier tour, k = {res['k']}) ==",
        f"{'kind':<22}{'n':>4}{'hit@1':>8}{'hit@3':>8}{'sujet@1':>9}{'reporté':>9}  extra",
    ]
    for kind, t in res["table"].items():
        extra = f"compare_ok={t['compare_ok']:.2f}" if "compare_ok" in t else ""
        figures = f"{t['hit@1']:>8.2f}{t['hit@3']:>8.2f}{t['subject@1']:>9.2f}{t['carried']:>9.2f}"
        lines.append(f"{kind:<22}{t['n']:>4}{figures}  {extra}")
    return "\n".join(lines)


def _summary(rows: list[dict], extras: bool = True) -> dict:
    t = {
        "n": len(rows),
        "hit@1": float(np.mean([r["hit1"] for r in rows])),
        "hit@5": float(np.mean([r["hit5"] for r in rows])),
        "mrr@10": float(np.mean([r["rr"] for r in rows])),
        "refused": int(sum(r["refused"] for r in rows)),
        "passage@1": float(np.mean([r["p1"] for r in rows])),
        "passage@5": float(np.mean([r["p5"] for r in rows])),
    }
    if extras:
        for key in ("compare_ok", "tips_ok", "intent_ok"):
            vals = [r[key] for r in rows if key in r]
            if vals:
                t[key] = float(np.mean(vals))
    return t


def _shown_lines(answer, k: int) -> list[tuple[str, int]]:
    """(source, line) of what the first k answer units show: passages when the answer has them, else hits."""
    passages = getattr(answer, "passages", None)
    if passages is not None:
        return [(p.source, n) for p in passages[:k] for n in p.lines]
    return [(h.source, h.line) for h in answer.hits[:k]]


def evaluate_answers(retriever, items: list[dict], k: int = ANSWER_K) -> dict:
    """Complete answers per kind (default mode), and the average number of lines shown."""
    by_kind: dict[str, list[tuple[bool, int]]] = defaultdict(list)
    misses: list[str] = []
    for it in items:
        if "must" not in it:
            continue
        shown = set(_shown_lines(retriever.ask(it["q"], k=k), k))
        met = [any((it["source"], n) in shown for n in group) for group in it["must"]]
        need = it.get("min", len(it["must"]))
        ok = sum(met) >= need
        by_kind[it["kind"]].append((ok, len(shown)))
        if not ok:
            lost = [g for g, m in zip(it["must"], met) if not m]
            misses.append(f"[{it['kind']}] {it['q']!r} {sum(met)}/{need} groupes ; manquent {lost}")
    table = {
        kind: {"n": len(rows), "complete": sum(ok for ok, _ in rows), "lines": float(np.mean([n for _, n in rows]))}
        for kind, rows in sorted(by_kind.items())
    }
    rows = [r for v in by_kind.values() for r in v]
    if rows:
        table["overall"] = {
            "n": len(rows),
            "complete": sum(ok for ok, _ in rows),
            "lines": float(np.mean([n for _, n in rows])),
        }
    return {"k": k, "table": table, "misses": misses}


def beats_components(results: dict[str, dict], metrics=("hit@1", "hit@5")) -> list[str]:
    """Where the default (full) falls below lexical alone or dense alone: '' entries mean it never does."""
    worse = []
    full = results.get("full", {}).get("table", {})
    for kind, t in full.items():
        if kind == "overall" or kind.startswith("out_of_scope"):
            continue
        for metric in metrics:
            for other in ("lexical", "dense"):
                o = results.get(other, {}).get("table", {}).get(kind)
                if o and t[metric] + 1e-9 < o[metric]:
                    worse.append(f"{kind} {metric} : défaut {t[metric]:.2f} < {other} {o[metric]:.2f}")
    return worse


def versus_plain(results: dict[str, dict]) -> dict[str, dict[str, float]] | None:
    """hit@1 / hit@5 of the default and of plain fusion over the questions that have an answer (every
    kind but out-of-scope ones, which plain fusion never refuses): what the rules and the combiner add."""
    out: dict[str, dict[str, float]] = {}
    for mode in ("full", "plain"):
        table = results.get(mode, {}).get("table", {})
        rows = [(k, t) for k, t in table.items() if k != "overall" and k.split("/")[0] not in _NO_ANSWER]
        n = sum(t["n"] for _, t in rows)
        if not n:
            return None
        out[mode] = {"n": n, **{m: sum(t[m] * t["n"] for _, t in rows) / n for m in ("hit@1", "hit@5")}}
    return out


_NO_ANSWER = ("offtopic", "out_of_scope")


ABLATIONS = (
    "combiner",  # the logistic combiner, replaced by plain min-max fusion (w_dense 0.7) under the rules
    *("label", "tips", "compare", "contrast", "definition"),
    *("abstain-unknown", "abstain-passing", "abstain-far", "abstain-bare"),
)


def summary_line(retriever, items: list[dict]) -> dict:
    """The default ranking's headline figures on a set: answered kinds' hit@1 / hit@5, out-of-scope
    questions refused, covered questions refused, complete answers."""
    ranked = evaluate(retriever, items, "full")["table"]
    rows = [(k, t) for k, t in ranked.items() if k != "overall" and not k.startswith("out_of_scope")]
    n = sum(t["n"] for _, t in rows)
    oos = ranked.get("out_of_scope", {"n": 0, "refused": 0})
    answers = evaluate_answers(retriever, items)["table"].get("overall")
    return {
        "n": n,
        "hit@1": sum(t["hit@1"] * t["n"] for _, t in rows) / n if n else 0.0,
        "hit@5": sum(t["hit@5"] * t["n"] for _, t in rows) / n if n else 0.0,
        "oos_refused": f"{oos['refused']}/{oos['n']}",
        "covered_refused": sum(t["refused"] for _, t in rows),
        "complete": f"{answers['complete']}/{answers['n']}" if answers else "-",
    }


def ablate(retriever, items: list[dict]) -> list[tuple[str, dict]]:
    """The headline figures with every rule, then without each rule in turn."""
    out = [("(toutes)", summary_line(retriever, items))]
    for rule in ABLATIONS:
        retriever.disabled_rules = frozenset({rule})
        try:
            out.append((f"sans {rule}", summary_line(retriever, items)))
        finally:
            retriever.disabled_rules = frozenset()
    return out


def format_ablation(rows: list[tuple[str, dict]]) -> str:
    head = ("règles", "n", "hit@1", "hit@5", "hors sujet refusés", "couvertes refusées", "complètes")
    widths = (26, 4, 8, 8, 20, 20, 11)
    lines = ["".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths)))]
    for name, r in rows:
        lines.append(
            f"{name:<26}{r['n']:>4}{r['hit@1']:>8.2f}{r['hit@5']:>8.2f}{r['oos_refused']:>20}"
            f"{r['covered_refused']:>20}{r['complete']:>11}"
        )
    return "\n".join(lines)


def format_result(res: dict) -> str:
    lines = [
        f"== {res['mode']} ==",
        f"{'kind':<22}{'n':>4}{'hit@1':>8}{'hit@5':>8}{'MRR@10':>8}{'pass@1':>8}{'pass@5':>8}{'refusés':>9}  extra",
    ]
    for kind, t in res["table"].items():
        extra = " ".join(f"{k}={t[k]:.2f}" for k in ("intent_ok", "compare_ok", "tips_ok") if k in t)
        lines.append(
            f"{kind:<22}{t['n']:>4}{t['hit@1']:>8.2f}{t['hit@5']:>8.2f}{t['mrr@10']:>8.2f}"
            f"{t['passage@1']:>8.2f}{t['passage@5']:>8.2f}{t['refused']:>9}  {extra}"
        )
    lines.append(f"latence p50 {res['latency_ms']['p50']:.1f} ms, p95 {res['latency_ms']['p95']:.1f} ms")
    return "\n".join(lines)


def format_answers(res: dict) -> str:
    lines = [f"== réponses complètes (k = {res['k']}) ==", f"{'kind':<22}{'n':>4}{'complètes':>11}{'lignes':>8}"]
    for kind, t in res["table"].items():
        lines.append(f"{kind:<22}{t['n']:>4}{t['complete']:>6}/{t['n']:<4}{t['lines']:>8.1f}")
    return "\n".join(lines)


def index_for(corpus: Path, default_corpus: Path, default_index: Path, model: str | None) -> Path:
    """The --index folder for the --corpus notes; a cached index per other corpus (and model)."""
    if corpus.resolve() == default_corpus.resolve():
        return default_index
    key = hashlib.sha1(f"{corpus.resolve()}|{model or ''}".encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / "retrieval-eval" / f"{corpus.name}-{key}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m retrieval.evaluate", description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", required=True, help="question set (JSONL); repeatable")
    ap.add_argument("--corpus", default="corpus", help="notes of the questions without a 'corpus' field")
    ap.add_argument("--index", default="index", help="index of --corpus (other corpora: a cache)")
    ap.add_argument("--model", default=None)
    ap.add_argument(
        "--mode",
        default="full",
        choices=[*MODES, "all"],
        help="full: the default search; fusion: hybrid without question understanding; plain: min-max fusion "
        "at w_dense 0.7, no rule (the yardstick); all: the five",
    )
    ap.add_argument("--ablate", action="store_true", help="the default ranking without each of its rules in turn")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--misses", type=int, default=30, help="how many misses to list")
    args = ap.parse_args(argv)

    from ..retriever import Retriever

    try:
        items = load_set(args.set)
    except (OSError, ValueError) as e:
        print(f"Jeu de questions illisible : {e}", file=sys.stderr)
        return 2
    groups: dict[str, list[dict]] = defaultdict(list)
    for it in items:
        groups[it.get("corpus") or args.corpus].append(it)
    modes = MODES if args.mode == "all" else [args.mode]
    report: list[dict[str, Any]] = []
    for corpus, its in groups.items():
        index = index_for(Path(corpus), Path(args.corpus), Path(args.index), args.model)
        retriever, notice = Retriever.open(corpus, index, args.model)
        if notice:
            print(notice, file=sys.stderr)
        if args.ablate:
            print(f"### {corpus} — modèle {retriever.manifest.get('model')}, {len(its)} questions")
            print(format_ablation(ablate(retriever, its)) + "\n", flush=True)
            continue
        one = [i for i in its if "turns" not in i]
        results = {m: evaluate(retriever, one, m) for m in modes if any("gold" in i for i in one)}
        answers = evaluate_answers(retriever, its) if any("must" in i for i in its) else None
        talks = evaluate_conversations(retriever, its) if len(one) < len(its) else None
        report.append(
            {
                "corpus": corpus,
                "model": retriever.manifest.get("model"),
                "questions": len(its),
                "results": list(results.values()),
                "answers": answers,
                "conversations": talks,
                "default_below": beats_components(results) if args.mode == "all" else None,
                "default_vs_plain": versus_plain(results) if args.mode == "all" else None,
                "default_below_passages": (
                    beats_components(results, ("passage@1", "passage@5")) if args.mode == "all" else None
                ),
            }
        )
    every = [r["conversations"] for r in report if r["conversations"]]
    total = merge_conversations(every) if len(every) > 1 else None
    if args.json:
        print(json.dumps({"corpora": report, "conversations": total}, ensure_ascii=False, indent=1))
        return 0
    for r in report:
        print(f"### {r['corpus']} — modèle {r['model']}, {r['questions']} questions\n")
        for res in r["results"]:
            print(format_result(res))
            if res["misses"] and args.misses:
                print("manqués :")
                for m in res["misses"][: args.misses]:
                    print("  " + m)
            print()
        if r["answers"]:
            print(format_answers(r["answers"]))
            for m in r["answers"]["misses"][: args.misses]:
                print("  " + m)
            print()
        if r["conversations"]:
            print(format_conversations(r["conversations"]))
            for m in r["conversations"]["misses"][: args.misses]:
                print("  " + m)
            print()
        if r["default_below"] is not None and r["results"]:
            below = r["default_below"]
            verdict = "oui" if not below else "non : " + " ; ".join(below)
            print(f"défaut ≥ lexical et ≥ dense (hit@1, hit@5, chaque type) : {verdict}")
            below = r["default_below_passages"]
            verdict = "oui" if not below else "non : " + " ; ".join(below)
            print(f"défaut ≥ lexical et ≥ dense (passage@1, passage@5, chaque type) : {verdict}")
            vp = r["default_vs_plain"]
            if vp:
                print(
                    f"défaut vs fusion simple (w_dense 0.7), {vp['full']['n']} questions avec réponse : hit@1 "
                    f"{vp['full']['hit@1']:.2f} / {vp['plain']['hit@1']:.2f}, hit@5 "
                    f"{vp['full']['hit@5']:.2f} / {vp['plain']['hit@5']:.2f}"
                )
            print()
    if total is not None:
        print("### conversations, tous les corpus\n")
        print(format_conversations(total) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
