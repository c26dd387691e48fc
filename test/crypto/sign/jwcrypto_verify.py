"""Verify a sealgate JWS with jwcrypto, a JOSE implementation sealgate does not use.

Usage: python jwcrypto_verify.py JWS_FILE
The key comes from the JWS's own x5c[0]; the chain is sealgate's job and tested elsewhere.
Prints the payload on success; exits 1 with the reason otherwise.
"""

import base64
import json
import sys

from cryptography import x509
from jwcrypto import jwk, jws


def main():
    text = open(sys.argv[1]).read().strip()
    token = jws.JWS()
    token.deserialize(text)
    header = token.jose_header if not isinstance(token.jose_header, list) else token.jose_header[0]
    cert = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    key = jwk.JWK.from_pyca(cert.public_key())
    try:
        token.verify(key, alg=header["alg"])
    except Exception as e:  # noqa: BLE001
        print(f"invalid: {e}")
        sys.exit(1)
    sys.stdout.write(json.dumps({"alg": header["alg"], "payload": token.payload.decode("utf-8")}))


if __name__ == "__main__":
    main()
