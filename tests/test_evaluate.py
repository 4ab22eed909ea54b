"""The evaluation script on the project's question sets: figures per kind, and the targets."""

import json

from conftest import CORPUS, ROOT

from retrieval.tools.evaluate import evaluate, load_set, main

DEV = ROOT / "eval" / "dev.jsonl"
EXTRA = ROOT / "eval" / "extra.jsonl"


def test_gold_lines_point_at_text():
    lines = (CORPUS / "other-services.md").read_text(encoding="utf-8").split("\n")
    for it in load_set([str(DEV), str(EXTRA)]):
        for n in it["gold"]:
            assert lines[n - 1].strip() and not lines[n - 1].startswith("#"), (it["q"], n)


def test_dev_targets(retriever):
    res = evaluate(retriever, load_set([str(DEV)]), "full")["table"]
    lookup, english = res["lookup"], res["english"]
    n = lookup["n"] + english["n"]
    hit5 = (lookup["hit@5"] * lookup["n"] + english["hit@5"] * english["n"]) / n
    hit1 = (lookup["hit@1"] * lookup["n"] + english["hit@1"] * english["n"]) / n
    assert hit5 >= 0.97 and hit1 >= 0.86
    assert res["paraphrase"]["hit@5"] >= 0.60
    assert res["compare"]["compare_ok"] == 1.0 and res["tips"]["tips_ok"] == 1.0
    assert res["out_of_scope"]["refused"] >= 2
    assert res["lookup"]["refused"] == 0 and res["paraphrase"]["refused"] == 0


def test_fused_is_as_good_as_its_best_component_on_dev(retriever):
    items = load_set([str(DEV)])
    t = {m: evaluate(retriever, items, m)["table"] for m in ("lexical", "dense", "fusion", "full")}
    for kind in ("lookup", "english", "paraphrase", "compare", "tips"):
        best = max(t["lexical"][kind]["hit@5"], t["dense"][kind]["hit@5"])
        assert t["full"][kind]["hit@5"] >= best, (kind, t)


def test_cli_prints_table_and_json(built_index, capsys):
    assert main(["--set", str(DEV), "--corpus", str(CORPUS), "--index", str(built_index), "--misses", "3"]) == 0
    out = capsys.readouterr().out
    for word in ("hit@1", "hit@5", "MRR@10", "lookup", "paraphrase", "overall", "latence p50"):
        assert word in out
    assert (
        main(["--set", str(DEV), "--corpus", str(CORPUS), "--index", str(built_index), "--json", "--mode", "lexical"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    results = data["corpora"][0]["results"]
    assert results[0]["mode"] == "lexical" and "overall" in results[0]["table"]


def test_unreadable_set_is_one_line_error(built_index, capsys, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{pas du json\n")
    assert main(["--set", str(bad), "--index", str(built_index)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Jeu de questions illisible") and err.count("\n") == 1 and "Traceback" not in err
