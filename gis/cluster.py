"""The private PostgreSQL + PostGIS cluster that lives inside the checkout when DATABASE_URL is not set.

PostgreSQL refuses to run as root, so when we are root (as CI is) every server command runs as the
`postgres` system user, which then owns the cluster directory.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
import zlib
from pathlib import Path

import psycopg
from psycopg import sql

from gis.config import Settings, get_settings

# Server settings tuned for a 2-core, many-GiB machine serving tiles: JIT only adds latency to short queries.
SERVER_CONF = """
listen_addresses = '127.0.0.1'
shared_buffers = '512MB'
work_mem = '32MB'
maintenance_work_mem = '256MB'
effective_cache_size = '4GB'
jit = off
max_connections = 200
fsync = on
timezone = 'America/Argentina/Cordoba'
log_min_messages = warning
"""


class ClusterError(RuntimeError):
    pass


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def pg_bin(name: str) -> str:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    for bindir in reversed(versions):
        if (bindir / name).exists():
            return str(bindir / name)
    found = shutil.which(name)
    if not found:
        raise ClusterError(f"{name} not found: run `make setup` to install PostgreSQL and PostGIS")
    return found


class PrivateCluster:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self.root = self._reachable_root(self.settings.cluster_dir)
        self.data = self.root / "data"
        self.run_dir = self.root / "run"
        self.log = self.root / "server.log"
        self.port_file = self.root / "port"
        self.port = self._port()

    def _port(self) -> int:
        """The port chosen when the cluster was created (kept in .pgcluster/port), so that every checkout on a
        machine has its own and QGIS connections stay valid. Fresh clusters derive it from their path."""
        if self.port_file.exists():
            return int(self.port_file.read_text())
        if self.settings.cluster_port:
            return self.settings.cluster_port
        preferred = 54400 + zlib.crc32(str(self.root).encode()) % 1000
        return next(p for p in range(preferred, preferred + 200) if _port_free(p))

    @staticmethod
    def _reachable_root(wanted: Path) -> Path:
        """The cluster directory, moved under /var/lib/postgresql when root's checkout is closed to postgres."""
        if os.geteuid() != 0 or all(p.stat().st_mode & 0o001 for p in wanted.parents if p.exists()):
            return wanted
        import hashlib

        digest = hashlib.sha1(str(wanted).encode()).hexdigest()[:10]
        return Path("/var/lib/postgresql") / f"monitor-cluster-{digest}"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.settings.database_name}"

    def admin_url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _as_owner(self, args: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return args
        return ["runuser", "-u", "postgres", "--", *args]

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(self._as_owner(args), capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise ClusterError(f"{' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
        return proc

    def _prepare_dirs(self) -> None:
        for path in (self.root, self.run_dir):
            path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            for path in (self.root, self.run_dir):
                os.chown(path, pg.pw_uid, pg.pw_gid)

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialised():
            return False
        return self._run([pg_bin("pg_ctl"), "-D", str(self.data), "status"], check=False).returncode == 0

    def init(self) -> None:
        if self.initialised():
            return
        self._prepare_dirs()
        self._run([pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                   "--encoding=UTF8", "--locale=C.UTF-8"])
        conf = self.data / "postgresql.conf"
        extra = SERVER_CONF + f"port = {self.port}\nunix_socket_directories = '{self.run_dir}'\n"
        # Written through the server owner so the file keeps its ownership.
        self._run(["sh", "-c", f"cat >> '{conf}' <<'EOF'\n{extra}\nEOF"])
        self.port_file.write_text(str(self.port))

    def start(self) -> None:
        self.init()
        if self.running():
            return
        try:
            self._run([pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"])
        except ClusterError as error:
            tail = self.log.read_text()[-1500:] if self.log.exists() else ""
            raise ClusterError(f"{error}\n--- {self.log} ---\n{tail}") from None
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run([pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True)
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise ClusterError(f"the private cluster did not accept connections; see {self.log}")

    def stop(self) -> None:
        if self.running():
            self._run([pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def destroy(self) -> None:
        self.stop()
        if self.root.exists():
            shutil.rmtree(self.root)


def database_url(settings: Settings | None = None, start: bool = True) -> str:
    """The URL of the monitor's database: DATABASE_URL, or the private cluster (started on demand)."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    cluster = PrivateCluster(settings)
    if start:
        cluster.start()
        ensure_database(cluster.admin_url(), settings.database_name)
    return cluster.url


def ensure_database(admin_url: str, name: str) -> None:
    """Create database `name` on the server of `admin_url` if it does not exist."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
