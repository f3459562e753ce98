"""A tiny authoritative DNS server on a loopback UDP port (dnspython's message API), for domain verification.

It answers TXT questions from a dict it is given; any question about a name in `cname` with that alias; and A
questions from a list of answers per name, one answer per question in turn (the last one repeats) — a rebinding
DNS server. Every other name is NXDOMAIN. It is a real server: the resolver under test sends real DNS packets
to it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class DnsServer:
    def __init__(self) -> None:
        self.txt: dict[str, list[str]] = {}
        self.a: dict[str, list[list[str]]] = {}
        self.cname: dict[str, str] = {}  # name -> the name it is an alias of
        self.a_queries: list[str] = []
        self.queries: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            try:
                query = dns.message.from_wire(data)
            except dns.exception.DNSException:  # a malformed packet is dropped, as a server would
                continue
            self._sock.sendto(self._answer(query).to_wire(), peer)

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.queries.append(name)
        if name in self.cname:
            # An alias has no other records of its own (RFC 1034 §3.6.2): any question about it gets the CNAME.
            target = dns.name.from_text(self.cname[name])
            response.answer.append(dns.rrset.from_text_list(question.name, 60, "IN", "CNAME", [target.to_text()]))
            return response
        if name in self.a:
            if question.rdtype == dns.rdatatype.A:
                self.a_queries.append(name)
                answers = self.a[name]
                addresses = answers.pop(0) if len(answers) > 1 else answers[0]
                response.answer.append(dns.rrset.from_text_list(question.name, 0, "IN", "A", addresses))
            return response
        values = self.txt.get(name)
        if values is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT:
            quoted = ['"' + v.replace('"', '\\"') + '"' for v in values]
            response.answer.append(dns.rrset.from_text_list(question.name, 60, "IN", "TXT", quoted))
        return response

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


@contextmanager
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
