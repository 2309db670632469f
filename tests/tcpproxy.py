"""A TCP proxy on 127.0.0.1 that can go silent: a network that stops carrying packets.

Frozen, it forwards nothing either way but keeps every connection open, so neither side sees
a close or a reset: what a leader cut off from its database by a broken network sees.
"""

from __future__ import annotations

import socket
import threading
import time

POLL_SECONDS = 0.05


class FreezableProxy:
    """Forward 127.0.0.1:port to target until frozen."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.frozen = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        """Close every connection and stop listening."""
        for sock in self._sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        source.settimeout(POLL_SECONDS)
        while True:
            if self.frozen.is_set():
                time.sleep(POLL_SECONDS)  # read nothing, so nothing goes on and nothing closes
                continue
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                sink.close()
                return
            try:
                sink.sendall(data)
            except OSError:
                return
