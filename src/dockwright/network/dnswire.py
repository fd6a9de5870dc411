"""Pure DNS wire format for the embedded resolver: one-question queries in, answers out."""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

TYPE_A, TYPE_AAAA, CLASS_IN = 1, 28, 1
NOERROR, SERVFAIL, NXDOMAIN = 0, 2, 3


@dataclass(frozen=True)
class Query:
    id: int
    flags: int
    name: str  # lowercase, without the trailing dot
    qtype: int
    qclass: int
    question: bytes  # the question section as received, echoed in answers


class BadQuery(ValueError):
    pass


def parse_query(data: bytes) -> Query:
    if len(data) < 12:
        raise BadQuery("short packet")
    qid, flags, qdcount = struct.unpack("!HHH", data[:6])
    if flags & 0x8000 or qdcount != 1:
        raise BadQuery("not a single-question query")
    labels, pos = [], 12
    while True:
        if pos >= len(data):
            raise BadQuery("truncated name")
        length = data[pos]
        if length == 0:
            pos += 1
            break
        if length & 0xC0:
            raise BadQuery("compressed name in question")
        labels.append(data[pos + 1 : pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length
    if pos + 4 > len(data):
        raise BadQuery("truncated question")
    qtype, qclass = struct.unpack("!HH", data[pos : pos + 4])
    name = ".".join(labels).lower()
    return Query(qid, flags, name, qtype, qclass, data[12 : pos + 4])


def answer(q: Query, ips: list[str], ttl: int = 600, rcode: int = NOERROR) -> bytes:
    """A response to `q`: A records for the IPv4 `ips` of an A query, AAAA records for the
    IPv6 ones of an AAAA query (none for other types: NOERROR, no data), or just `rcode`."""
    packed = [ipaddress.ip_address(ip).packed for ip in ips] if q.qclass == CLASS_IN else []
    size = {TYPE_A: 4, TYPE_AAAA: 16}.get(q.qtype, 0)
    records = [p for p in packed if len(p) == size]
    flags = 0x8000 | 0x0400 | (q.flags & 0x0100) | 0x0080 | rcode  # QR AA RD(copied) RA
    head = struct.pack("!HHHHHH", q.id, flags, 1, len(records), 0, 0)
    body = b"".join(
        struct.pack("!HHHIH", 0xC00C, q.qtype, CLASS_IN, ttl, size) + p for p in records
    )
    return head + q.question + body


def servfail(q: Query) -> bytes:
    return answer(q, [], rcode=SERVFAIL)
