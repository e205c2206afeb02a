"""ssh's ProxyCommand for an sshd on a port other than 22 (Ray's cluster YAML has no ssh port
option, but it passes ``auth.ssh_proxy_command``): ``python ssh_relay.py HOST PORT`` relays its
stdin and stdout to HOST:PORT."""

from __future__ import annotations

import os
import socket
import sys
import threading


def main(host: str, port: int) -> None:
    connection = socket.create_connection((host, port))

    def upstream() -> None:
        while chunk := os.read(0, 65536):
            connection.sendall(chunk)
        connection.shutdown(socket.SHUT_WR)

    threading.Thread(target=upstream, daemon=True).start()
    while chunk := connection.recv(65536):
        os.write(1, chunk)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
