"""The forwarding unit in a process of its own, for the relay benchmark.

    python -m tests.bench.relay_unit CPU SOCKET_PATH

Pins itself to core CPU, runs a ``ForwardingUnit`` and serves the simulated
participants' signalling over a Unix socket, one JSON object a line:

- ``{"id": n, "op": "join", "call": c, "who": p}`` → ``{"id": n, "offer": {…}}``
- ``{"id": n, "op": "answer", "call": c, "who": p, "sdp": s}`` → ``{"id": n}``
- ``{"id": n, "op": "figures"}`` → ``{"id": n, "figures": {…}}``: the unit's counters,
  RTP packets received and sent by all its peer connections, and this process's CPU time
- and, unasked, ``{"offer": {…}}`` when the relay renegotiates with a participant that
  joined over that connection.

It runs until the bench terminates it (SIGTERM), then closes every call.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import Any

from hub.clock import SystemClock
from media.relay.room import Offer, Slot
from media.relay.unit import ForwardingUnit
from tests.bench.relay_udp import claim_core, cpu_seconds, waited_seconds


def offer_to_json(offer: Offer) -> dict[str, Any]:
    return {
        "call_id": offer.call_id,
        "participant": offer.participant,
        "sdp": offer.sdp,
        "slots": [[s.mid, s.publisher, s.kind] for s in offer.slots],
    }


def offer_from_json(data: dict[str, Any]) -> Offer:
    return Offer(
        call_id=int(data["call_id"]),
        participant=str(data["participant"]),
        sdp=str(data["sdp"]),
        slots=tuple(Slot(str(m), str(p), str(k)) for m, p, k in data["slots"]),
    )


class Server:
    def __init__(self) -> None:
        self.unit = ForwardingUnit(SystemClock(), self._send_offer)
        self._owners: dict[str, asyncio.StreamWriter] = {}  # participant → connection
        self._calls: set[int] = set()

    async def _send_offer(self, offer: Offer) -> None:
        writer = self._owners.get(offer.participant)
        if writer is not None and not writer.is_closing():
            writer.write(json.dumps({"offer": offer_to_json(offer)}).encode() + b"\n")

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks: set[asyncio.Task[None]] = set()
        try:
            while line := await reader.readline():
                # Each request in its own task: a join waits for the relay's lock while
                # answers to other offers must still get through.
                task = asyncio.create_task(self._handle(json.loads(line), writer))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except (asyncio.CancelledError, ConnectionError):
            pass  # the relay is stopping, or the bench went away
        finally:
            for task in tasks:
                task.cancel()
            writer.close()

    async def _handle(self, request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        op = request["op"]
        reply: dict[str, Any] = {"id": request["id"]}
        if op == "join":
            self._owners[request["who"]] = writer
            self._calls.add(int(request["call"]))
            offer = await self.unit.join(int(request["call"]), str(request["who"]))
            reply["offer"] = offer_to_json(offer)
        elif op == "answer":
            await self.unit.answer(int(request["call"]), str(request["who"]), request["sdp"])
        elif op == "figures":
            reply["figures"] = await self.figures()
        else:
            reply["error"] = f"unknown op {op!r}"
        writer.write(json.dumps(reply).encode() + b"\n")

    async def figures(self) -> dict[str, Any]:
        """The counters, with this process's CPU time read before and after gathering
        them: gathering calls getStats on every connection (tens of ms at 16 calls),
        which is the bench's work, not the relay's, and is left out of its windows."""
        cpu_s, waited_s = cpu_seconds(), waited_seconds()
        packets_in = packets_out = 0
        for call_id in self._calls:
            room = self.unit.room(call_id)
            if room is None:
                continue
            for pid in room.participants:
                person = room.participant(pid)
                if person is None:
                    continue
                for transceiver in person.pc.getTransceivers():
                    for stats in (await transceiver.sender.getStats()).values():
                        if stats.type == "outbound-rtp":
                            packets_out += stats.packetsSent
                    for stats in (await transceiver.receiver.getStats()).values():
                        if stats.type == "inbound-rtp":
                            packets_in += stats.packetsReceived
        return {
            **self.unit.figures(),
            "packets_in": packets_in,
            "packets_out": packets_out,
            "cpu_s": cpu_s,
            "waited_s": waited_s,
            "cpu_after_s": cpu_seconds(),
            "waited_after_s": waited_seconds(),
        }


async def run(path: str) -> None:
    server = Server()
    listening = await asyncio.start_unix_server(server.serve, path)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    try:
        await stop.wait()
    finally:
        listening.close()
        await server.unit.close()


def main(argv: list[str]) -> None:
    claim_core(int(argv[0]))
    asyncio.run(run(argv[1]))  # the loop the relay has inside telehub


if __name__ == "__main__":
    main(sys.argv[1:])
