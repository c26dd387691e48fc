"""Artefacts for the streaming-hash benchmark, and its peer.

  python mlflow_artifacts.py log TRACKING_URI FILES TOTAL_BYTES WORKDIR
      logs FILES files of random bytes under the run artifact path `model`; prints
      {"run_id": ..., "artifact_uri": ...}
  python mlflow_artifacts.py download TRACKING_URI RUN_ID DEST
      downloads runs:/RUN_ID/model with mlflow.artifacts.download_artifacts; prints
      {"seconds": S} timing the download only (not the import)
"""

import json
import os
import sys
import time

import mlflow


def log(uri, files, total, work):
    os.makedirs(os.path.join(work, "model"), exist_ok=True)
    per = total // files
    for i in range(files):
        with open(os.path.join(work, "model", f"weights-{i:02d}.bin"), "wb") as f:
            left = per
            while left > 0:
                n = min(left, 8 << 20)
                f.write(os.urandom(n))
                left -= n
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("sealgate-bench")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(os.path.join(work, "model"), "model")
    print(json.dumps({"run_id": run.info.run_id, "artifact_uri": run.info.artifact_uri}))


def download(uri, run_id, dest):
    mlflow.set_tracking_uri(uri)
    t0 = time.perf_counter()
    mlflow.artifacts.download_artifacts(artifact_uri=f"runs:/{run_id}/model", dst_path=dest)
    print(json.dumps({"seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    if sys.argv[1] == "log":
        log(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        download(sys.argv[2], sys.argv[3], sys.argv[4])
