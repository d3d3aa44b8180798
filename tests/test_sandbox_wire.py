"""The link between a program and its tests: values round-trip, and decoding any input is total and bounded."""

from __future__ import annotations

import json
import os
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewardlab.sandbox import protocol, wire

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=30,
)
TAGS = st.sampled_from(["N", "b", "i", "f", "c", "s", "y", "l", "t", "S", "F", "d", "R", "?"])
TAGGED = st.recursive(
    st.builds(lambda tag, rest: [tag, *rest], TAGS, st.lists(JSON, max_size=2)),
    lambda children: (
        st.builds(lambda tag, items: [tag, items], TAGS, st.lists(children, max_size=3))
        | st.builds(lambda pairs: ["d", pairs], st.lists(st.lists(children, min_size=2, max_size=2), max_size=2))
    ),
    max_leaves=20,
)
PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.integers() | st.text(max_size=3), children, max_size=3)
        | st.frozensets(st.integers(), max_size=3)
    ),
    max_leaves=25,
)


@given(JSON | TAGGED)
def test_decoding_any_message_gives_a_value_or_a_protocol_error(message):
    try:
        wire.decode(message)
    except wire.ProtocolError:
        pass


@given(PLAIN)
def test_plain_values_round_trip_with_their_types(value):
    decoded = wire.decode(wire.loads(json.dumps(wire.encode(value)).encode()))
    assert decoded == value and type(decoded) is type(value)


@pytest.mark.parametrize("depth", [wire.MAX_DEPTH + 1, 5_000, 200_000])
def test_deep_nesting_is_a_protocol_error_not_a_crash(depth):
    with pytest.raises(wire.ProtocolError):
        wire.decode(wire.loads(b'["l",[' * depth + b'["N"]' + b"]]" * depth))


def test_json_nested_deeper_than_python_parses_is_a_protocol_error():
    with pytest.raises(wire.ProtocolError):
        wire.loads(b"[" * 200_000 + b"]" * 200_000)


def test_oversized_and_truncated_frames_are_protocol_errors():
    read, write = os.pipe()
    os.write(write, wire.HEADER.pack(wire.MAX_FRAME + 1))
    with pytest.raises(wire.ProtocolError, match="over the limit"):
        wire.receive(read)
    os.write(write, wire.HEADER.pack(10) + b"[1,")
    os.close(write)
    with pytest.raises(wire.Gone):
        wire.receive(read)
    os.close(read)


def test_values_too_large_to_send_are_refused_before_sending():
    deep = None
    for _ in range(wire.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ValueError, match="too large or too deep"):
        wire.encode(deep)


def test_host_frames_with_deep_json_close_the_channel_instead_of_raising():
    read, write = os.pipe()
    body = b"[" * 100_000 + b"]" * 100_000
    os.write(write, protocol.HEADER.pack(len(body)))
    with open(write, "wb", closefd=True) as handle:
        writer = threading.Thread(target=handle.write, args=(body,))
        writer.start()
        with pytest.raises(protocol.ChannelClosed):
            protocol.read_frame(read)
        writer.join()
    os.close(read)
