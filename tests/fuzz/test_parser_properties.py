"""Properties of the stream parser over generated stanza trees and mutated bytes (bounded for CI).

- a valid stream gives back exactly the stanzas it was built from, in any chunking, with or without
  hibernating the parser between reads;
- mutated bytes raise nothing but :class:`XmlStreamError`, never leave the parser holding more than
  its limits, fail the same way in any chunking (down to reads of a few bytes) and take bounded time.

``HYPOTHESIS_PROFILE=fuzz`` runs 20,000 examples per property (or ``FUZZ_EXAMPLES``) instead of CI's 150.
"""

from __future__ import annotations

import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.recording import SMALL_LIMITS, cut, run, same_outcome
from tests.fuzz.streams import mutated, streams

settings.register_profile(
    "ci", max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow], database=None
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "20000")),
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
cut_points = st.lists(st.integers(min_value=0), max_size=12)


@given(streams(), cut_points, st.booleans())
def test_a_valid_stream_gives_back_its_stanzas_in_any_chunking(
    stream: tuple[bytes, list[bytes]], points: list[int], sleep: bool
) -> None:
    data, stanzas = stream
    events, error = run([data])
    assert error == ""
    assert [event[2] for event in events if event[0] == "stanza"] == stanzas  # type: ignore[index]
    assert run(cut(data, points), hibernate=sleep) == (events, error)


@given(mutated(), cut_points, st.booleans(), st.integers(1, 7))
def test_mutated_bytes_fail_only_with_a_stream_error_and_the_same_way_in_any_chunking(
    data: bytes, points: list[int], sleep: bool, size: int
) -> None:
    started = time.perf_counter()
    whole = run([data], SMALL_LIMITS)
    assert same_outcome(run(cut(data, points), SMALL_LIMITS, hibernate=sleep), whole)
    tiny = [data[index : index + size] for index in range(0, len(data), size)]
    assert same_outcome(run(tiny, SMALL_LIMITS), whole)
    assert time.perf_counter() - started < 1.0
