"""A local Socket Mode endpoint speaking Slack's envelope protocol over a plain WebSocket.

Attach it to a ``SlackEmulator`` (``SlackEmulator(socket_mode=SocketModeEmulator())``): then
``apps.connections.open`` answers with this server's ``ws://`` URL, the app connects, gets
``hello``, and ``send_envelope`` delivers a slash command, an interaction or an event the way
Slack does. The app's acknowledgement (with its response payload) is recorded by envelope id.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import socketserver
import struct
import threading
import time
import uuid
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class SocketModeEmulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.acks: dict[str, dict[str, Any]] = {}
        self.connections: list[socket.socket] = []
        self._condition = threading.Condition()
        emulator = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                emulator._serve(self.request)

        self._server = socketserver.ThreadingTCPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"ws://{host!s}:{port}/link/?ticket={uuid.uuid4().hex}"

    def start(self) -> SocketModeEmulator:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._condition:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.close()
        self._server.shutdown()
        self._server.server_close()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self._wait(lambda: bool(self.connections), timeout)

    def send_envelope(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = True) -> str:
        """Deliver one envelope (``slash_commands``, ``interactive`` or ``events_api``); returns its id."""
        envelope_id = uuid.uuid4().hex
        message = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        with self._condition:
            connection = self.connections[-1]
        _send(connection, TEXT, json.dumps(message).encode())
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any] | None:
        self._wait(lambda: envelope_id in self.acks, timeout)
        with self._condition:
            return self.acks.get(envelope_id)

    def _wait(self, predicate: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._condition:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
            return True

    def _serve(self, connection: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = connection.recv(4096)
            if not chunk:
                return
            request += chunk
        headers = dict(line.split(": ", 1) for line in request.decode("latin-1").split("\r\n")[1:] if ": " in line)
        key = headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()  # noqa: S324 - the protocol's hash
        connection.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0SIGNOFF"}, "debug_info": {}}
        _send(connection, TEXT, json.dumps(hello).encode())
        with self._condition:
            self.connections.append(connection)
            self._condition.notify_all()
        try:
            while True:
                opcode, data = _receive(connection)
                if opcode == PING:
                    _send(connection, PONG, data)
                elif opcode == TEXT:
                    message = json.loads(data.decode())
                    if "envelope_id" in message:
                        with self._condition:
                            self.acks[message["envelope_id"]] = message.get("payload") or {}
                            self._condition.notify_all()
                elif opcode == CLOSE:
                    return
        except (OSError, ConnectionError):
            return


def _send(connection: socket.socket, opcode: int, data: bytes) -> None:
    header = bytes([0x80 | opcode])
    length = len(data)
    if length < 126:
        header += bytes([length])
    elif length < 65536:
        header += bytes([126]) + struct.pack("!H", length)
    else:
        header += bytes([127]) + struct.pack("!Q", length)
    connection.sendall(header + data)


def _receive(connection: socket.socket) -> tuple[int, bytes]:
    first, second = _exactly(connection, 2)
    opcode, masked, length = first & 0x0F, second & 0x80, second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _exactly(connection, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _exactly(connection, 8))
    mask = _exactly(connection, 4) if masked else b"\x00\x00\x00\x00"
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(_exactly(connection, length)))
    return opcode, data


def _exactly(connection: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            raise ConnectionError("socket closed")
        data += chunk
    return data
