#!/usr/bin/env python3
"""One-off extraction of the RFC 4475 torture messages from the RFC's own text.

Source: RFC 4475 "Session Initiation Protocol (SIP) Torture Test Messages", Appendix A
("Bit-Exact Archive of Each Test Message"), A.1 "Encoded Reference Messages".
The text of Appendix A (pages 47-51, page headers/footers included, exactly as printed
in https://www.rfc-editor.org/rfc/rfc4475.txt) is kept next to this script as
`rfc4475-appendix-a.txt`; it was read from a vendored plain-text copy of the RFC
(docs/rfc/rfc4475.txt in the public repository rdarcel/cenva) and typed in.

The decoding rule is the RFC's own (Figure 58, the Perl script): between the
"-- BEGIN MESSAGE ARCHIVE --" and "-- END MESSAGE ARCHIVE --" markers keep every line
that is a single whitespace-delimited word; page furniture ("Sparks, et al. ...",
"RFC 4475 ...") has spaces and drops out. The result is base64 of a gzip'd tar.
gzip's CRC-32 checks the transcription.

The archive also holds `test.dat`, which no section of the RFC describes; it is
not written out.

Usage: python3 extract.py   (run inside tests/data/rfc4475/; rewrites the *.dat files)
"""

import base64
import gzip
import io
import re
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"test.dat"}


def archive_base64(text: str) -> str:
    """Apply the RFC's Figure 58 rule to the appendix text."""
    inside = False
    words = []
    for line in text.splitlines():
        if "-- BEGIN MESSAGE ARCHIVE --" in line:
            inside = True
        if inside and re.match(r"^\s*[^\s]+\s*$", line):
            words.append(line.strip())
        if "-- END MESSAGE ARCHIVE --" in line:
            inside = False
    return "".join(words)


def main() -> int:
    text = (HERE / "rfc4475-appendix-a.txt").read_text(encoding="ascii")
    tar_bytes = gzip.decompress(base64.b64decode(archive_base64(text), validate=True))
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        for member in tar.getmembers():
            if not member.isfile() or member.name in SKIP:
                continue
            name = Path(member.name).name
            data = tar.extractfile(member).read()
            (HERE / name).write_bytes(data)
            print(f"{name} {len(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
