"""The processes of a distributed sweep meet before JAX's runtime starts, or stop.

JAX's distributed runtime aborts the whole process from C++ (a native stack
trace, no Python exception) when its coordinator is not there in time, and
has no notion of a sweep's settings. So before :func:`jax.distributed.initialize`
the processes meet on the coordinator's own address over plain TCP:

1. process 0 listens on the coordinator's port (all interfaces, as JAX's
   service will) and every other process connects to it, retrying until the
   timeout, and sends its id and its settings (``{name: text}``);
2. process 0 checks that every id from 1 to ``num_processes - 1`` came exactly
   once and that every process has its settings, and answers each ``ok`` or
   the first problem found;
3. process 0 closes the port (JAX's service binds it next) and everyone goes on.

Every failure is a :class:`ValueError` naming the address, the process or
the first setting that differs; the CLI turns it into exit 2.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time

__all__ = ["rendezvous"]

_MAX_MESSAGE = 1 << 20


def rendezvous(address: str, num_processes: int, process_id: int, settings: dict,
               timeout: float) -> None:  # fmt: skip
    """Meet the other processes of a sweep at ``address`` (see the module), or raise.

    Args:
        address: ``host:port`` of process 0.
        num_processes: the number of processes.
        process_id: this process's id.
        settings: ``{name: value}`` (JSON values) that every process must share.
        timeout: seconds to wait for the others.

    Raises:
        ValueError: nobody answered at ``address`` within ``timeout``, a
            process is missing or duplicated, or the settings differ; the
            message starts with the field (``coordinator``, ``process_id``,
            ``distributed``).

    Example:
        >>> rendezvous("127.0.0.1:1", 1, 0, {}, 1.0)  # one process: nothing to meet
    """
    if num_processes <= 1:
        return
    host, _, port = address.rpartition(":")
    settings = json.loads(json.dumps(settings))
    deadline = time.monotonic() + timeout
    if process_id == 0:
        _host(int(port), address, num_processes, settings, deadline, timeout)
    else:
        _join(host.strip("[]"), int(port), address, process_id, settings, deadline, timeout)


def _listen(port: int, address: str) -> socket.socket:
    try:
        if socket.has_dualstack_ipv6():
            return socket.create_server(
                ("", port), family=socket.AF_INET6, dualstack_ipv6=True, reuse_port=False
            )
        return socket.create_server(("", port))
    except OSError as e:
        raise ValueError(
            f"coordinator: process 0 cannot listen on port {port} of {address} "
            f"({e.strerror or e}): is another process 0 running (a repeated --process-id 0), "
            f"or another program using the port? Choose a free port"
        ) from None


def _host(port, address, num_processes, settings, deadline, timeout) -> None:
    """Process 0: collect every other process, check ids and settings, answer all."""
    server = _listen(port, address)
    peers: dict[int, socket.socket] = {}
    error = ""
    try:
        # Everyone is collected even after a problem is found, so that every process
        # hears of it (a process left out would wait its whole timeout for nobody).
        while len(peers) < num_processes - 1:
            left = deadline - time.monotonic()
            if left <= 0 and error:
                break
            if left <= 0:
                missing = [str(p) for p in range(1, num_processes) if p not in peers]
                error = (
                    f"coordinator: waited {timeout:g} s at {address} for process(es) "
                    f"{', '.join(missing)} of {num_processes}; start them with --coordinator "
                    f"{address}, or raise --coordinator-timeout"
                )
                break
            server.settimeout(min(left, 1.0))
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            problem = _welcome(conn, peers, num_processes, settings, deadline)
            error = error or problem
        reply = {"error": error} if error else {"ok": True}
        for conn in peers.values():
            _send(conn, reply)
        for conn in peers.values():  # let the others close first: the port stays free
            with contextlib.suppress(OSError):
                conn.settimeout(2.0)
                conn.recv(1)
    finally:
        for conn in peers.values():
            conn.close()
        server.close()
    if error:
        raise ValueError(error)


def _welcome(conn, peers, num_processes, settings, deadline) -> str:
    """Read one process's hello; keep it in ``peers``; return the problem found, if any."""
    try:
        conn.settimeout(max(deadline - time.monotonic(), 1.0))
        hello = _receive(conn)
        pid = hello["id"]
        theirs = hello["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        conn.close()  # not one of ours (a port scanner, a stale client): ignore it
        return ""
    if not isinstance(pid, int) or not 1 <= pid < num_processes or pid in peers:
        why = "is taken by two processes" if pid in peers else "is out of range"
        error = (
            f"process_id: {pid} {why}; give every process its own id from 0 to {num_processes - 1}"
        )
        _send(conn, {"error": error})
        conn.close()
        return error
    peers[pid] = conn
    return _difference(pid, theirs, settings)


def _difference(pid: int, theirs: dict, ours: dict) -> str:
    """The first setting in which process ``pid`` differs from process 0 ("" if none)."""
    for name in [*ours, *(k for k in theirs if k not in ours)]:
        if theirs.get(name) != ours.get(name):
            return (
                f"distributed: process {pid} was started with {name} = "
                f"{theirs.get(name)!r}, process 0 with {ours.get(name)!r}; start every "
                f"process with the same settings"
            )
    return ""


def _join(host, port, address, process_id, settings, deadline, timeout) -> None:
    """Another process: connect to process 0 (retrying), say hello, wait for its answer."""
    conn = None
    while conn is None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ValueError(
                f"coordinator: nobody answered at {address} within {timeout:g} s; start "
                f"process 0 (--process-id 0) with --coordinator {address}, check the host "
                f"and port, or raise --coordinator-timeout"
            )
        try:
            conn = socket.create_connection((host, port), timeout=min(left, 2.0))
        except OSError:
            time.sleep(min(0.2, max(left, 0.0)))
    try:
        # Process 0 answers once all have come (or at its own deadline): wait a bit longer.
        conn.settimeout(max(deadline - time.monotonic(), 0.0) + 10.0)
        _send(conn, {"id": process_id, "settings": settings})
        reply = _receive(conn)
    except (OSError, ValueError) as e:
        raise ValueError(
            f"coordinator: no answer from process 0 at {address} ({e}); is it a catenax "
            f"sweep started with the same --coordinator?"
        ) from None
    finally:
        conn.close()
    if not reply.get("ok"):
        raise ValueError(
            reply.get("error")
            or f"process_id: process 0 at {address} refused --process-id {process_id}"
        )


def _send(conn, message: dict) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(message).encode() + b"\n")


def _receive(conn) -> dict:
    """One JSON line (at most 1 MiB)."""
    data = b""
    while not data.endswith(b"\n"):
        block = conn.recv(65536)
        if not block:
            raise ValueError("the connection closed")
        data += block
        if len(data) > _MAX_MESSAGE:
            raise ValueError("message too long")
    message = json.loads(data)
    if not isinstance(message, dict):
        raise ValueError("not a catenax message")
    return message
