"""The DataStorage container as a model (pkg/datastorage at a59c5629e) and the lines it logs.

It serves the stores' batch POSTs (validator 400s, database 500s, commits with the three success lines),
the tests' queries, health checks, runs its own self-audit store (a timer tick every second at Info in
January) and can be down or OOM-killed. Write latency grows with the number of writes in flight.
January output is zap's coloured development console (ISO8601 ms `Z`, caller); the later era logs
production JSON. Lines after the must-gather snapshot never reach the collected log. Every time it
prints is read from the container's clock, `skew_us` off the model's (the test host's) clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from triage.simulate.formats import Dur, Fields, Raw, console_line, go_stack, json_line
from triage.simulate.kernel import Sim
from triage.simulate.store import AuditEvent, DataStorageClient
from triage.simulate.timefmt import MS, SECOND, iso8601_millis_utc, rfc3339_nano

_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_SRC = "/opt/app-root/src"
_ERR_400 = "Data Storage Service returned status 400: HTTP 400 error from Data Storage API"
_ERR_500 = "Data Storage Service returned status 500: HTTP 500 error from Data Storage API"
_ERR_REFUSED = (
    'network error: Post "http://localhost:{port}/api/v1/audit/events/batch": '
    "dial tcp [::1]:{port}: connect: connection refused"
)


@dataclass
class DsStats:
    """DataStorage's own counts (requests it answered before the run ended)."""

    batch_writes: int = 0
    events_written: int = 0
    rejected_400: int = 0
    failed_500: int = 0
    queries: int = 0


@dataclass
class DsConfig:
    """How DataStorage behaves in this run."""

    port: int
    latency_ms: float
    era: str
    up_at: int
    oom_at: int | None = None
    never_up: bool = False
    fail_500: tuple[int, int] | None = None
    slow_windows: list[tuple[int, int]] = field(default_factory=list)
    skew_us: int = 0  # the container clock minus the host clock; only printed times use it
    user_ns: str = "kubernaut-system"


class DataStorage(DataStorageClient):
    """The service: a committed-event index, a log sink and the request handlers."""

    def __init__(self, sim: Sim, cfg: DsConfig, rng: random.Random, write: Callable[[str], object]) -> None:
        self.sim, self.cfg, self.rng, self._write = sim, cfg, rng, write
        self.stats = DsStats()
        self.index: dict[str, list[tuple[int, str]]] = {}
        self.inflight = 0
        self.lines = 0
        self.collected = True
        self.host = "".join(rng.choice("0123456789abcdef") for _ in range(12))
        self._req_prefix = "".join(rng.choice(_CHARS) for _ in range(10))
        self._req_seq = 0
        self.january = cfg.era == "january"
        self.current = cfg.era == "current"  # HEAD's access log names the authenticated user

    # ---- logging -------------------------------------------------------------------------------
    def log(
        self,
        level: str,
        caller: str,
        msg: str,
        fields: Fields = (),
        *,
        logger: str = "datastorage",
        error: str | None = None,
        stack: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Write one DataStorage log record (unless the must-gather snapshot was already taken).

        Args:
            level: `info` or `error`.
            caller: Short caller `dir/file.go:line`.
            msg: The message.
            fields: Key/value pairs.
            logger: Logger name.
            error: zapr's error value.
            stack: Stack frames for error records.
        """
        if not self.collected or (self.cfg.oom_at is not None and self.sim.now >= self.cfg.oom_at):
            return
        now = self.clock()
        if self.january:
            text = console_line(
                iso8601_millis_utc(now), level.upper(), logger, caller, msg, fields, error, True
            )
            if stack:  # development mode prints stack traces from Warn up, on the following lines
                text += "\n" + go_stack(stack)
        else:
            trace = go_stack(stack) if stack else None
            text = json_line(level, iso8601_millis_utc(now), logger, caller, msg, fields, error, trace)
        self.lines += text.count("\n") + 1
        self._write(text + "\n")

    def clock(self, t_us: int | None = None) -> int:
        """What the container's clock reads at a model time.

        Args:
            t_us: A model (host clock) time; now when None.

        Returns:
            The time the container prints for it (µs since the epoch).
        """
        return (self.sim.now if t_us is None else t_us) + self.cfg.skew_us

    def _request_id(self) -> str:
        self._req_seq += 1
        return f"{self.host}/{self._req_prefix}-{self._req_seq:06d}"

    def _http(self, method: str, path: str, status: int, size: int, took_us: int, remote: str) -> None:
        self.log(
            "info",
            "server/handlers.go:119" if self.january else "server/handlers.go:141",
            "HTTP request",
            (
                ("request_id", self._request_id()),
                ("method", method),
                ("path", path),
                ("remote_addr", remote),
                *((("user", self._user(path)),) if self.current else ()),
                ("status", status),
                ("bytes", size),
                ("duration", Dur(took_us, self.rng.randrange(1000))),
            ),
        )

    def _user(self, path: str) -> str:
        """The authenticated principal HEAD's access log names (none for the unauthenticated probes)."""
        if path.startswith("/health"):
            return ""
        return f"system:serviceaccount:{self.cfg.user_ns}:datastorage-client"

    def _remote(self) -> str:
        return f"10.89.0.1:{self.rng.randrange(40000, 61000)}"

    # ---- availability --------------------------------------------------------------------------
    def available(self) -> bool:
        """Whether the HTTP port accepts connections now."""
        if self.cfg.never_up or self.sim.now < self.cfg.up_at:
            return False
        return self.cfg.oom_at is None or self.sim.now < self.cfg.oom_at

    # ---- handlers ------------------------------------------------------------------------------
    def post_batch(self, process: int, events: list[AuditEvent]) -> Generator[Any, Any, tuple[int, str]]:
        """POST /api/v1/audit/events/batch from a store.

        Args:
            process: The calling Ginkgo process.
            events: The batch.

        Returns:
            (status, client error text); status 0 is a transport error.
        """
        if not self.available():
            yield self.rng.randrange(300, 1500)
            return 0, _ERR_REFUSED.format(port=self.cfg.port)
        remote = self._remote()
        start = self.sim.now
        if not all(e.valid for e in events):
            yield self.rng.randrange(900, 3500)
            index = next(i for i, e in enumerate(events) if not e.valid)
            self.stats.rejected_400 += 1
            self.log(
                "info",
                "middleware/openapi.go:155",
                "Request validation failed",
                (
                    ("method", "POST"),
                    ("path", "/api/v1/audit/events/batch"),
                    ("operation_id", "createAuditEventsBatch"),
                    (
                        "error",
                        f'request body has an error: doesn\'t match schema: Error at "/{index}/severity": '
                        'value is not one of the allowed values ["critical","high","medium","low","unknown"]',
                    ),
                ),
                logger="datastorage.openapi-validator",
            )
            self._http("POST", "/api/v1/audit/events/batch", 400, 312, self.sim.now - start, remote)
            return 400, _ERR_400
        self.inflight += 1
        yield self._latency(len(events))
        self.inflight -= 1
        if not self.available():
            return 0, f'network error: Post "http://localhost:{self.cfg.port}/api/v1/audit/events/batch": EOF'
        took = self.sim.now - start
        window = self.cfg.fail_500
        if window is not None and window[0] <= start < window[1]:
            self.stats.failed_500 += 1
            self.log(
                "error",
                "server/audit_events_batch_handler.go:159",
                "Batch database write failed",
                (("count", len(events)), ("duration_seconds", took / SECOND)),
                error="failed to begin transaction: failed to connect to "
                "`user=slm_user database=action_history`: "
                "server error: FATAL: sorry, too many clients already (SQLSTATE 53300)",
                stack=(
                    (
                        "github.com/jordigilh/kubernaut/pkg/datastorage/server.(*Server).handleCreateAuditEventsBatch",
                        f"{_SRC}/pkg/datastorage/server/audit_events_batch_handler.go:159",
                    ),
                    ("net/http.HandlerFunc.ServeHTTP", "/usr/lib/golang/src/net/http/server.go:2322"),
                ),
            )
            self._http("POST", "/api/v1/audit/events/batch", 500, 196, self.sim.now - start, remote)
            return 500, _ERR_500
        for event in events:
            self.index.setdefault(event.correlation_id, []).append((self.sim.now, event.event_type))
        self.stats.batch_writes += 1
        self.stats.events_written += len(events)
        n = len(events)
        self.log(
            "info",
            "repository/audit_events_repository.go:679",
            "Batch audit events created with hash chains",
            (("count", n), ("correlation_ids", len({e.correlation_id for e in events}))),
        )
        self.log(
            "info",
            "server/audit_events_batch_handler.go:188",
            "Batch audit events created successfully",
            (
                ("count", n),
                ("duration_seconds", (max(took - 400, 50) * 1000 + self.rng.randrange(1000)) / 1e9),
            ),
        )
        body = 14 + 38 * n + (n - 1) + 13 + len(f"{n} audit events created successfully") + 2 + 1
        self._http("POST", "/api/v1/audit/events/batch", 201, body, self.sim.now - start, remote)
        return 201, ""

    def _latency(self, n: int) -> int:
        base = self.cfg.latency_ms * MS * (0.55 + 0.9 * self.rng.random()) * (1 + 0.3 * self.inflight)
        base += n * 350 + self.rng.lognormvariate(0, 0.6) * 2 * MS
        for lo, hi in self.cfg.slow_windows:
            if lo <= self.sim.now < hi:
                base = 2.2 * SECOND + self.rng.random() * 1.8 * SECOND
        return int(base)

    def query(self, correlation_id: str, event_type: str | None) -> Generator[Any, Any, int | None]:
        """GET /api/v1/audit/events?correlation_id=…[&event_type=…] from a test helper.

        Args:
            correlation_id: The RemediationRequest name.
            event_type: The type filter, or None for the category query.

        Returns:
            Matching events committed when the query ran, or None when DataStorage is unreachable.
        """
        if not self.available():
            yield self.rng.randrange(300, 1500)
            return None
        start = self.sim.now
        yield int(self.rng.uniform(4, 18) * MS * (1 + 0.1 * self.inflight))
        rows = self.index.get(correlation_id, [])
        count = sum(1 for _, t in rows if event_type is None or t == event_type)
        self.stats.queries += 1
        self.log(
            "info",
            "server/audit_events_handler.go:359",
            "Audit events queried successfully",
            (("count", count), ("total", count), ("limit", 50), ("offset", 0)),
        )
        self._http("GET", "/api/v1/audit/events", 200, 72 + 930 * count, self.sim.now - start, self._remote())
        return count

    def forget(self, correlation_ids: list[str]) -> None:
        """Drop index entries no query will ask for again (keeps long runs in bounded memory).

        Args:
            correlation_ids: IDs whose specs have finished.
        """
        for cid in correlation_ids:
            self.index.pop(cid, None)

    # ---- start-up and background ---------------------------------------------------------------
    def boot(self, redis_addr: str, pg_port: int) -> Generator[Any, Any, None]:
        """The start-up sequence of cmd/datastorage/main.go and server.NewServer, then the self-audit ticker.

        Args:
            redis_addr: Redis address from the config.
            pg_port: PostgreSQL host port.

        Yields:
            Kernel delays.
        """
        if self.cfg.never_up:
            return
        steps: list[tuple[int, str, str, Fields, str]] = [
            (
                0,
                "datastorage/main.go:72",
                "Loading configuration from YAML file (ADR-030)",
                (("config_path", "/etc/datastorage/config.yaml"),),
                "datastorage",
            ),
            (
                1,
                "datastorage/main.go:85",
                "Loading secrets from mounted files (ADR-030 Section 6)",
                (),
                "datastorage",
            ),
            (
                1,
                "datastorage/main.go:97",
                "Configuration loaded successfully (ADR-030)",
                (
                    ("service", "data-storage"),
                    ("port", 8080),
                    ("database_host", "host.containers.internal"),
                    ("database_port", pg_port),
                    ("redis_addr", redis_addr),
                    ("log_level", "debug"),
                ),
                "datastorage",
            ),
            (
                1,
                "datastorage/main.go:130",
                "Connecting to PostgreSQL and Redis (with retry logic)...",
                (("max_retries", 10), ("retry_delay", Dur(2 * SECOND))),
                "datastorage",
            ),
            (
                9,
                "server/server.go:138",
                "PostgreSQL connection established",
                (("max_open_conns", 25), ("max_idle_conns", 5)),
                "datastorage",
            ),
            (
                3,
                "server/server.go:153",
                "Redis connection established",
                (("addr", redis_addr),),
                "datastorage",
            ),
        ]
        for delay_ms, caller, msg, fields, logger in steps:
            yield delay_ms * MS + self.rng.randrange(0, 900)
            self.log("info", caller, msg, fields, logger=logger)
        yield self.rng.randrange(200, 900)
        self.log(
            "info",
            "audit/store.go:163",
            "Audit store initialized",
            (
                ("service", "datastorage"),
                ("buffer_size", 50000),
                ("batch_size", 1000),
                ("flush_interval", Dur(SECOND)),
                ("max_retries", 3),
            ),
        )
        writer_start = self.sim.now
        self.log(
            "info",
            "audit/store.go:351",
            "🚀 Audit background writer started",
            (
                ("flush_interval", Dur(SECOND)),
                ("batch_size", 1000),
                ("buffer_size", 50000),
                ("start_time", rfc3339_nano(self.clock(writer_start), 0, self.rng.randrange(1000))),
            ),
            logger="datastorage.audit-store",
        )
        self.sim.spawn(self._self_audit_ticker(writer_start))
        fingerprint = "".join(self.rng.choice("0123456789abcdef") for _ in range(64))
        later: list[tuple[int, str, str, Fields, str]] = [
            (
                0,
                "server/server.go:205",
                "Self-auditing audit store initialized (DD-STORAGE-012)",
                (
                    ("buffer_size", 10000),
                    ("batch_size", 1000),
                    ("flush_interval", Dur(SECOND)),
                    ("max_retries", 3),
                ),
                "datastorage",
            ),
            (
                1,
                "server/server.go:216",
                "Prometheus metrics initialized",
                (("namespace", "datastorage"),),
                "datastorage",
            ),
            (
                1,
                "server/server.go:626",
                "cert-manager certificate not found, generating self-signed certificate",
                (("cert_file", "/etc/certs/tls.crt"),),
                "datastorage",
            ),
            (
                0,
                "server/server.go:666",
                "Generating fallback self-signed certificate",
                (("validity", "1 year"), ("key_size", "2048-bit RSA")),
                "datastorage",
            ),
            (
                48,
                "server/server.go:252",
                "Signing certificate loaded successfully",
                (("algorithm", "SHA256withRSA"), ("fingerprint", fingerprint)),
                "datastorage",
            ),
            (
                2,
                "middleware/openapi.go:85",
                "OpenAPI validator initialized from embedded spec",
                (("api_version", "1.0.0"), ("paths_count", 19), ("metrics_enabled", True)),
                "datastorage.openapi-validator",
            ),
            (0, "server/server.go:322", "OpenAPI validation middleware enabled", (), "datastorage"),
            (
                0,
                "datastorage/main.go:138",
                "Successfully connected to PostgreSQL and Redis",
                (("attempt", 1),),
                "datastorage",
            ),
            (
                0,
                "datastorage/main.go:166",
                "Starting Data Storage service (ADR-030 + DD-007)",
                (("port", 8080), ("host", "0.0.0.0"), ("shutdown_timeout", Dur(30 * SECOND))),
                "datastorage",
            ),
            (
                0,
                "datastorage/main.go:176",
                "HTTP server listening",
                (("addr", "0.0.0.0:8080"),),
                "datastorage",
            ),
            (
                0,
                "server/server.go:425",
                "Starting Data Storage Service server",
                (("addr", ":8080"),),
                "datastorage",
            ),
        ]
        for delay_ms, caller, msg, fields, logger in later:
            yield delay_ms * MS + self.rng.randrange(0, 400)
            self.log("info", caller, msg, fields, logger=logger)

    def _self_audit_ticker(self, start: int) -> Generator[Any, Any, None]:
        last = start
        k = 0
        while self.available() or self.sim.now < self.cfg.up_at:
            k += 1
            due = start + k * SECOND + self.rng.randrange(20, 400)
            yield max(0, due - self.sim.now)
            if not self.january:
                continue  # the tick moved to V(1) after January
            now = self.sim.now
            ns = self.rng.randrange(1000)
            self.log(
                "info",
                "audit/store.go:416",
                "⏰ Timer tick received",
                (
                    ("tick_number", k),
                    ("batch_size_before_flush", 0),
                    ("buffer_utilization", 0),
                    ("expected_interval", Dur(SECOND)),
                    ("actual_interval", Dur(now - last, ns)),
                    ("drift", Dur(now - last - SECOND, ns)),
                    ("tick_time", rfc3339_nano(self.clock(now), 0, ns)),
                ),
                logger="datastorage.audit-store",
            )
            last = now

    def health_check(self, remote: str) -> Generator[Any, Any, bool]:
        """GET /health from the bootstrap's readiness wait.

        Args:
            remote: Caller address.

        Returns:
            Whether DataStorage answered 200.
        """
        if not self.available():
            yield 2 * MS
            return False
        start = self.sim.now
        yield int(self.rng.uniform(1.5, 6) * MS)
        self._http("GET", "/health", 200, 38, self.sim.now - start, remote)
        return True


_ = (Raw, math)
