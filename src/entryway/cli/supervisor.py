"""Several worker processes on one listening socket, stopped gracefully.

uvicorn's own supervisor keeps the shared listening socket open in the parent until every worker has
finished, so during a graceful stop new connections queue in the kernel's backlog, unanswered, until they are
reset. A load balancer should instead see them refused at once and send them to another instance: this
supervisor closes the parent's copy of the socket as soon as it is told to stop. Each worker closes its own
copy when its shutdown begins, and finishes the requests it is serving (uvicorn's graceful shutdown).
"""

from __future__ import annotations

from socket import socket

from uvicorn.config import Config
from uvicorn.supervisors.multiprocess import Multiprocess


class GracefulMultiprocess(Multiprocess):
    def _stop_listening(self) -> None:
        for sock in self.sockets:
            sock.close()

    def handle_term(self) -> None:
        self._stop_listening()
        super().handle_term()

    def handle_int(self) -> None:
        self._stop_listening()
        super().handle_int()


def run_workers(config: Config) -> None:
    sock: socket = config.bind_socket()
    GracefulMultiprocess(config, sockets=[sock]).run()
