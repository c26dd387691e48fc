"""Print what OpenSSF model_signing computes for a model directory: the in-toto subject
(root) digest and every per-file resource, as JSON. The reference sealgate must match.

Usage: python oms_digest.py MODEL_DIR
"""

import json
import sys

from model_signing import hashing
from model_signing._signing.signing import Payload


def main():
    manifest = hashing.hash(sys.argv[1])
    statement = Payload(manifest).statement.pb
    subject = statement.subject[0]
    resources = [
        {"name": r["name"], "digest": r["digest"]} for r in statement.predicate["resources"]
    ]
    print(json.dumps({"root": subject.digest["sha256"], "resources": resources}))


if __name__ == "__main__":
    main()
