"""Serving the application: one uvicorn process, or workers that the kernel gives connections to in turn.

uvicorn's workers share one listening socket, and whichever worker is awake first accepts: under `wrk -c16` (16
keep-alive connections, as a reverse proxy keeps) 15 of them ended in one of 2 workers, which then served what
one worker serves. Here each worker listens on a socket of its own with SO_REUSEPORT, and the kernel spreads new
connections over the workers by a hash of the client's address and port. uvicorn's supervisor still starts,
watches and restarts the workers; only the socket is made here (uvicorn 0.54 has no option for it). Linux lets
only processes of the same user join such a group of sockets; the parent first binds the port alone, so a port
already in use (by anything, this server's workers included) stops the start instead of being shared.

`python -m api.serving APP [--factory] [--host H] [--port P] [--workers N] [--loop L] [--http H]` serves another
application factory the same way (the benchmarks' tile-only application).
"""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn
from uvicorn.supervisors import multiprocess


def listening_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class ReusePortWorker(multiprocess.Process):
    """A uvicorn worker that listens on its own SO_REUSEPORT socket rather than the one its parent bound."""

    def target(self, sockets=None) -> None:  # runs in the worker process
        super().target([listening_socket(self.config.host, self.config.port, reuse_port=True)])


def serve(app: str, host: str, port: int, workers: int = 1, **options) -> None:
    config = uvicorn.Config(app, host=host, port=port, workers=workers, **options)
    if workers <= 1:
        uvicorn.Server(config).run()
        return
    try:
        listening_socket(host, port, reuse_port=False).close()
    except OSError as exc:
        sys.exit(f"cannot serve on {host}:{port}: {exc.strerror}")
    config.configure_logging()  # as uvicorn.run does before starting workers
    uvicorn.config.logger.info("Serving on http://%s:%d with %d workers (SO_REUSEPORT)", host, port, workers)
    multiprocess.Process = ReusePortWorker  # the supervisor makes (and remakes) its workers by this name
    multiprocess.Multiprocess(config, sockets=[]).run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api.serving", description=__doc__.split("\n\n")[0])
    parser.add_argument("app", help="module:attribute, e.g. api.app:create_app")
    parser.add_argument("--factory", action="store_true", help="the attribute is a function that makes the app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--loop", default="auto")
    parser.add_argument("--http", default="auto")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    serve(args.app, args.host, args.port, args.workers, factory=args.factory, loop=args.loop, http=args.http,
          log_level=args.log_level)


if __name__ == "__main__":
    main()
