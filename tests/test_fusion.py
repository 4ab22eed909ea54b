"""Plain fusion, the yardstick of the default ranking (evaluate --mode plain)."""

import numpy as np

from retrieval import fusion
from retrieval.tools.evaluate import MODES, versus_plain


def test_plain_fusion_is_min_max_at_w_dense_07():
    lex = np.array([0.0, 4.0, 2.0, 0.0], dtype=np.float32)  # BM25 of 4 chunks; chunk 3 has no word
    dense_ids = np.array([3, 0, 2], dtype=np.int64)
    dense_cos = np.array([0.90, 0.80, 0.85], dtype=np.float32)
    cos = {0: 0.80, 1: 0.70, 2: 0.85, 3: 0.90}
    s = fusion.fuse(lex, dense_ids, dense_cos, lambda ids: np.array([cos[int(i)] for i in ids]), mode="plain")
    assert list(s.ids) == [0, 1, 2, 3]
    lexn = np.array([0.0, 1.0, 0.5, 0.0])
    densen = (np.array([0.80, 0.70, 0.85, 0.90]) - 0.70) / 0.20
    assert np.allclose(s.fused, 0.3 * lexn + 0.7 * densen, atol=1e-5)
    # the combiner ranks otherwise: plain fusion is a mode of its own
    assert not np.allclose(s.fused, fusion.fuse(lex, dense_ids, dense_cos, lambda i: np.zeros(len(i))).fused)


def test_plain_is_evaluated_with_the_others_and_compared_on_answered_kinds():
    assert "plain" in MODES
    t = {
        "full": {"table": {"lookup": {"n": 3, "hit@1": 2 / 3, "hit@5": 1.0}, "out_of_scope": {"n": 2, "hit@1": 1.0}}},
        "plain": {"table": {"lookup": {"n": 3, "hit@1": 1 / 3, "hit@5": 1.0}, "out_of_scope": {"n": 2, "hit@1": 0.0}}},
    }
    vp = versus_plain(t)
    assert vp is not None and vp["full"]["n"] == 3  # off-topic questions left out: plain fusion never refuses
    assert round(vp["full"]["hit@1"], 2) == 0.67 and round(vp["plain"]["hit@1"], 2) == 0.33
