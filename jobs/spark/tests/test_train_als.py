"""Tests of the Spark ALS job (train_als.py) in Spark local mode on tiny made-up data.

One SparkSession serves the whole module (starting Spark costs seconds); the job's main() runs in
process with it. Expected values are hand-computed from the fixtures or recomputed independently
from the exported factors (numpy dot products), never copied from a run of the job.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import train_als  # noqa: E402

JOB = Path(__file__).resolve().parents[1] / "train_als.py"

# Made-up explicit ratings. u1 rates i1 twice: the later row (timestamp 30, rating 1) must win.
# "u,3" has a comma in its id, to check CSV quoting on the way in and out.
EXPLICIT_ROWS = [
    ("u1", "i1", "5", "10"),
    ("u1", "i2", "3", "20"),
    ("u1", "i1", "1", "30"),
    ("u2", "i2", "4", "10"),
    ("u2", "i3", "2", "15"),
    ("u2", "i4", "5", "16"),
    ("u,3", "i3", "5", "10"),
    ("u,3", "i1", "4", "11"),
    ("u4", "i4", "1", "10"),
    ("u4", "i1", "3", "10"),
    ("u4", "i5", "4", "12"),
    ("u5", "i5", "2", "10"),
    ("u5", "i2", "5", "11"),
]
# Hand-counted: 13 rows, 12 distinct (user, item) pairs, users u1 u2 u,3 u4 u5, items i1..i5.
SEEN = {
    "u1": {"i1", "i2"},
    "u2": {"i2", "i3", "i4"},
    "u,3": {"i3", "i1"},
    "u4": {"i4", "i1", "i5"},
    "u5": {"i5", "i2"},
}


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("rtrec-train-als-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def write_csv(path: Path, header: list[str], rows: list[tuple[str, ...]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_factors(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert header[0] == "id"
    return {row[0]: np.array([float(x) for x in row[1:]], dtype=np.float32) for row in body}


def test_explicit_end_to_end(spark, tmp_path):
    data = write_csv(tmp_path / "ratings.csv", ["userId", "itemId", "rating", "timestamp"], EXPLICIT_ROWS)
    out = tmp_path / "export"
    code = train_als.main(
        [
            "--data", str(data), "--out", str(out),
            "--rank", "3", "--iterations", "6", "--reg", "0.05", "--seed", "7", "--blocks", "2",
            "--recommend-k", "2", "--recommend-exclude-seen", "--progress", "none",
        ],
        spark=spark,
    )
    assert code == 0

    manifest = json.loads((out / "export.json").read_text())
    assert manifest["format"] == "rtrec-spark-export"
    assert manifest["model"] == "als" and manifest["implicit"] is False
    assert manifest["hyperParameters"] == {"rank": 3, "iterations": 6, "reg": 0.05, "alpha": 1.0, "nonnegative": False, "seed": 7}
    assert manifest["sparkParams"]["maxIter"] == 6 and manifest["sparkParams"]["regParam"] == 0.05
    assert manifest["counts"] == {"rows": 13, "interactions": 12, "users": 5, "items": 5}
    assert manifest["spark"]["version"] == spark.version
    assert manifest["timings"]["fitSeconds"] >= 0
    assert not list(tmp_path.glob(".export.tmp-*")), "temporary folder left behind"

    users = read_factors(out / "user_factors.csv")
    items = read_factors(out / "item_factors.csv")
    assert set(users) == set(SEEN)
    assert set(items) == {"i1", "i2", "i3", "i4", "i5"}
    assert all(v.shape == (3,) and np.all(np.isfinite(v)) for v in [*users.values(), *items.values()])

    # The model fits its 12 ratings closely at rank 3; u1/i1 must fit the latest rating (1), not the first (5).
    assert abs(float(users["u1"] @ items["i1"]) - 1.0) < 0.75
    assert manifest["trainRmse"] < 0.5

    # Spark's recommendations minus seen items = top-2 unseen by dot product of the exported factors.
    recs = [json.loads(line) for line in (out / "recommendations.jsonl").read_text().splitlines()]
    assert {r["userId"] for r in recs} == set(SEEN)
    for rec in recs:
        user = rec["userId"]
        unseen = sorted(set(items) - SEEN[user])
        scores = {i: float(users[user] @ items[i]) for i in unseen}
        assert not set(rec["items"]) & SEEN[user]
        assert len(rec["items"]) == min(2, len(unseen))
        for item, score in zip(rec["items"], rec["scores"]):
            assert score == pytest.approx(scores[item], abs=1e-4)
        expected = sorted(unseen, key=lambda i: -scores[i])[: len(rec["items"])]
        assert [round(scores[i], 4) for i in rec["items"]] == [round(scores[i], 4) for i in expected]


def test_implicit_counts_events_and_reads_parquet(spark, tmp_path):
    # No rating column: each row is one event; (a, x) occurs three times.
    rows = [("a", "x"), ("a", "x"), ("a", "x"), ("a", "y"), ("b", "y"), ("b", "z"), ("c", "x"), ("c", "z")]
    parquet = str(tmp_path / "events.parquet")
    spark.createDataFrame(rows, ["user_id", "item_id"]).coalesce(1).write.parquet(parquet)
    out = tmp_path / "export"
    code = train_als.main(
        ["--data", parquet, "--out", str(out), "--implicit", "--rank", "2", "--iterations", "3", "--alpha", "2", "--blocks", "2", "--progress", "none"],
        spark=spark,
    )
    assert code == 0
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["model"] == "ials" and manifest["sparkParams"]["implicitPrefs"] is True
    assert manifest["input"]["format"] == "parquet"
    assert manifest["input"]["columns"]["user"] == "user_id" and manifest["input"]["columns"]["rating"] is None
    assert manifest["counts"] == {"rows": 8, "interactions": 6, "users": 3, "items": 3}
    assert "trainRmse" not in manifest
    assert set(read_factors(out / "user_factors.csv")) == {"a", "b", "c"}


def test_deduplicate_keeps_latest_rating_or_counts_events(spark):
    # (u, i) rated 2 at t=5, 4 at t=9, 3 at t=9 in a later row: the later row among the latest time wins.
    df = spark.createDataFrame(
        [("u", "i", 2.0, 5.0, 0), ("u", "i", 4.0, 9.0, 1), ("u", "i", 3.0, 9.0, 2), ("u", "j", 1.0, 1.0, 3)],
        ["userId", "itemId", train_als.R, train_als.TS, train_als.ROW],
    )
    latest = {(r.userId, r.itemId): r[train_als.R] for r in train_als.deduplicate(df, True).collect()}
    assert latest == {("u", "i"): 3.0, ("u", "j"): 1.0}
    counts = {(r.userId, r.itemId): r[train_als.R] for r in train_als.deduplicate(df, False).collect()}
    assert counts == {("u", "i"): 3.0, ("u", "j"): 1.0}


def test_index_ids_is_dense_and_one_to_one(spark):
    ids = [f"id{n}" for n in range(37)]
    pairs = spark.createDataFrame([(i,) for i in ids * 2], ["userId"]).repartition(3)
    table = {r["userId"]: r["__u"] for r in train_als.index_ids(pairs, "userId", "__u").collect()}
    assert set(table) == set(ids)
    assert sorted(table.values()) == list(range(37))


def test_missing_input_path_fails_fast_with_the_path(tmp_path):
    missing = tmp_path / "nope" / "ratings.csv"
    result = subprocess.run(
        [sys.executable, str(JOB), "--data", str(missing), "--out", str(tmp_path / "export")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert "does not exist" in result.stderr
    assert not (tmp_path / "export").exists()


def test_explicit_without_rating_column_is_a_clear_error(spark, tmp_path, capsys):
    data = write_csv(tmp_path / "events.csv", ["userId", "itemId"], [("u1", "i1"), ("u2", "i2")])
    code = train_als.main(["--data", str(data), "--out", str(tmp_path / "export"), "--progress", "none"], spark=spark)
    assert code == 2
    err = capsys.readouterr().err
    assert str(data) in err and "rating column" in err
    assert not (tmp_path / "export").exists()


def test_unparsable_rating_is_a_clear_error(spark, tmp_path, capsys):
    data = write_csv(tmp_path / "bad.csv", ["userId", "itemId", "rating"], [("u1", "i1", "4"), ("u2", "i2", "five")])
    code = train_als.main(["--data", str(data), "--out", str(tmp_path / "export"), "--progress", "none"], spark=spark)
    assert code == 2
    err = capsys.readouterr().err
    assert str(data) in err and "1 of 2 rows" in err and "not a number" in err


def test_malformed_csv_record_is_a_clear_error(spark, tmp_path, capsys):
    data = tmp_path / "ragged.csv"
    data.write_text("userId,itemId,rating\nu1,i1,4\nu2,i2,3,extra,fields\n")
    code = train_als.main(["--data", str(data), "--out", str(tmp_path / "export"), "--progress", "none"], spark=spark)
    assert code == 2
    err = capsys.readouterr().err
    assert str(data) in err and "malformed" in err.lower()


def test_uri_inputs_are_checked_through_hadoop(spark, tmp_path):
    # The check used for hdfs://, s3a://, ... URIs, exercised on the local Hadoop file system.
    write_csv(tmp_path / "part-0.csv", ["userId", "itemId"], [("u", "i")])
    train_als.check_remote_input(spark, f"file://{tmp_path}/part-*.csv")
    with pytest.raises(train_als.InputError, match="does not exist"):
        train_als.check_remote_input(spark, f"file://{tmp_path}/absent/*.csv")


# Implicit strengths with one dislike: 6 pairs of 3 users × 3 items, 5 of them positive.
IMPLICIT_ROWS = [("a", "x", "1"), ("a", "y", "2"), ("b", "y", "1"), ("b", "z", "-1"), ("c", "x", "3"), ("c", "z", "1")]


def test_ials_reg_becomes_sparks_count_scaled_reg_param(spark, tmp_path):
    # Spark regularises each row by regParam × its positive interactions, rtrec's ials by λ alone.
    # Mean positives: 5/3 per user and 5/3 per item, so λ 5 must become regParam 5 / √(5/3 · 5/3) = 3.
    data = write_csv(tmp_path / "events.csv", ["userId", "itemId", "rating"], IMPLICIT_ROWS)
    out = tmp_path / "export"
    common = ["--data", str(data), "--out", str(out), "--implicit", "--rank", "2", "--iterations", "2", "--blocks", "2", "--progress", "none"]
    assert train_als.main([*common, "--ials-reg", "5"], spark=spark) == 0
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["sparkParams"]["regParam"] == pytest.approx(3.0)
    assert manifest["hyperParameters"]["reg"] == 5.0
    assert manifest["regScale"] == {"positiveInteractions": 5, "factor": pytest.approx(5 / 3)}

    # --reg stays Spark's regParam; export.json states it in rtrec's terms too.
    assert train_als.main([*common, "--reg", "0.6"], spark=spark) == 0
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["sparkParams"]["regParam"] == 0.6
    assert manifest["hyperParameters"]["reg"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--ials-reg", "5"], "--ials-reg needs --implicit"), (["--implicit", "--reg", "1", "--ials-reg", "5"], "exclude each other")],
)
def test_ials_reg_flag_misuse_is_an_argument_error(flags, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_als.parse_args(["--data", "d.csv", "--out", "o", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_remote_out_loses_its_old_marker_before_any_table_is_written(spark, tmp_path, monkeypatch):
    # A file:// URI written the way hdfs:// and s3a:// are: through Hadoop, tables overwritten in place.
    monkeypatch.setattr(train_als, "is_local", lambda path: not path.startswith("file:"))
    data = write_csv(tmp_path / "ratings.csv", ["userId", "itemId", "rating", "timestamp"], EXPLICIT_ROWS)
    out = tmp_path / "export"
    out.mkdir()
    (out / "export.json").write_text('{"format": "rtrec-spark-export", "from": "the previous run"}')
    args = ["--data", str(data), "--out", f"file://{out}", "--rank", "2", "--iterations", "2", "--blocks", "2", "--progress", "none"]

    # The run fails after the user factors are written: the old marker must not vouch for them.
    original = train_als.ExportWriter.csv_table
    written: list[str] = []

    def fail_on_second(self, df, name, header):
        if written:
            raise RuntimeError("executor lost")
        written.append(name)
        return original(self, df, name, header)

    monkeypatch.setattr(train_als.ExportWriter, "csv_table", fail_on_second)
    with pytest.raises(RuntimeError, match="executor lost"):
        train_als.main(args, spark=spark)
    assert written == [train_als.USER_FACTORS] and (out / train_als.USER_FACTORS).is_dir()
    assert not (out / "export.json").exists()

    monkeypatch.setattr(train_als.ExportWriter, "csv_table", original)
    assert train_als.main(args, spark=spark) == 0
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["files"]["layout"] == "folder" and manifest["counts"]["users"] == 5


def test_local_out_holding_other_files_is_refused_and_kept(spark, tmp_path, capsys):
    # `--data data/ratings.csv --out data` used to replace data/, input included.
    folder = tmp_path / "data"
    folder.mkdir()
    data = write_csv(folder / "ratings.csv", ["userId", "itemId", "rating"], [("u1", "i1", "4"), ("u2", "i2", "3")])
    before = data.read_bytes()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    for out, message in [(folder, "holds the input"), (tmp_path / "notes", "not an export (todo.txt)"), (data, "is a file")]:
        code = train_als.main(["--data", str(data), "--out", str(out), "--progress", "none"], spark=spark)
        assert code == 2
        err = capsys.readouterr().err
        assert f"--out: {out}" in err and message in err
    assert data.read_bytes() == before
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "notes"]


def test_local_out_may_be_empty_or_a_previous_export(spark, tmp_path):
    data = write_csv(tmp_path / "ratings.csv", ["userId", "itemId", "rating", "timestamp"], EXPLICIT_ROWS)
    out = tmp_path / "export"
    out.mkdir()
    args = ["--data", str(data), "--out", str(out), "--rank", "2", "--iterations", "1", "--blocks", "2", "--progress", "none"]
    assert train_als.main(args, spark=spark) == 0
    first = json.loads((out / "export.json").read_text())["createdAt"]
    assert train_als.main([*args, "--seed", "3"], spark=spark) == 0
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["hyperParameters"]["seed"] == 3 and manifest["createdAt"] >= first


def test_ratings_that_are_not_finite_float32_are_rejected_with_the_first_one(spark, tmp_path, capsys):
    # 1e39 is a finite double but Infinity as the float32 Spark trains: explicit ALS then gave NaN factors.
    rows = [("u1", "i1", "4"), ("u2", "i2", "Infinity"), ("u3", "i1", "inf"), ("u4", "i2", "1e400"), ("u5", "i1", "1e39"), ("u6", "i2", "-Infinity")]
    data = write_csv(tmp_path / "ratings.csv", ["userId", "itemId", "rating"], rows)
    code = train_als.main(["--data", str(data), "--out", str(tmp_path / "export"), "--progress", "none"], spark=spark)
    assert code == 2
    err = capsys.readouterr().err
    assert str(data) in err and "5 of 6 rows" in err and "not finite" in err
    assert "userId 'u2', itemId 'i2', rating 'Infinity'" in err
    assert not (tmp_path / "export").exists()


def test_factors_that_are_not_finite_stop_the_job_before_writing(spark):
    nan, inf = float("nan"), float("inf")
    model = SimpleNamespace(
        userFactors=spark.createDataFrame([(0, [1.0, nan]), (1, [0.5, 0.5])], "id int, features array<float>"),
        itemFactors=spark.createDataFrame([(0, [inf, 0.0]), (1, [0.0, 1.0]), (2, [-inf, 1.0])], "id int, features array<float>"),
    )
    with pytest.raises(train_als.ModelFitError, match="for 1 users and 2 items"):
        train_als.check_factors(model)


def test_json_outputs_refuse_nan_instead_of_writing_it(tmp_path):
    with pytest.raises(ValueError):
        train_als.write_local_jsonl([{"userId": "u", "items": ["i"], "scores": [float("nan")]}], str(tmp_path / "recs.jsonl"))
    with pytest.raises(ValueError):
        train_als.finite_json({"trainRmse": float("nan")})


def test_remote_factor_tables_keep_spaces_around_ids(spark, tmp_path, monkeypatch):
    monkeypatch.setattr(train_als, "is_local", lambda path: not path.startswith("file:"))
    ids = [" lead", "trail ", "  both  ", "in side", " "]
    df = spark.createDataFrame([(i, 0.5) for i in ids], ["id", "f0"]).coalesce(1)
    writer = train_als.ExportWriter(f"file://{tmp_path / 'export'}", spark)
    writer.csv_table(df, train_als.USER_FACTORS, ["id", "f0"])
    rows = []
    for part in sorted((tmp_path / "export" / train_als.USER_FACTORS).glob("part-*")):
        with open(part, newline="", encoding="utf-8") as fh:
            rows += list(csv.reader(fh))[1:]
    assert sorted(row[0] for row in rows) == sorted(ids)


# Runs the job in a Python of its own that sends itself SIGTERM (as rtrec's cancel does) when the
# first factor table is about to be written, i.e. with both temporary folders in place.
TERMINATED_RUN = """
import os, signal, sys, time
sys.path.insert(0, sys.argv[1])
import train_als

def terminated(self, df, name, header):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(120)

train_als.ExportWriter.csv_table = terminated
sys.exit(train_als.main(sys.argv[2:]))
"""


def test_sigterm_removes_the_temporary_checkpoint_and_export_folders(tmp_path):
    data = write_csv(tmp_path / "ratings.csv", ["userId", "itemId", "rating", "timestamp"], EXPLICIT_ROWS)
    temp = tmp_path / "tmp"
    temp.mkdir()
    job_args = ["--data", str(data), "--out", str(tmp_path / "export"), "--rank", "2", "--iterations", "1", "--blocks", "2", "--progress", "none"]
    result = subprocess.run(
        [sys.executable, "-c", TERMINATED_RUN, str(JOB.parent), *job_args],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": str(temp)},
    )
    assert result.returncode == 128 + signal.SIGTERM, result.stderr[-2000:]
    assert not list(temp.glob("rtrec-als-checkpoints-*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ratings.csv", "tmp"]
