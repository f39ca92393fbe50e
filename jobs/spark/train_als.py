"""rtrec Spark job: trains Spark MLlib ALS (explicit or implicit) on an interaction log and writes an
export folder that `rtrec import-model` turns into an rtrec model folder.

Run it with spark-submit (the `rtrec train --engine spark` command does this for you):

    spark-submit --master 'local[*]' jobs/spark/train_als.py \\
        --data ratings.csv --out /tmp/export --rank 10 --iterations 15 --reg 0.05

Input: the canonical CSV (`userId,itemId,rating,timestamp` with a header; the same column-name
aliases as rtrec are recognised) or Parquet, from a local path or any Hadoop-supported URI.
Repeated (user, item) pairs follow rtrec's training-matrix rule: with a rating column the latest
row wins (by timestamp, then file order); without one the events are counted.

Output folder (see README.md for the exact layout):
    export.json        hyper-parameters, counts, Spark version, timings, file names
    user_factors.csv   id,f0,...,f{rank-1}   (original user ids)
    item_factors.csv   id,f0,...,f{rank-1}   (original item ids)
    recommendations.jsonl  only with --recommend-k and no --recommend-out
    precompute/            only with --precompute-k: what `rtrec publish-spark` streams into an
                           online store (user_recs.jsonl, similar_items.jsonl, items.jsonl)
To a local folder the tables are single files streamed through the driver; to a remote URI
they are folders of CSV/JSON part files written by the executors (the importer reads both).

Exit codes: 0 done, 2 bad arguments or unusable input (message on stderr naming the path),
1 anything else (Spark's own error on stderr).

One file on purpose: spark-submit ships it to a cluster as is, without --py-files, and no Python
code runs on the executors (everything is DataFrame SQL), so they need no Python packages.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Sequence
from urllib.parse import urlparse

EXPORT_FORMAT = "rtrec-spark-export"
EXPORT_FORMAT_VERSION = 1
EXPORT_FILE = "export.json"
USER_FACTORS = "user_factors.csv"
ITEM_FACTORS = "item_factors.csv"
RECOMMENDATIONS = "recommendations.jsonl"
PRECOMPUTE = "precompute"
USER_RECS = "user_recs.jsonl"
SIMILAR_ITEMS = "similar_items.jsonl"
ITEMS = "items.jsonl"
DEFAULT_MARGIN = 50
DEFAULT_REG = 0.1
DEFAULT_SIMILAR_K = 20

# The same aliases rtrec's loaders try (src/data/load-options.ts COLUMN_ALIASES), case-insensitive.
COLUMN_ALIASES = {
    "user": ["userId", "user_id", "user", "uid"],
    "item": ["itemId", "item_id", "item", "movieId", "movie_id", "iid"],
    "rating": ["rating", "ratings", "score"],
    "timestamp": ["timestamp", "time", "ts", "datetime", "date"],
}

# Internal column names, chosen not to clash with any input column. RAW_R: the rating as written.
U, I, R, TS, ROW, RAW_R = "__u", "__i", "__r", "__ts", "__row", "__raw_r"
# Spark ALS trains float32 ratings: a larger double (1e39, 1e400, Infinity) would be Infinity there.
FLOAT32_MAX = 3.4028234663852886e38


class InputError(Exception):
    """An unusable argument or input: reported as one line on stderr with exit code 2."""


class ModelFitError(Exception):
    """Spark ALS produced factors that are not finite numbers (exit code 1)."""


@dataclass(frozen=True)
class Columns:
    user: str
    item: str
    rating: str | None
    timestamp: str | None


# ---------------------------------------------------------------------------------------------
# Arguments


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="train_als.py",
        description="Train Spark MLlib ALS and write an export folder for `rtrec import-model`.",
    )
    p.add_argument("--data", required=True, help="interactions: CSV with header or Parquet; local path or Hadoop URI")
    p.add_argument("--out", required=True, help="export folder to write, replaced as a whole: a local one must be missing, empty or a previous export")
    p.add_argument("--format", choices=["auto", "csv", "parquet"], default="auto", help="input format (auto: by extension)")
    p.add_argument("--user-col", help="user id column (default: userId, user_id, user or uid)")
    p.add_argument("--item-col", help="item id column (default: itemId, item_id, item, movieId, movie_id or iid)")
    p.add_argument("--rating-col", help="rating column (default: rating, ratings or score; none: implicit counts)")
    p.add_argument("--timestamp-col", help="timestamp column (default: timestamp, time, ts, datetime or date)")
    p.add_argument("--implicit", action="store_true", help="implicit feedback (rtrec model 'ials'); default explicit ('als')")
    p.add_argument("--rank", type=positive_int, default=10, help="latent factors (Spark rank)")
    p.add_argument("--iterations", type=positive_int, default=10, help="iterations (Spark maxIter)")
    p.add_argument(
        "--reg",
        type=non_negative_float,
        help=f"L2 regularisation as Spark's regParam: each user's and item's solve uses regParam × its number of ratings (implicit: positive ones); rtrec's 'als' reg means the same (default {DEFAULT_REG})",
    )
    p.add_argument(
        "--ials-reg",
        type=non_negative_float,
        help="implicit only, instead of --reg: rtrec 'ials' λ, which is not scaled by counts; the job uses regParam = λ / √(mean positive interactions per user × per item)",
    )
    p.add_argument("--alpha", type=non_negative_float, default=1.0, help="confidence scale, implicit only (Spark alpha)")
    p.add_argument("--nonnegative", action="store_true", help="non-negative factors (Spark nonnegative)")
    p.add_argument("--seed", type=int, default=42, help="random seed (Spark seed)")
    p.add_argument("--blocks", type=positive_int, help="user and item blocks (Spark numUserBlocks/numItemBlocks; default 10)")
    p.add_argument(
        "--checkpoint-dir",
        help="checkpoint folder: ALS cuts its lineage every 10 iterations (default in local mode: a temporary folder; on a cluster give shared storage)",
    )
    p.add_argument("--recommend-k", type=positive_int, help="also write Spark's recommendForAllUsers(K)")
    p.add_argument("--recommend-out", help=f"where to write them (default: OUT/{RECOMMENDATIONS})")
    p.add_argument(
        "--recommend-exclude-seen",
        action="store_true",
        help="drop training items from the recommendations (exact: see --precompute-margin)",
    )
    p.add_argument(
        "--precompute-k",
        type=positive_int,
        help=f"precompute what `rtrec publish-spark` publishes: each user's top K without training items, similar items and popularity (into OUT/{PRECOMPUTE}/)",
    )
    p.add_argument("--similar-k", type=int, default=DEFAULT_SIMILAR_K, help=f"similar items per item by cosine of item factors (default {DEFAULT_SIMILAR_K}; 0: none)")
    p.add_argument(
        "--precompute-margin",
        type=int,
        default=DEFAULT_MARGIN,
        help=f"Spark ranks K + this many items per user before training items are removed; users left short are ranked again (default {DEFAULT_MARGIN})",
    )
    p.add_argument("--progress", choices=["text", "json", "none"], default="text", help="progress lines on stderr")
    args = p.parse_args(list(argv))
    if args.recommend_out and not args.recommend_k:
        p.error("--recommend-out needs --recommend-k")
    if args.recommend_exclude_seen and not args.recommend_k:
        p.error("--recommend-exclude-seen needs --recommend-k")
    if args.similar_k < 0 or args.precompute_margin < 0:
        p.error("--similar-k and --precompute-margin must be >= 0")
    if args.ials_reg is not None and not args.implicit:
        p.error("--ials-reg needs --implicit (explicit ALS takes --reg, scaled by counts as rtrec's 'als')")
    if args.ials_reg is not None and args.reg is not None:
        p.error("--reg and --ials-reg exclude each other (Spark's scaled regParam, or rtrec's unscaled λ)")
    return args


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


# ---------------------------------------------------------------------------------------------
# Paths: local ones are checked before Spark starts (a fast, clear error); URIs through Hadoop.


def is_local(path: str) -> bool:
    return urlparse(path).scheme in ("", "file")


def local_path(path: str) -> str:
    return urlparse(path).path if path.startswith("file:") else path


def check_local_input(path: str) -> None:
    p = local_path(path)
    if not os.path.exists(p):
        raise InputError(f"input path does not exist: {path}")
    if not os.access(p, os.R_OK):
        raise InputError(f"input path is not readable: {path}")
    if os.path.isfile(p) and os.path.getsize(p) == 0:
        raise InputError(f"input file is empty: {path}")


def hadoop_path(spark: Any, path: str) -> tuple[Any, Any]:
    """(Hadoop FileSystem, Path) of a URI, through the session's Hadoop configuration."""
    hpath = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


def check_local_out(out: str, data: str | None = None) -> None:
    """Refuses a local --out that writing the export would destroy: the export replaces the folder
    as a whole, so it must be missing, empty or a previous export (holding export.json), and must
    not hold the input. The same rule as rtrec's own outputs (src/core/atomic-fs.ts)."""
    target = os.path.abspath(local_path(out))
    if os.path.exists(target) and not os.path.isdir(target):
        raise InputError(f"argument --out: {out} is a file; give a folder")
    if data is not None and is_local(data) and os.path.commonpath([target, os.path.abspath(local_path(data))]) == target:
        raise InputError(f"argument --out: {out} holds the input {data}; the export replaces it as a whole, so give another folder")
    if not os.path.exists(target):
        return
    entries = sorted(os.listdir(target))
    if entries and EXPORT_FILE not in entries:
        shown = ", ".join(entries[:3]) + (", …" if len(entries) > 3 else "")
        raise InputError(f"argument --out: {out} holds files that are not an export ({shown}); the export replaces it as a whole, so give a new or empty folder or a previous export")


def check_remote_input(spark: Any, path: str) -> None:
    try:
        fs, hpath = hadoop_path(spark, path)
        matches = fs.globStatus(hpath)
    except Exception as err:  # Py4J wraps the Java exception; its message names the cause
        raise InputError(f"cannot open input path {path}: {first_line(err)}") from err
    if matches is None or len(matches) == 0:
        raise InputError(f"input path does not exist: {path}")


def input_format(path: str, explicit: str) -> str:
    if explicit != "auto":
        return explicit
    trimmed = path.rstrip("/")
    return "parquet" if trimmed.endswith(".parquet") or trimmed.endswith(".parq") else "csv"


def first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


# ---------------------------------------------------------------------------------------------
# Progress: step lines from the job, stage lines from Spark's status tracker.


class Reporter:
    """Writes progress to stderr as text (`rtrec-spark: ...`) or JSON lines (`RTREC_SPARK {...}`)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.lock = threading.Lock()

    def emit(self, event: str, message: str, **fields: Any) -> None:
        if self.mode == "none":
            return
        if self.mode == "json":
            line = "RTREC_SPARK " + json.dumps({"event": event, "message": message, **fields})
        else:
            line = f"rtrec-spark: {message}"
        with self.lock:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def step(self, step: str, message: str, **fields: Any) -> None:
        self.emit("step", message, step=step, **fields)


class StageWatcher(threading.Thread):
    """Polls Spark's status tracker and reports each active stage's task counts when they change."""

    def __init__(self, spark: Any, reporter: Reporter, interval: float = 0.5) -> None:
        super().__init__(name="rtrec-stage-watcher", daemon=True)
        self.tracker = spark.sparkContext.statusTracker()
        self.reporter = reporter
        self.interval = interval
        self.stopped = threading.Event()
        self.last: dict[int, tuple[int, int]] = {}

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.poll()
            except Exception:  # the tracker can race with a stopping context; progress is best-effort
                return

    def poll(self) -> None:
        active = set(self.tracker.getActiveStageIds())
        for stage_id in sorted(active | set(self.last)):
            info = self.tracker.getStageInfo(stage_id)
            if info is None:
                self.last.pop(stage_id, None)
                continue
            done = info.numCompletedTasks if stage_id in active else info.numTasks
            state = (done, info.numTasks)
            if self.last.get(stage_id) != state:
                # Names are "<operation> at <call site>"; internal closures ($anonfun...) say nothing.
                name = info.name.split(" at ")[0]
                label = f"stage {stage_id}" if name.startswith("$") else f"stage {stage_id} ({name})"
                self.reporter.emit(
                    "stage",
                    f"{label}: {done}/{info.numTasks} tasks",
                    stage=stage_id,
                    name=info.name,
                    done=done,
                    total=info.numTasks,
                )
            if stage_id in active:
                self.last[stage_id] = state
            else:
                self.last.pop(stage_id, None)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=2)


# ---------------------------------------------------------------------------------------------
# Reading and preparing the interactions


def pick_column(names: Sequence[str], explicit: str | None, aliases: Sequence[str], what: str, path: str, required: bool) -> str | None:
    if explicit is not None:
        if explicit not in names:
            raise InputError(f"{path}: no column {explicit!r} for {what} (columns: {', '.join(names)})")
        return explicit
    lower = [n.strip().lower() for n in names]
    for alias in aliases:
        if alias.lower() in lower:
            return names[lower.index(alias.lower())]
    if required:
        raise InputError(f"{path}: no {what} column; expected one of {', '.join(aliases)} or --{what}-col (columns: {', '.join(names)})")
    return None


def read_interactions(spark: Any, args: argparse.Namespace) -> tuple[Any, Columns]:
    from pyspark.sql import functions as F

    path = args.data
    fmt = input_format(path, args.format)
    try:
        if fmt == "parquet":
            raw = spark.read.parquet(path)
        else:
            # All columns as strings: ids stay exactly as written, numbers are parsed below with try_cast.
            raw = spark.read.option("header", True).option("escape", '"').option("mode", "FAILFAST").csv(path)
    except Exception as err:
        raise InputError(f"cannot read {path} as {fmt}: {first_line(err)}") from err
    names = raw.columns
    cols = Columns(
        user=pick_column(names, args.user_col, COLUMN_ALIASES["user"], "user", path, True),  # type: ignore[arg-type]
        item=pick_column(names, args.item_col, COLUMN_ALIASES["item"], "item", path, True),  # type: ignore[arg-type]
        rating=pick_column(names, args.rating_col, COLUMN_ALIASES["rating"], "rating", path, False),
        timestamp=pick_column(names, args.timestamp_col, COLUMN_ALIASES["timestamp"], "timestamp", path, False),
    )
    if not args.implicit and cols.rating is None:
        raise InputError(f"{path}: explicit ALS needs a rating column (expected one of {', '.join(COLUMN_ALIASES['rating'])} or --rating-col); use --implicit for event data")

    def number(name: str) -> Any:
        return F.expr(f"try_cast(`{name}` AS DOUBLE)")

    selected = [
        F.col(f"`{cols.user}`").cast("string").alias("userId"),
        F.col(f"`{cols.item}`").cast("string").alias("itemId"),
        (number(cols.rating) if cols.rating else F.lit(1.0)).alias(R),
        (F.col(f"`{cols.rating}`").cast("string") if cols.rating else F.lit(None).cast("string")).alias(RAW_R),
        # Unix seconds, or an ISO-8601 time as rtrec accepts; rows without one sort by file order.
        (
            F.coalesce(number(cols.timestamp), F.unix_timestamp(F.expr(f"try_to_timestamp(CAST(`{cols.timestamp}` AS STRING))")).cast("double"))
            if cols.timestamp
            else F.lit(0.0)
        ).alias(TS),
        F.monotonically_increasing_id().alias(ROW),
    ]
    return raw.select(*selected), cols


def check_rows(df: Any, cols: Columns, path: str) -> int:
    """Counts rows and rejects missing ids, and ratings that are not finite float32 numbers: an
    infinite rating turns explicit ALS's factors into NaN (one Spark pass, one more on a bad rating)."""
    from pyspark.sql import functions as F

    bad_rating = F.col(R).isNull() | F.isnan(F.col(R)) | (F.abs(F.col(R)) > F.lit(FLOAT32_MAX)) if cols.rating else F.lit(False)
    try:
        stats = df.agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum(F.when(F.col("userId").isNull() | (F.col("userId") == ""), 1).otherwise(0)).alias("no_user"),
            F.sum(F.when(F.col("itemId").isNull() | (F.col("itemId") == ""), 1).otherwise(0)).alias("no_item"),
            F.sum(F.when(bad_rating, 1).otherwise(0)).alias("bad_rating"),
        ).first()
    except Exception as err:
        # FAILFAST CSV parsing reports a malformed record only when the rows are first read, here.
        if "malformed" in str(err).lower():
            raise InputError(f"{path}: malformed CSV record: {malformed_detail(err)}") from err
        raise
    rows = int(stats["rows"])
    if rows == 0:
        raise InputError(f"{path}: no interaction rows")
    for key, what in (("no_user", f"an empty {cols.user}"), ("no_item", f"an empty {cols.item}")):
        if stats[key]:
            raise InputError(f"{path}: {stats[key]} of {rows} rows have {what}")
    if stats["bad_rating"]:
        first = df.where(bad_rating).orderBy(ROW).select("userId", "itemId", RAW_R).first()
        raise InputError(
            f"{path}: {stats['bad_rating']} of {rows} rows have a {cols.rating} that is not a number, or not finite as a float32 "
            f"(the first: {cols.user} {first['userId']!r}, {cols.item} {first['itemId']!r}, {cols.rating} {first[RAW_R]!r})"
        )
    return rows


def malformed_detail(err: BaseException) -> str:
    """The line of a Spark error that quotes the bad record, else its first line."""
    for line in str(err).splitlines():
        if "Malformed CSV record" in line or "malformed records" in line.lower():
            return line.strip()
    return first_line(err)


def deduplicate(df: Any, has_rating: bool) -> Any:
    """One row per (user, item), as rtrec's training matrix: the latest rating, or the event count."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if not has_rating:
        return df.groupBy("userId", "itemId").agg(F.count(F.lit(1)).cast("float").alias(R))
    latest = Window.partitionBy("userId", "itemId").orderBy(F.col(TS).desc(), F.col(ROW).desc())
    return (
        df.withColumn("__rank", F.row_number().over(latest))
        .where(F.col("__rank") == 1)
        .select("userId", "itemId", F.col(R).cast("float").alias(R))
    )


def index_ids(pairs: Any, column: str, index: str) -> Any:
    """Dense int index (0..n-1) per distinct id, as ALS needs ints; the table maps it back to the id.

    Like RDD.zipWithIndex but in SQL only, so no Python worker ever starts: tag each distinct id
    with its partition and monotonically_increasing_id (partition << 33 + position), pin that with a
    local checkpoint so it cannot be recomputed differently, and add each partition's offset."""
    from pyspark.sql import functions as F

    tagged = (
        pairs.select(column)
        .distinct()
        .select(column, F.spark_partition_id().alias("__pid"), F.monotonically_increasing_id().alias("__mid"))
        .localCheckpoint(eager=True)
    )
    offsets: list[Any] = []
    total = 0
    for row in sorted(tagged.groupBy("__pid").count().collect()):
        offsets += [F.lit(row["__pid"]), F.lit(total)]
        total += row["count"]
    if total >= 2**31:
        raise InputError(f"{total} distinct values of {column}: Spark ALS indexes them with 32-bit ints")
    position = F.col("__mid") - F.shiftleft(F.col("__pid").cast("long"), 33)
    return tagged.select(column, (F.create_map(*offsets)[F.col("__pid")] + position).cast("int").alias(index)).cache()


@dataclass(frozen=True)
class Regularisation:
    """Spark's regParam, and the same penalty in rtrec's terms (export.json hyperParameters.reg)."""

    spark: float
    rtrec: float
    # Implicit only: √(mean positive interactions per user × per item), rtrec λ = regParam × this.
    scale: float | None = None
    positives: int | None = None


def regularisation(args: argparse.Namespace, pairs: Any, num_users: int, num_items: int) -> Regularisation:
    """Spark's regParam from --reg or --ials-reg, and its equivalent in rtrec's terms.

    Explicit: rtrec's 'als' scales reg by counts exactly as Spark does, so the two are equal.
    Implicit: Spark's solve regularises each user or item with regParam × its positive interactions
    (ALS.computeFactors: numExplicits × regParam), rtrec's 'ials' all with one λ; passing λ as
    regParam over-regularises by the count (rtrec's default 50 flattens the factors). With every
    count at its mean the Spark penalty is regParam·(n̄_u‖X‖² + n̄_i‖Y‖²); scaling X by s and Y by 1/s
    changes no score, and at the best s it equals regParam·√(n̄_u·n̄_i)·(‖X‖² + ‖Y‖²): rtrec's
    objective with λ = regParam·√(n̄_u·n̄_i). Heavy rows are still regularised more than in rtrec."""
    from pyspark.sql import functions as F

    if not args.implicit:
        reg = DEFAULT_REG if args.reg is None else args.reg
        return Regularisation(spark=reg, rtrec=reg)
    positives = pairs.where(F.col(R) > 0).count()
    scale = positives / math.sqrt(num_users * num_items)
    if args.ials_reg is None:
        spark_reg = DEFAULT_REG if args.reg is None else args.reg
        return Regularisation(spark=spark_reg, rtrec=spark_reg * scale, scale=scale, positives=positives)
    # Without positive interactions Spark's per-row penalty is 0 whatever regParam is.
    spark_reg = args.ials_reg / scale if scale > 0 else args.ials_reg
    return Regularisation(spark=spark_reg, rtrec=args.ials_reg, scale=scale, positives=positives)


# ---------------------------------------------------------------------------------------------
# Writing the export


def factor_table(factors: Any, ids: Any, index: str, id_column: str, rank: int) -> Any:
    from pyspark.sql import functions as F

    joined = factors.join(ids, factors["id"] == ids[index]).select(F.col(id_column).alias("id"), "features")
    return joined.select("id", *[F.col("features")[j].alias(f"f{j}") for j in range(rank)])


def finite_json(value: Any, **options: Any) -> str:
    """json.dumps refusing NaN and Infinity (ValueError), which it would write as bare NaN: not JSON."""
    return json.dumps(value, allow_nan=False, **options)


def check_factors(model: Any) -> None:
    """Refuses factors holding NaN or an infinite value, before anything is written: every score
    and similarity computed from them would be NaN, in files no reader accepts (one Spark pass)."""
    from pyspark.sql import functions as F

    def not_finite(factors: Any) -> int:
        return factors.where(F.exists("features", lambda x: F.isnan(x) | (F.abs(x) == F.lit(float("inf"))))).count()

    users, items = not_finite(model.userFactors), not_finite(model.itemFactors)
    if users or items:
        raise ModelFitError(f"Spark ALS produced factors that are not finite numbers for {users} users and {items} items; nothing was written")


def write_local_csv(rows: Iterable[Any], header: Sequence[str], path: str) -> int:
    """Streams rows through the driver into one CSV file; floats with 9 significant digits (exact for float32)."""
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([row[0], *(format(x, ".9g") for x in row[1:])])
            count += 1
    return count


def write_local_jsonl(rows: Iterable[Any], path: str) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(finite_json({"userId": row["userId"], "items": list(row["items"]), "scores": [float(format(s, ".9g")) for s in row["scores"]]}))
            fh.write("\n")
            count += 1
    return count


def top_unseen(model: Any, pairs: Any, k: int, margin: int, num_items: int) -> tuple[Any, dict[str, int]]:
    """Each user's top k items without their training items, exactly: rows (U, pos, I, score), pos
    0-based best first, from Spark's blocked recommendForAllUsers.

    Spark ranks k + margin items per user and the training items are removed from those. A user
    with at most `margin` training items keeps at least k, and they are the top k unseen. A user
    left with fewer than k (more than `margin` of their training items ranked high) is ranked again
    with recommendForUserSubset(k + the largest history among such users), which again holds k
    unseen items. The users ranked again are usually few, so one heavy user no longer makes every
    user's list long (asking everyone for k + the largest history did)."""
    from pyspark.sql import functions as F

    def ranked(recs: Any) -> Any:
        exploded = recs.select(F.col(U), F.posexplode("recommendations").alias("pos", "rec")).select(
            U, F.col("rec").getField(I).alias(I), F.col("rec.rating").alias("score"), "pos"
        )
        return exploded.join(pairs.select(U, I), [U, I], "left_anti")

    ask = min(k + margin, num_items)
    first = ranked(model.recommendForAllUsers(ask)).cache()
    history = pairs.groupBy(U).agg(F.count(F.lit(1)).alias("seen"))
    kept = first.groupBy(U).agg(F.count(F.lit(1)).alias("kept"))
    # Short: fewer than k kept although unseen items exist beyond the ask (so a longer list has more).
    short = (
        history.join(kept, U, "left")
        .where((F.coalesce(F.col("kept"), F.lit(0)) < F.lit(k)) & (F.lit(ask) < F.lit(num_items)) & (F.col("seen") > F.lit(margin)))
        .select(U, "seen")
        .cache()
    )
    stats = short.agg(F.count(F.lit(1)).alias("n"), F.max("seen").alias("largest")).first()
    rescored = int(stats["n"])
    result = first
    second_ask = 0
    if rescored > 0:
        second_ask = min(k + int(stats["largest"]), num_items)
        again = ranked(model.recommendForUserSubset(short.select(U), second_ask))
        result = first.join(short.select(U), U, "left_anti").unionByName(again)
    short.unpersist()
    info = {"askedSpark": ask, "usersRankedAgain": rescored, "askedSparkAgain": second_ask}
    return result, info


def best_first(rows: Any, id_col: str, k: int) -> Any:
    """Groups (id_col, pos, itemId, score) rows into one row per id: recs = the k best by pos."""
    from pyspark.sql import functions as F

    return (
        rows.groupBy(id_col)
        .agg(F.array_sort(F.collect_list(F.struct("pos", "itemId", "score"))).alias("recs"))
        .select(id_col, F.slice("recs", 1, k).alias("recs"))
    )


def recommendations(model: Any, pairs: Any, users: Any, items: Any, k: int, exclude_seen: bool, num_items: int, margin: int) -> tuple[Any, dict[str, int]]:
    """Spark's recommendForAllUsers with original ids: rows (userId, items[], scores[]), best first."""
    from pyspark.sql import functions as F

    if exclude_seen:
        exploded, info = top_unseen(model, pairs, k, margin, num_items)
    else:
        recs = model.recommendForAllUsers(k)
        exploded = recs.select(F.col(U), F.posexplode("recommendations").alias("pos", "rec")).select(
            U, "pos", F.col("rec").getField(I).alias(I), F.col("rec.rating").alias("score")
        )
        info = {"askedSpark": k}
    named = exploded.join(items, I).join(users, U).select("userId", "pos", "itemId", "score")
    ranked = best_first(named, "userId", k).select("userId", F.col("recs.itemId").alias("items"), F.col("recs.score").alias("scores"))
    return ranked, info


# ---------------------------------------------------------------------------------------------
# Precompute for `rtrec publish-spark`: every list is scored on the cluster; the export holds JSON
# lines built in SQL, so executors write them without Python and the driver only streams text.


def json_string(col: Any) -> Any:
    """A string column as a JSON string literal (quoted and escaped by Spark's own to_json)."""
    from pyspark.sql import functions as F

    # (?s): to_json leaves U+0085, U+2028 and U+2029 unescaped, and Java's '.' stops at them.
    return F.regexp_extract(F.to_json(F.array(col)), r"(?s)^\[(.*)\]$", 1)


def list_lines(ranked: Any, id_col: str, key: str) -> Any:
    """One JSON text per row: {"<key>": id, "items": [["itemId", score], ...]} from (id_col, recs)."""
    from pyspark.sql import functions as F

    # float -> string is Java's shortest representation that reads back to the same float32.
    pair = lambda r: F.concat(F.lit("["), json_string(r["itemId"]), F.lit(","), r["score"].cast("float").cast("string"), F.lit("]"))  # noqa: E731
    return ranked.select(
        F.concat(F.lit(f'{{"{key}":'), json_string(F.col(id_col)), F.lit(',"items":['), F.array_join(F.transform("recs", pair), ","), F.lit("]}")).alias("value")
    )


def normalised(factors: Any) -> Any:
    """Item factors scaled to unit length (zero vectors stay zero: cosine 0, as rtrec scores them)."""
    from pyspark.sql import functions as F

    norm = F.sqrt(F.aggregate("features", F.lit(0.0).cast("double"), lambda acc, x: acc + x * x))
    unit = F.transform("features", lambda x: (x / norm).cast("float"))
    zero = F.transform("features", lambda x: F.lit(0.0).cast("float"))
    return factors.select("id", F.when(norm > 0, unit).otherwise(zero).alias("features"))


def similar_items(spark: Any, model: Any, rank: int, s: int, num_items: int) -> Any:
    """Each item's s most similar other items by cosine of item factors: rows (I, pos, I2, score).

    Spark's own blocked cross join does the work: an ALSModel whose user and item factors are both
    the unit item vectors ranks, for every item, the items with the largest dot product = cosine,
    through recommendForAllUsers (blocks of items multiplied with gemm, top-k kept per block)."""
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import functions as F

    unit = normalised(model.itemFactors).cache()
    jvm = spark.sparkContext._jvm
    # The Scala constructor is private[ml], which the JVM does not enforce: Py4J can call it.
    java_model = jvm.org.apache.spark.ml.recommendation.ALSModel("rtrec-similar", rank, unit._jdf, unit._jdf)
    java_model.setUserCol(I).setItemCol("__j")
    recs = ALSModel(java_model).recommendForAllUsers(min(s + 1, num_items))
    return recs.select(F.col(I), F.posexplode("recommendations").alias("pos", "rec")).select(
        I, "pos", F.col("rec.__j").alias("__j"), F.col("rec.rating").alias("score")
    ).where(F.col("__j") != F.col(I))


def precompute(spark: Any, model: Any, pairs: Any, users: Any, items: Any, args: argparse.Namespace, num_items: int, writer: "ExportWriter", reporter: Reporter) -> dict[str, Any]:
    """Writes OUT/precompute/: user_recs.jsonl, similar_items.jsonl, items.jsonl; returns export.json's files.precompute."""
    from pyspark.sql import functions as F

    k, s = args.precompute_k, args.similar_k
    reporter.step("precompute", f"top {k} per user without training items (Spark ranks {k} + {args.precompute_margin})")
    rows, info = top_unseen(model, pairs, k, args.precompute_margin, num_items)
    named = rows.join(items, I).join(users, U).select("userId", "pos", "itemId", "score")
    user_count = writer.jsonl_text(list_lines(best_first(named, "userId", k), "userId", "userId"), f"{PRECOMPUTE}/{USER_RECS}")

    similar_count = 0
    if s > 0:
        reporter.step("precompute", f"{s} similar items per item (cosine of item factors)")
        sims = similar_items(spark, model, args.rank, s, num_items)
        other = items.select(F.col(I).alias("__j"), F.col("itemId").alias("otherId"))
        named_sims = sims.join(other, "__j").join(items, I).select("itemId", "pos", F.col("otherId"), "score")
        grouped = (
            named_sims.groupBy("itemId")
            .agg(F.array_sort(F.collect_list(F.struct("pos", F.col("otherId").alias("itemId"), "score"))).alias("recs"))
            .select(F.col("itemId").alias("subjectId"), F.slice("recs", 1, s).alias("recs"))
        )
        similar_count = writer.jsonl_text(list_lines(grouped, "subjectId", "itemId"), f"{PRECOMPUTE}/{SIMILAR_ITEMS}")

    reporter.step("precompute", "popularity: distinct users per item")
    popularity = pairs.groupBy(I).agg(F.count(F.lit(1)).alias("users")).join(items, I)
    item_lines = popularity.select(
        F.concat(F.lit('{"itemId":'), json_string(F.col("itemId")), F.lit(',"users":'), F.col("users").cast("string"), F.lit("}")).alias("value")
    )
    item_count = writer.jsonl_text(item_lines, f"{PRECOMPUTE}/{ITEMS}")
    return {
        "k": k,
        "similarK": s,
        "margin": args.precompute_margin,
        **info,
        "userRecs": f"{PRECOMPUTE}/{USER_RECS}",
        **({"similarItems": f"{PRECOMPUTE}/{SIMILAR_ITEMS}"} if s > 0 else {}),
        "items": f"{PRECOMPUTE}/{ITEMS}",
        # -1 when executors wrote the tables (remote output): counts were not taken on the driver.
        "counts": {"userRecs": user_count, "similarItems": similar_count, "items": item_count},
    }


class ExportWriter:
    """Writes into a temporary sibling folder and renames it into place (local), or straight to the
    URI (remote). Either way export.json, the mark of a complete export, is written last."""

    def __init__(self, out: str, spark: Any) -> None:
        self.out = out
        self.spark = spark
        self.local = is_local(out)
        if self.local:
            target = os.path.abspath(local_path(out))
            self.target = target
            self.dir = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.tmp-{os.getpid()}")
            shutil.rmtree(self.dir, ignore_errors=True)
            os.makedirs(self.dir)
        else:
            self.target = out.rstrip("/")
            self.dir = self.target
            # Tables are overwritten in place: a previous export's marker must go before the first
            # one, or a run failing half-way leaves old and new tables that look complete.
            fs, marker = hadoop_path(spark, self.path(EXPORT_FILE))
            fs.delete(marker, False)

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name) if self.local else f"{self.dir}/{name}"

    def csv_table(self, df: Any, name: str, header: Sequence[str]) -> int:
        if self.local:
            return write_local_csv(df.toLocalIterator(), header, self.path(name))
        # Spark's CSV writer trims ids by default (its reader does not): " a" would come back as "a".
        (
            df.write.mode("overwrite")
            .option("header", True)
            .option("escape", '"')
            .option("ignoreLeadingWhiteSpace", False)
            .option("ignoreTrailingWhiteSpace", False)
            .csv(self.path(name))
        )
        return -1

    def jsonl_table(self, df: Any, path: str) -> int:
        if is_local(path):
            target = os.path.abspath(local_path(path))
            tmp = f"{target}.tmp-{os.getpid()}"
            count = write_local_jsonl(df.toLocalIterator(), tmp)
            os.replace(tmp, target)
            return count
        df.write.mode("overwrite").json(path)
        return -1

    def jsonl_text(self, df: Any, name: str) -> int:
        """Writes a one-column ("value") DataFrame of JSON texts as JSON lines: one file streamed
        through the driver (local), or a folder of part files written by the executors (remote)."""
        path = self.path(name)
        if self.local:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            count = 0
            with open(path, "w", encoding="utf-8") as fh:
                for row in df.toLocalIterator():
                    fh.write(row[0])
                    fh.write("\n")
                    count += 1
            return count
        df.write.mode("overwrite").text(path)
        return -1

    def finish(self, manifest: dict[str, Any]) -> None:
        text = finite_json(manifest, indent=2) + "\n"
        if not self.local:
            # export.json last: its presence marks a complete export.
            fs, hpath = hadoop_path(self.spark, self.path(EXPORT_FILE))
            stream = fs.create(hpath, True)
            stream.write(bytearray(text.encode("utf-8")))
            stream.close()
            return
        with open(self.path(EXPORT_FILE), "w", encoding="utf-8") as fh:
            fh.write(text)
        # Checked before Spark started too; again here, as the folder may have changed since.
        check_local_out(self.out)
        old = f"{self.dir}.old"
        if os.path.exists(self.target):
            os.replace(self.target, old)
        os.replace(self.dir, self.target)
        shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        if self.local:
            shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The job


class Timings:
    """Seconds per step, as export.json reports them."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.values: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.values[name] = round(now - self.last, 3)
        self.last = now

    def total(self) -> float:
        self.values["totalSeconds"] = round(time.perf_counter() - self.started, 3)
        return self.values["totalSeconds"]


def run(args: argparse.Namespace, spark: Any, reporter: Reporter) -> dict[str, Any]:
    """Checks the input, sets up checkpoints, trains and writes the export; returns export.json's content."""
    timings = Timings()
    if not is_local(args.data):
        check_remote_input(spark, args.data)
    checkpoint_dir = args.checkpoint_dir
    temporary_checkpoints = None
    if checkpoint_dir is None and spark.sparkContext.master.startswith("local"):
        # Without checkpoints the lineage grows with every iteration and deserialising a task can
        # overflow an executor thread's stack (fatal: the JVM exits); a local folder serves local mode.
        temporary_checkpoints = tempfile.mkdtemp(prefix="rtrec-als-checkpoints-")
        checkpoint_dir = temporary_checkpoints
    if checkpoint_dir:
        spark.sparkContext.setCheckpointDir(checkpoint_dir)
    try:
        return train_and_export(args, spark, reporter, timings)
    finally:
        if temporary_checkpoints:
            shutil.rmtree(temporary_checkpoints, ignore_errors=True)


def train_and_export(args: argparse.Namespace, spark: Any, reporter: Reporter, timings: Timings) -> dict[str, Any]:
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F


    reporter.step("read", f"reading {args.data}")
    df, cols = read_interactions(spark, args)
    rows = check_rows(df, cols, args.data)
    timings.lap("readSeconds")

    reporter.step("prepare", f"{rows} rows read; merging repeated pairs and indexing ids")
    pairs_by_id = deduplicate(df, cols.rating is not None).cache()
    users = index_ids(pairs_by_id, "userId", U)
    items = index_ids(pairs_by_id, "itemId", I)
    pairs = pairs_by_id.join(users, "userId").join(items, "itemId").select(U, I, R).cache()
    num_pairs = pairs.count()
    num_users, num_items = users.count(), items.count()
    pairs_by_id.unpersist()
    timings.lap("prepareSeconds")

    reg = regularisation(args, pairs, num_users, num_items)
    model_type = "ials" if args.implicit else "als"
    reporter.step(
        "fit",
        f"training {model_type} (Spark ALS rank {args.rank}, maxIter {args.iterations}, regParam {reg.spark:.4g}) on {num_pairs} pairs, {num_users} users, {num_items} items",
        users=num_users,
        items=num_items,
        interactions=num_pairs,
    )
    als = ALS(
        rank=args.rank,
        maxIter=args.iterations,
        regParam=reg.spark,
        alpha=args.alpha,
        nonnegative=args.nonnegative,
        seed=args.seed,
        implicitPrefs=args.implicit,
        userCol=U,
        itemCol=I,
        ratingCol=R,
        coldStartStrategy="nan",
    )
    if args.blocks:
        als = als.setNumUserBlocks(args.blocks).setNumItemBlocks(args.blocks)
    model = als.fit(pairs)
    check_factors(model)
    timings.lap("fitSeconds")

    train_rmse = None
    if not args.implicit:
        err = model.transform(pairs).select(F.sqrt(F.avg((F.col(R) - F.col("prediction")) ** 2))).first()[0]
        train_rmse = float(err) if err is not None else None

    reporter.step("write", f"writing factors to {args.out}")
    writer = ExportWriter(args.out, spark)
    try:
        header = ["id", *[f"f{j}" for j in range(args.rank)]]
        written_users = writer.csv_table(factor_table(model.userFactors, users, U, "userId", args.rank), USER_FACTORS, header)
        written_items = writer.csv_table(factor_table(model.itemFactors, items, I, "itemId", args.rank), ITEM_FACTORS, header)
        timings.lap("writeSeconds")

        recs_info = None
        if args.recommend_k:
            recs_out = args.recommend_out or writer.path(RECOMMENDATIONS)
            shown = args.recommend_out or f"{args.out.rstrip('/')}/{RECOMMENDATIONS}"
            reporter.step("recommend", f"recommendForAllUsers({args.recommend_k}){' without seen items' if args.recommend_exclude_seen else ''} → {shown}")
            ranked, asked = recommendations(model, pairs, users, items, args.recommend_k, args.recommend_exclude_seen, num_items, args.precompute_margin)
            written = writer.jsonl_table(ranked, recs_out)
            recs_info = {
                "k": args.recommend_k,
                "excludeSeen": args.recommend_exclude_seen,
                **asked,
                "path": RECOMMENDATIONS if args.recommend_out is None else args.recommend_out,
                "users": written,
            }
            timings.lap("recommendSeconds")

        precompute_info = None
        if args.precompute_k:
            precompute_info = precompute(spark, model, pairs, users, items, args, num_items, writer, reporter)
            timings.lap("precomputeSeconds")

        if writer.local and (written_users != num_users or written_items != num_items):
            raise RuntimeError(f"wrote {written_users} user and {written_items} item factor rows, expected {num_users} and {num_items}")
        total = timings.total()
        manifest: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "formatVersion": EXPORT_FORMAT_VERSION,
            "model": model_type,
            "implicit": bool(args.implicit),
            "hyperParameters": {
                "rank": args.rank,
                "iterations": args.iterations,
                "reg": reg.rtrec,
                "alpha": args.alpha,
                "nonnegative": bool(args.nonnegative),
                "seed": args.seed,
            },
            "sparkParams": {
                "rank": args.rank,
                "maxIter": args.iterations,
                "regParam": reg.spark,
                "alpha": args.alpha,
                "nonnegative": bool(args.nonnegative),
                "seed": args.seed,
                "implicitPrefs": bool(args.implicit),
                "numUserBlocks": als.getNumUserBlocks(),
                "numItemBlocks": als.getNumItemBlocks(),
            },
            "input": {
                "path": args.data,
                "format": input_format(args.data, args.format),
                "columns": {"user": cols.user, "item": cols.item, "rating": cols.rating, "timestamp": cols.timestamp},
                "duplicates": "latest" if cols.rating else "count",
            },
            "counts": {"rows": rows, "interactions": num_pairs, "users": num_users, "items": num_items},
            "files": {
                "userFactors": USER_FACTORS,
                "itemFactors": ITEM_FACTORS,
                "layout": "file" if writer.local else "folder",
                **({"recommendations": recs_info} if recs_info else {}),
                **({"precompute": precompute_info} if precompute_info else {}),
            },
            **({"regScale": {"positiveInteractions": reg.positives, "factor": reg.scale}} if reg.scale is not None else {}),
            **({"trainRmse": train_rmse} if train_rmse is not None else {}),
            "spark": {
                "version": spark.version,
                "master": spark.sparkContext.master,
                "defaultParallelism": spark.sparkContext.defaultParallelism,
            },
            "timings": timings.values,
            "createdAt": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        writer.finish(manifest)
    except BaseException:
        writer.abort()
        raise
    reporter.step("done", f"done in {total:.1f} s → {args.out}", seconds=total)
    return manifest


def tune_local(spark: Any) -> None:
    """In local mode, shuffles into as many partitions as cores unless the user chose a number:
    Spark's default of 200 makes small jobs spend most of their time scheduling empty tasks."""
    conf = spark.sparkContext.getConf()
    if spark.sparkContext.master.startswith("local") and not conf.contains("spark.sql.shuffle.partitions"):
        spark.conf.set("spark.sql.shuffle.partitions", str(spark.sparkContext.defaultParallelism))


@contextmanager
def terminate_as_exit() -> Iterator[None]:
    """Turns SIGTERM into SystemExit while the job runs, so its finally blocks remove the temporary
    checkpoint and export folders: rtrec cancels a run with SIGTERM to spark-submit's process group,
    and Python's default is to die on the spot. The previous handler is put back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def exit_now(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_now)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None, spark: Any = None) -> int:
    """Entry point. `spark`: an existing session to use (tests); otherwise one is created and stopped."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    reporter = Reporter(args.progress)
    try:
        if is_local(args.data):
            check_local_input(args.data)
        if is_local(args.out):
            check_local_out(args.out, args.data)
    except InputError as err:
        print(f"train_als.py: error: {err}", file=sys.stderr)
        return 2

    with terminate_as_exit():
        return run_with_session(args, spark, reporter)


def run_with_session(args: argparse.Namespace, spark: Any, reporter: Reporter) -> int:
    """Runs the job in `spark`, or in a session of its own (created, then stopped); returns the exit code."""
    owns_session = spark is None
    if owns_session:
        from pyspark.sql import SparkSession

        reporter.step("start", "starting Spark")
        # The job reports stage progress itself; Spark's own bar would interleave with it.
        spark = SparkSession.builder.appName("rtrec-train-als").config("spark.ui.showConsoleProgress", "false").getOrCreate()
    tune_local(spark)
    watcher = StageWatcher(spark, reporter) if args.progress != "none" else None
    if watcher:
        watcher.start()
    try:
        run(args, spark, reporter)
        return 0
    except InputError as err:
        print(f"train_als.py: error: {err}", file=sys.stderr)
        return 2
    finally:
        if watcher:
            watcher.stop()
        if owns_session:
            spark.stop()


if __name__ == "__main__":
    sys.exit(main())
