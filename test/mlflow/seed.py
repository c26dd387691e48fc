"""Seed a real MLflow server through the official MLflow Python client.

Writes a JSON manifest of what it created to stdout (last line) so tests can
assert against facts instead of guessing. Shapes follow what production
registries hold: MLflow 3 logged models (source models:/m-...), run-artifact
sources with nested folders, datasets logged with mlflow.data in eval and
training contexts, a SHAP-style explanation plot, tags and aliases, and one
model with more versions than a page holds.

Usage: python seed.py TRACKING_URI WORKDIR [--big-mb N] [--many N]
"""

import argparse
import hashlib
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.models import infer_signature  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def credit_frame(rng, n, features):
    data = {f: rng.normal(size=n) for f in features}
    df = pd.DataFrame(data)
    df["label"] = (df[features[0]] + 0.5 * df[features[1]] + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return df


def shap_plot(path, features, importances, title):
    """A SHAP-style mean(|SHAP value|) bar chart, the picture an approver looks at."""
    order = np.argsort(importances)
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.barh([features[i] for i in order], [importances[i] for i in order], color="#1f77b4")
    ax.set_xlabel("mean(|SHAP value|) (average impact on model output)")
    ax.set_title(title)
    fig.tight_layout()
    # Fixed metadata so the same seed draws the same bytes.
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)


def log_eval(df_eval, df_train, workdir, tag):
    eval_path = os.path.join(workdir, f"eval-{tag}.csv")
    train_path = os.path.join(workdir, f"train-{tag}.csv")
    df_eval.to_csv(eval_path, index=False)
    df_train.to_csv(train_path, index=False)
    eval_ds = mlflow.data.from_pandas(df_eval, source=eval_path, name=f"eval_{tag}", targets="label")
    train_ds = mlflow.data.from_pandas(df_train, source=train_path, name=f"train_{tag}", targets="label")
    mlflow.log_input(eval_ds, context="eval")
    mlflow.log_input(train_ds, context="training")
    # The dataset's bytes live beside the run so sealgate can content-address them.
    mlflow.log_artifact(eval_path, "datasets")
    mlflow.log_artifact(train_path, "datasets")
    return {"eval": sha256_file(eval_path), "train": sha256_file(train_path)}


def seed_credit_risk(client, workdir, rng, out):
    """MLflow 3 logged models: sklearn flavor, input signature, eval datasets, explanation plot."""
    name = "credit-risk"
    client.create_registered_model(name, description="Retail credit default model", tags={"team": "risk"})
    versions = []
    specs = [
        ("logreg", ["income", "debt_ratio", "age", "utilization"], LogisticRegression(max_iter=200)),
        ("logreg", ["income", "debt_ratio", "age", "utilization"], LogisticRegression(max_iter=300, C=0.5)),
        ("naive-bayes", ["income", "debt_ratio", "age", "utilization", "tenure_months"], GaussianNB()),
    ]
    mlflow.set_experiment("credit-risk")
    for i, (kind, features, model) in enumerate(specs, start=1):
        df = credit_frame(rng, 400, features)
        train, ev = df.iloc[:300], df.iloc[300:]
        with mlflow.start_run(run_name=f"credit-risk-{i}") as run:
            model.fit(train[features], train["label"])
            acc = float((model.predict(ev[features]) == ev["label"]).mean())
            mlflow.log_params({"model_class": kind, "n_features": len(features)})
            mlflow.log_metrics({"accuracy": acc, "auc": min(0.99, acc + 0.05), "psi": 0.02 * i})
            digests = log_eval(ev, train, workdir, f"credit{i}")
            png = os.path.join(workdir, f"shap-credit-{i}.png")
            shap_plot(png, features, list(np.abs(rng.normal(size=len(features)))), f"credit-risk v{i}")
            mlflow.log_artifact(png, "explanations")
            sig = infer_signature(train[features], model.predict(train[features]))
            info = mlflow.sklearn.log_model(model, name="model", signature=sig, input_example=train[features].head(2))
            mv = client.create_model_version(
                name, info.model_uri, run_id=run.info.run_id, tags={"model_class": kind}, model_id=info.model_id
            )
        versions.append(
            {
                "version": mv.version,
                "run_id": run.info.run_id,
                "source": mv.source,
                "features": features,
                "eval_csv_sha256": digests["eval"],
                "shap_png_sha256": sha256_file(png),
            }
        )
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", "3")
    client.set_model_version_tag(name, "3", "validation_status", "pending")
    out["models"][name] = {"versions": versions, "aliases": {"champion": "1", "challenger": "3"}}


def oms_root(model_dir):
    """The OpenSSF model-signing digest of a folder, computed by the reference implementation."""
    from model_signing import hashing
    from model_signing._signing.signing import Payload

    return Payload(hashing.hash(model_dir)).statement.pb.subject[0].digest["sha256"]


def write_model_dir(root, big_mb):
    """A model folder of realistic shape: MLmodel, nested weights, empty file, Unicode name, one big file."""
    os.makedirs(os.path.join(root, "weights", "layer0"), exist_ok=True)
    os.makedirs(os.path.join(root, "tokenizer"), exist_ok=True)
    with open(os.path.join(root, "MLmodel"), "w") as f:
        f.write(
            "artifact_path: model\n"
            "flavors:\n"
            "  python_function:\n"
            "    loader_module: fraud.loader\n"
            "    python_version: 3.11.7\n"
            "  onnx:\n"
            "    onnx_version: 1.16.0\n"
            "    data: weights/model.onnx\n"
            "signature:\n"
            "  inputs: '[{\"type\": \"double\", \"name\": \"amount\", \"required\": true}, "
            "{\"type\": \"long\", \"name\": \"merchant_category\", \"required\": true}, "
            "{\"type\": \"double\", \"name\": \"velocity_1h\", \"required\": true}]'\n"
            "  outputs: '[{\"type\": \"double\", \"required\": true}]'\n"
        )
    small = np.random.default_rng(7)
    with open(os.path.join(root, "weights", "layer0", "dense.bin"), "wb") as f:
        f.write(small.bytes(3 * 1024 * 1024 + 17))
    with open(os.path.join(root, "weights", "model.onnx"), "wb") as f:
        f.write(small.bytes(512 * 1024))
    with open(os.path.join(root, "tokenizer", "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(["[PAD]", "[UNK]", "Zoë", "Ångström", "李雷"]) + "\n")
    with open(os.path.join(root, "tokenizer", "merges-ü.txt"), "w", encoding="utf-8") as f:
        f.write("ü ber\n")
    open(os.path.join(root, "weights", "EMPTY"), "wb").close()
    big = os.path.join(root, "weights", "shard-00001.bin")
    h = hashlib.sha256()
    block = np.random.default_rng(11).bytes(1 << 20)
    with open(big, "wb") as f:
        for i in range(big_mb):
            # Vary each MiB so no block repeats (a streaming bug that drops or repeats a chunk changes the digest).
            chunk = i.to_bytes(8, "big") + block[8:]
            f.write(chunk)
            h.update(chunk)
    return {"big_file": "weights/shard-00001.bin", "big_size": big_mb << 20, "big_sha256": h.hexdigest()}


def seed_fraud(client, workdir, big_mb, out):
    """Run-artifact sources (mlflow-artifacts:/...) with nested folders and one large file."""
    name = "fraud-detector"
    client.create_registered_model(name, description="Card fraud scoring")
    mlflow.set_experiment("fraud")
    model_dir = os.path.join(workdir, "fraud-model")
    facts = write_model_dir(model_dir, big_mb)
    facts["oms_root"] = oms_root(model_dir)
    versions = []
    with mlflow.start_run(run_name="fraud-1") as run:
        mlflow.log_params({"model_class": "onnx-mlp"})
        mlflow.log_metrics({"precision": 0.91, "recall": 0.84})
        mlflow.log_artifacts(model_dir, "model")
        source = f"{run.info.artifact_uri}/model"
        mv = client.create_model_version(name, source, run_id=run.info.run_id)
        versions.append({"version": mv.version, "run_id": run.info.run_id, "source": source})
    # Later retrains: the same layout without the large shard, different weights each time.
    for i in (2, 3):
        retrain = os.path.join(workdir, f"fraud-model-{i}")
        os.makedirs(os.path.join(retrain, "weights"), exist_ok=True)
        with open(os.path.join(model_dir, "MLmodel")) as src, open(os.path.join(retrain, "MLmodel"), "w") as dst:
            dst.write(src.read())
        with open(os.path.join(retrain, "weights", "model.onnx"), "wb") as f:
            f.write(np.random.default_rng(100 + i).bytes(256 * 1024))
        with mlflow.start_run(run_name=f"fraud-{i}") as r:
            mlflow.log_params({"model_class": "onnx-mlp"})
            mlflow.log_metrics({"precision": 0.91 + i / 100, "recall": 0.84})
            mlflow.log_artifacts(retrain, "model")
            if i == 3:  # the version the demo reviews; v2 stays without one (the missing-explanation case)
                png = os.path.join(workdir, "shap-fraud-3.png")
                shap_plot(png, ["amount", "merchant_category", "hour", "country"], [0.9, 0.6, 0.3, 0.2], "fraud-detector v3")
                mlflow.log_artifact(png, "explanations")
            src_uri = f"{r.info.artifact_uri}/model"
            v = client.create_model_version(name, src_uri, run_id=r.info.run_id)
            versions.append({"version": v.version, "run_id": r.info.run_id, "source": src_uri})
    files = []
    for base, _dirs, names in os.walk(model_dir):
        for n in names:
            p = os.path.join(base, n)
            files.append({"path": os.path.relpath(p, model_dir), "size": os.path.getsize(p)})
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", "3")
    out["models"][name] = {"versions": versions, "aliases": {"champion": "1", "challenger": "3"}, "files": sorted(files, key=lambda f: f["path"]), **facts}


def seed_churn(client, workdir, many, out):
    """A retrained-every-day model with more versions than one page (paging must be exercised)."""
    name = "churn"
    client.create_registered_model(name, description="Weekly churn propensity", tags={"team": "growth"})
    mlflow.set_experiment("churn")
    with mlflow.start_run(run_name="churn-base") as run:
        d = os.path.join(workdir, "churn-model")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "MLmodel"), "w") as f:
            f.write("flavors:\n  python_function:\n    loader_module: churn\n")
        mlflow.log_artifacts(d, "model")
        mlflow.log_metric("auc", 0.77)
        source = f"{run.info.artifact_uri}/model"
    for i in range(many):
        client.create_model_version(name, source, run_id=run.info.run_id, tags={"retrain": str(i + 1)})
    client.set_registered_model_alias(name, "champion", str(many - 1))
    client.set_registered_model_alias(name, "challenger", str(many))
    out["models"][name] = {"version_count": many, "aliases": {"champion": str(many - 1), "challenger": str(many)}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tracking_uri")
    ap.add_argument("workdir")
    ap.add_argument("--big-mb", type=int, default=200)
    ap.add_argument("--many", type=int, default=260)
    args = ap.parse_args()
    mlflow.set_tracking_uri(args.tracking_uri)
    os.makedirs(args.workdir, exist_ok=True)
    client = MlflowClient()
    rng = np.random.default_rng(42)
    out = {"models": {}}
    seed_credit_risk(client, args.workdir, rng, out)
    seed_fraud(client, args.workdir, args.big_mb, out)
    seed_churn(client, args.workdir, args.many, out)
    sys.stdout.write("SEED-MANIFEST " + json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
