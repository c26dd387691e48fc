"""Validate the signature of a PDF with pyHanko against a trust root, independently of sealgate.

Usage: python pyhanko_validate.py PDF ROOT_PEM [--timestamp]
Prints pyHanko's report; exits 0 only if the signature is intact, valid and trusted and covers
the whole file. With --timestamp, it must also carry a signature time-stamp (PAdES B-T) that is
intact, valid and trusted under the same root.
"""

import sys

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def main():
    pdf, root = sys.argv[1], sys.argv[2]
    vc = ValidationContext(trust_roots=[load_cert_from_pemder(root)])
    with open(pdf, "rb") as f:
        reader = PdfFileReader(f)
        if not reader.embedded_signatures:
            print("no signature")
            sys.exit(1)
        status = validate_pdf_signature(reader.embedded_signatures[0], vc)
        print(status.pretty_print_details())
        ok = status.intact and status.valid and status.trusted and status.coverage.name == "ENTIRE_FILE"
        if "--timestamp" in sys.argv[3:]:
            ts = status.timestamp_validity
            print(f"signature time-stamp: {ts.timestamp if ts else None}")
            ok = ok and ts is not None and ts.intact and ts.valid and ts.trusted
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
