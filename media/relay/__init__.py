"""The media relay: a forwarding unit for calls of three or more, built on aiortc.

Each participant has one peer connection with the relay; the relay forwards the
encoded (and, in the browsers, end-to-end encrypted) frames of every participant to
every other participant of the same call, without decoding them.

- ``passthrough``: aiortc's receiver with its decode step replaced (pinned internals),
  and the short path from a participant's socket;
- ``sending``: aiortc's sender writing a subscriber's copy of a track packet by packet;
- ``_fastpath`` (C, ``_fastpath.c``): the steady case of both, without Python per
  packet; ``srtp``: libsrtp as it calls it; ``estimate``: the bandwidth estimate;
- ``frames``: what the relay may read of a frame (key frame or not), and the keyframe
  request throttle;
- ``fanout``: one publisher's track to many subscribers, bounded per subscriber;
- ``room``: one consultation's participants and their negotiation (the relay offers);
- ``unit``: every relayed call in this process, its counters and its load.

docs/media.md describes the relay, the frame format and the key exchange.
"""
