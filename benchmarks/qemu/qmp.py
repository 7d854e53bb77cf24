#!/usr/bin/env python3
"""Sends QMP commands to a QEMU process and prints each reply's "return" as JSON.

    qmp.py SOCKET COMMAND [ARGS-JSON] [COMMAND [ARGS-JSON] ...]
    qmp.py SOCKET --hmp "xp /2gx 0x8008"      (a human monitor command; prints its text)
    qmp.py SOCKET --wait-migration            (polls query-migrate every 50 ms until the
                                               migration has ended; prints the last reply)

SOCKET is a unix socket path (QEMU: -qmp unix:PATH,server=on,wait=off) or
HOST:PORT for a TCP one on 127.0.0.1. Exits 1 on a QMP error, printing it.
Standard library only.
"""
import json
import socket
import sys
import time


def connect_once(address):
    if ":" in address and not address.startswith("/"):
        host, port = address.rsplit(":", 1)
        s = socket.create_connection((host, int(port)))
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(address)
    f = s.makefile("rw")
    greeting = f.readline()
    if not greeting:
        raise ConnectionResetError("QEMU closed the connection before its greeting")
    json.loads(greeting)
    return s, f


def connect(address, attempts=100):
    """A QMP socket serves one client at a time and refuses (or resets) a new one for
    a moment after the last one left: retry for up to about 2 s."""
    for attempt in range(attempts):
        try:
            return connect_once(address)
        except (ConnectionRefusedError, ConnectionResetError, FileNotFoundError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.02)


def command(f, name, args=None):
    msg = {"execute": name}
    if args:
        msg["arguments"] = args
    f.write(json.dumps(msg) + "\n")
    f.flush()
    while True:
        reply = json.loads(f.readline())
        if "event" in reply:
            continue
        if "error" in reply:
            raise RuntimeError(f"{name}: {reply['error'].get('desc', reply['error'])}")
        return reply.get("return")


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    s, f = connect(argv[1])
    command(f, "qmp_capabilities")
    rest = argv[2:]
    try:
        while rest:
            if rest[0] == "--wait-migration":
                while True:
                    reply = command(f, "query-migrate")
                    if reply.get("status") in ("completed", "failed", "cancelled"):
                        break
                    time.sleep(0.05)
                print(json.dumps(reply))
                rest = rest[1:]
                continue
            if rest[0] == "--hmp":
                print(command(f, "human-monitor-command", {"command-line": rest[1]}), end="")
                rest = rest[2:]
                continue
            name, rest = rest[0], rest[1:]
            args = None
            if rest and rest[0].startswith("{"):
                args, rest = json.loads(rest[0]), rest[1:]
            print(json.dumps(command(f, name, args)))
    except RuntimeError as e:
        print(f"qmp.py: {e}", file=sys.stderr)
        return 1
    finally:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
