"""PostgreSQL and Redis container logs, and the infrastructure part of SynchronizedBeforeSuite."""

from __future__ import annotations

import random

from triage.simulate.timefmt import MS, SECOND, postgres_ts, redis_ts

_INITDB = (
    'The files belonging to this database system will be owned by user "postgres".',
    "This user must also own the server process.",
    "",
    'The database cluster will be initialized with locale "en_US.utf8".',
    'The default database encoding has accordingly been set to "UTF8".',
    'The default text search configuration will be set to "english".',
    "",
    "Data page checksums are disabled.",
    "",
    "fixing permissions on existing directory /var/lib/postgresql/data ... ok",
    "creating subdirectories ... ok",
    "selecting dynamic shared memory implementation ... posix",
    "selecting default max_connections ... 100",
    "selecting default shared_buffers ... 128MB",
    "selecting default time zone ... UTC",
    "creating configuration files ... ok",
    "running bootstrap script ... ok",
    "sh: locale: not found",
    "performing post-bootstrap initialization ... ok",
    "syncing data to disk ... ok",
    "",
    "",
    "Success. You can now start the database server using:",
    "",
    "    pg_ctl -D /var/lib/postgresql/data -l logfile start",
    "",
    'initdb: warning: enabling "trust" authentication for local connections',
    "initdb: hint: You can change this by editing pg_hba.conf or using the option -A, or --auth-local and "
    "--auth-host, the next time you run initdb.",
    "waiting for server to start....",
)


def postgres_log(start: int, migrate_at: int, health_checks: list[int], rng: random.Random) -> str:
    """The `podman logs` of postgres:16-alpine: initdb noise, start-up, health-check and migration errors.

    Args:
        start: Container start (µs).
        migrate_at: When the migrations container ran.
        health_checks: Times of `pg_isready -U slm_user` checks (each logs the slm_user FATAL).
        rng: Random source.

    Returns:
        The log text.
    """
    t = start + 150 * MS
    pid = 48
    lines = list(_INITDB)

    def pg(at: int, p: int, level: str, msg: str) -> str:
        return f"{postgres_ts(at)} [{p}] {level}:  {msg}"

    t += 900 * MS
    lines.append(
        pg(
            t,
            pid,
            "LOG",
            "starting PostgreSQL 16.11 on x86_64-pc-linux-musl, compiled by gcc (Alpine 14.2.0) "
            "14.2.0, 64-bit",
        )
    )
    lines.append(pg(t + 2 * MS, pid, "LOG", 'listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"'))
    lines.append(
        pg(t + 9 * MS, pid + 3, "LOG", "database system was shut down at " + postgres_ts(t - 40 * MS))
    )
    lines.append(pg(t + 13 * MS, pid, "LOG", "database system is ready to accept connections"))
    lines.append(" done")
    lines.append("server started")
    lines.append("CREATE DATABASE")
    lines.append("")
    lines.append("")
    lines.append("/usr/local/bin/docker-entrypoint.sh: ignoring /docker-entrypoint-initdb.d/*")
    lines.append("")
    t += 400 * MS
    lines.append(pg(t, pid, "LOG", "received fast shutdown request"))
    lines.append("waiting for server to shut down....")
    lines.append(pg(t + 3 * MS, pid, "LOG", "aborting any active transactions"))
    lines.append(
        pg(
            t + 6 * MS,
            pid,
            "LOG",
            'background worker "logical replication launcher" (PID 54) exited with exit code 1',
        )
    )
    lines.append(pg(t + 8 * MS, pid + 2, "LOG", "shutting down"))
    lines.append(pg(t + 10 * MS, pid + 2, "LOG", "checkpoint starting: shutdown immediate"))
    lines.append(
        pg(
            t + 31 * MS,
            pid + 2,
            "LOG",
            "checkpoint complete: wrote 926 buffers (5.7%); 0 WAL file(s) added, "
            "0 removed, 0 recycled; write=0.012 s, sync=0.010 s, total=0.024 s; sync files=301, "
            "longest=0.001 s, average=0.001 s; distance=4255 kB, estimate=4255 kB; lsn=0/1912330, "
            "redo lsn=0/1912330",
        )
    )
    lines.append(pg(t + 36 * MS, pid, "LOG", "database system is shut down"))
    lines.append(" done")
    lines.append("server stopped")
    lines.append("")
    lines.append("PostgreSQL init process complete; ready for start up.")
    lines.append("")
    t += 120 * MS
    pid = 1
    lines.append(
        pg(
            t,
            pid,
            "LOG",
            "starting PostgreSQL 16.11 on x86_64-pc-linux-musl, compiled by gcc (Alpine 14.2.0) "
            "14.2.0, 64-bit",
        )
    )
    lines.append(pg(t + 1 * MS, pid, "LOG", 'listening on IPv4 address "0.0.0.0", port 5432'))
    lines.append(pg(t + 1 * MS, pid, "LOG", 'listening on IPv6 address "::", port 5432'))
    lines.append(pg(t + 3 * MS, pid, "LOG", 'listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"'))
    lines.append(pg(t + 8 * MS, 62, "LOG", "database system was shut down at " + postgres_ts(t - 84 * MS)))
    lines.append(pg(t + 12 * MS, pid, "LOG", "database system is ready to accept connections"))
    next_pid = 70
    events = [(at, "health") for at in health_checks] + [(migrate_at, "migrate")]
    for at, kind in sorted(events):
        next_pid += rng.randrange(3, 9)
        if kind == "health":
            lines.append(pg(at, next_pid, "FATAL", 'database "slm_user" does not exist'))
        else:
            lines.append(pg(at, next_pid, "ERROR", 'role "slm_user" already exists'))
            lines.append(
                pg(at, next_pid, "STATEMENT", "CREATE ROLE slm_user WITH LOGIN PASSWORD 'slm_password';")
            )
    return "\n".join(lines) + "\n"


def redis_log(start: int) -> str:
    """The `podman logs` of redis:7-alpine: the short start-up banner (about 600 bytes).

    Args:
        start: Container start (µs).

    Returns:
        The log text.
    """
    t1, t2 = start + 3 * MS, start + 5 * MS
    return (
        f"1:C {redis_ts(t1)} # WARNING Memory overcommit must be enabled! Without it, a background save or "
        "replication may fail under low memory condition. "
        "To fix this issue add 'vm.overcommit_memory = 1' to "
        "/etc/sysctl.conf and then reboot or run the command 'sysctl vm.overcommit_memory=1' "
        "for this to take effect.\n"
        f"1:C {redis_ts(t1)} * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo\n"
        f"1:C {redis_ts(t1)} * Redis version=7.4.7, bits=64, commit=00000000, modified=0, pid=1, "
        "just started\n"
        f"1:C {redis_ts(t1)} # Warning: no config file specified, using the default config. "
        "In order to specify a "
        "config file use redis-server /path/to/redis.conf\n"
        f"1:M {redis_ts(t2)} * monotonic clock: POSIX clock_gettime\n"
        f"1:M {redis_ts(t2)} * Running mode=standalone, port=6379.\n"
        f"1:M {redis_ts(t2)} * Server initialized\n"
        f"1:M {redis_ts(t2 + 1 * MS)} * Ready to accept connections tcp\n"
    )


_ = SECOND
