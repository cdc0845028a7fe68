"""Coverage-guided fuzzing of the stream parser with atheris (outside CI; pytest does not collect it).

    pip install atheris
    python tests/fuzz/atheris_parser.py -atheris_runs=1000000 [-max_len=4096] [CORPUS_DIR]

Each input picks the limits (defaults or small ones), whether a valid stream header goes first, where
the bytes are split into reads and whether the parser hibernates between reads. It fails on any
exception other than XmlStreamError, on a parser holding more than its limits, and when a split of the
input gives other events or another error than feeding it whole (``recording.same_outcome``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with atheris.instrument_imports(include=["tigase_py.server.xml"]):
    from tests.fuzz.recording import HEADER, SMALL_LIMITS, cut, run, same_outcome


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    limits = SMALL_LIMITS if provider.ConsumeBool() else None
    prefix = HEADER if provider.ConsumeBool() else b""
    sleep = provider.ConsumeBool()
    points = [provider.ConsumeIntInRange(0, 4096) for _ in range(provider.ConsumeIntInRange(0, 8))]
    payload = prefix + provider.ConsumeBytes(provider.remaining_bytes())
    whole = run([payload], limits)
    chunked = run(cut(payload, points), limits, hibernate=sleep)
    if not same_outcome(chunked, whole):
        raise AssertionError(f"split {points} changed the outcome: {whole!r} != {chunked!r}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
