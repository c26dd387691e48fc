"""The peer of the reconcile benchmark: list every model version with the official client,
following page tokens, as a script watching the registry would.

Usage: python mlflow_list_versions.py TRACKING_URI PAGE_SIZE
Prints one JSON line: {"versions": N, "seconds": S}, timing the listing only (not the import).
"""

import json
import sys
import time

from mlflow import MlflowClient


def main():
    uri, page_size = sys.argv[1], int(sys.argv[2])
    client = MlflowClient(tracking_uri=uri)
    t0 = time.perf_counter()
    count, token = 0, None
    while True:
        page = client.search_model_versions(max_results=page_size, page_token=token)
        count += len(page)
        token = page.token
        if not token:
            break
    print(json.dumps({"versions": count, "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
