"""The reference every throughput ratio divides by: a bare Litestar application with one JSON
route and no middleware, served by granian with the same settings as ``registry serve``.

Run it as ``python -m bench.bare --port 8300 [--workers N]``. Its route answers
``GET /bare`` with a small JSON object, like the service's entry lookup answers with one
entry: whatever the service costs beyond this is the service's own (middleware, database,
building the answer), which is what the benchmarks measure.
"""

from __future__ import annotations

import argparse

from litestar import Litestar, get


@get("/bare", sync_to_thread=False)
def bare() -> dict[str, str]:
    return {"status": "ok", "service": "bare"}


def create_app() -> Litestar:
    return Litestar(route_handlers=[bare], openapi_config=None)


def serve(host: str, port: int, workers: int) -> None:
    """Serve with granian exactly as ``registry.cli._serve`` serves the service."""
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "bench.bare:create_app",
        factory=True,
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        log_access=False,
    ).serve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    serve(args.host, args.port, args.workers)


if __name__ == "__main__":
    main()
