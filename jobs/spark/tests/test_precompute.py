"""Tests of the job's precompute step (--precompute-k) in Spark local mode on made-up data: each
user's top K without training items (including users whose history fills Spark's first ranking,
who must be ranked again), similar items by cosine, popularity, and the JSON-lines layout that
`rtrec publish-spark` reads. References are recomputed with numpy from the exported factors.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import train_als  # noqa: E402

NUM_USERS, NUM_ITEMS = 14, 16
K, SIMILAR_K, MARGIN = 4, 3, 1
# Users h0 and h1 have rated 13 of the 16 items: with margin 1 their first ranking (K + 1 = 5 items)
# holds at most 4 unseen items, fewer than K for most factorisations, so they are ranked again.
HEAVY = {"h0": 13, "h1": 13}


def made_up_rows() -> list[tuple[str, str, str, str]]:
    rows = []
    t = 1000
    for u in range(NUM_USERS):
        # User u rates 3 + u % 4 items, starting at a user-dependent offset; ratings follow a
        # two-group taste pattern so the factors are not degenerate.
        for j in range(3 + u % 4):
            i = (u * 5 + j * 3) % NUM_ITEMS
            rating = 5 if (u + i) % 2 == 0 else 2
            rows.append((f"u{u}", f"item \"{i}\"" if i == 7 else f"i{i}", str(rating), str(t)))
            t += 1
    for user, n in HEAVY.items():
        for i in range(n):
            rows.append((user, f"item \"{i}\"" if i == 7 else f"i{i}", str(4 if i % 2 else 3), str(t)))
            t += 1
    return rows


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("rtrec-precompute-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def read_factors(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return {row[0]: np.array([float(x) for x in row[1:]], dtype=np.float64) for row in rows[1:]}


def check_ranked(got: list[list], expected_scores: dict[str, float], k: int) -> None:
    """`got` ([[id, score], ...]) is the top k of `expected_scores`, best first, ties aside."""
    best = sorted(expected_scores.items(), key=lambda kv: -kv[1])[:k]
    assert len(got) == len(best)
    for j, (item, score) in enumerate(got):
        assert score == pytest.approx(best[j][1], abs=1e-4)
        assert score == pytest.approx(expected_scores[item], abs=1e-4), "score is not the item's own"
    assert len({item for item, _ in got}) == len(got)
    # Outside ties, the sets agree: every listed item scores at least the best left out.
    left_out = [s for item, s in expected_scores.items() if item not in {i for i, _ in got}]
    if left_out:
        assert min(s for _, s in got) >= max(left_out) - 1e-4


@pytest.fixture(scope="module")
def export(spark, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("precompute")
    data = tmp / "ratings.csv"
    rows = made_up_rows()
    with open(data, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["userId", "itemId", "rating", "timestamp"])
        w.writerows(rows)
    out = tmp / "export"
    code = train_als.main(
        [
            "--data", str(data), "--out", str(out), "--rank", "3", "--iterations", "5", "--reg", "0.1", "--seed", "3", "--blocks", "2",
            "--precompute-k", str(K), "--similar-k", str(SIMILAR_K), "--precompute-margin", str(MARGIN), "--progress", "none",
        ],
        spark=spark,
    )
    assert code == 0
    seen: dict[str, set[str]] = {}
    for user, item, _, _ in rows:
        seen.setdefault(user, set()).add(item)
    return out, seen


def test_manifest_names_the_precompute_files(export):
    out, seen = export
    manifest = json.loads((out / "export.json").read_text())
    pre = manifest["files"]["precompute"]
    assert pre["k"] == K and pre["similarK"] == SIMILAR_K and pre["margin"] == MARGIN
    assert pre["userRecs"] == "precompute/user_recs.jsonl"
    assert pre["counts"] == {"userRecs": len(seen), "similarItems": NUM_ITEMS, "items": NUM_ITEMS}
    assert pre["askedSpark"] == K + MARGIN
    # Both heavy users (and possibly others with more than MARGIN items) were ranked again.
    assert pre["usersRankedAgain"] >= 1
    assert pre["askedSparkAgain"] == min(K + max(len(s) for s in seen.values()), NUM_ITEMS)
    assert "precomputeSeconds" in manifest["timings"]


def test_user_lists_are_top_k_without_training_items(export):
    out, seen = export
    users = read_factors(out / "user_factors.csv")
    items = read_factors(out / "item_factors.csv")
    lines = (out / "precompute" / "user_recs.jsonl").read_text(encoding="utf-8").splitlines()
    got = {}
    for line in lines:
        row = json.loads(line)
        assert set(row) == {"userId", "items"}
        got[row["userId"]] = row["items"]
    assert set(got) == set(seen)
    for user, ranked in got.items():
        unseen = {item: float(users[user] @ vec) for item, vec in items.items() if item not in seen[user]}
        # Heavy users too get K items (3 are unseen for them: all of them, best first).
        assert len(ranked) == min(K, len(unseen))
        assert not {item for item, _ in ranked} & seen[user]
        check_ranked(ranked, unseen, K)


def test_similar_items_are_cosine_top_s_without_the_item_itself(export):
    out, _ = export
    items = read_factors(out / "item_factors.csv")
    lines = (out / "precompute" / "similar_items.jsonl").read_text(encoding="utf-8").splitlines()
    got = {json.loads(line)["itemId"]: json.loads(line)["items"] for line in lines}
    assert set(got) == set(items)
    for item, ranked in got.items():
        a = items[item]
        cosine = {
            other: float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) if np.linalg.norm(a) * np.linalg.norm(b) > 0 else 0.0
            for other, b in items.items()
            if other != item
        }
        assert item not in {i for i, _ in ranked}
        check_ranked(ranked, cosine, SIMILAR_K)


def test_items_list_every_item_with_its_distinct_users(export):
    out, seen = export
    lines = (out / "precompute" / "items.jsonl").read_text(encoding="utf-8").splitlines()
    got = {json.loads(line)["itemId"]: json.loads(line)["users"] for line in lines}
    expected: dict[str, int] = {}
    for items in seen.values():
        for item in items:
            expected[item] = expected.get(item, 0) + 1
    assert got == expected
    assert 'item "7"' in got, "ids with quotes survive the JSON written in SQL"


def test_bad_margin_is_an_argument_error():
    with pytest.raises(SystemExit) as exc:
        train_als.parse_args(["--data", "x.csv", "--out", "y", "--precompute-k", "3", "--precompute-margin", "-1"])
    assert exc.value.code == 2


def test_json_string_quotes_ids_with_unicode_line_separators(spark):
    # to_json leaves U+0085, U+2028 and U+2029 as they are; a '.' without DOTALL did not match
    # across them, and the id came out as an empty string: a broken JSON line.
    ids = ["a\u2028b", "c\u2029d", "e\u0085f", 'quote " and \\ and \n', "plain"]
    df = spark.createDataFrame([(i,) for i in ids], ["id"])
    literals = [row[0] for row in df.select(train_als.json_string(df["id"])).collect()]
    assert [json.loads(text) for text in literals] == ids
