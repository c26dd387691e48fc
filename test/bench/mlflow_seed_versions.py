"""Seed an MLflow server (SQLite backend) with many model versions, fast.

Usage: python mlflow_seed_versions.py TRACKING_URI SQLITE_DB MODELS VERSIONS_PER_MODEL

Each registered model and its version 1 are created through the official client, so every
column holds what MLflow itself writes; versions 2..N are copies of version 1's row inserted
straight into the server's SQLite store (through the REST API 10,000 versions take a quarter
of an hour on a busy machine). Every tenth version gets a tag, the latest of each model the
`champion` alias (through the client). Prints one JSON line: {"versions": N, "seconds": S}.
"""

import json
import sqlite3
import sys
import time

from mlflow import MlflowClient


def main():
    uri, db, models, per_model = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    client = MlflowClient(tracking_uri=uri)
    t0 = time.perf_counter()
    names = [f"bench-model-{m:03d}" for m in range(models)]
    for name in names:
        client.create_registered_model(name, tags={"team": "bench"})
        client.create_model_version(name, source=f"s3://sealgate-bench/{name}/1/model", description="version 1")
    con = sqlite3.connect(db, timeout=60)
    con.row_factory = sqlite3.Row
    with con:
        for name in names:
            first = dict(con.execute("SELECT * FROM model_versions WHERE name = ? AND version = 1", (name,)).fetchone())
            cols = list(first)
            rows, tags = [], []
            for v in range(2, per_model + 1):
                row = dict(first, version=v, description=f"version {v}", source=f"s3://sealgate-bench/{name}/{v}/model")
                row["creation_time"] = row["last_updated_time"] = first["creation_time"] + v
                rows.append(tuple(row[c] for c in cols))
                if v % 10 == 0:
                    tags.append((first["workspace"], name, v, "sealgate.bench", str(v)))
            con.executemany(
                f"INSERT INTO model_versions ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})", rows
            )
            con.executemany(
                "INSERT INTO model_version_tags (workspace, name, version, key, value) VALUES (?, ?, ?, ?, ?)", tags
            )
    con.close()
    for name in names:
        client.set_registered_model_alias(name, "champion", str(per_model))
    print(json.dumps({"versions": models * per_model, "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
