"""Service configuration: one frozen dataclass, parsed once from env vars and CLI flags.

Every setting is declared once in SETTINGS (field, env var, parser, help, optional
`minima serve` flag); the env loader, the CLI flags and `minima serve --help` are
all derived from that table, so they cannot drift apart.

Defaults chosen here:
- host 127.0.0.1: a first start prints a fresh API key, so the service is not
  exposed to the network until someone asks for it (containers set
  MINIMA_HOST=0.0.0.0).
- data dir $XDG_DATA_HOME/minima (else ~/.local/share/minima): independent of the
  working directory, so `minima keys create` and `minima serve` run from
  different directories agree on one key store.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

MemoryBackend = Literal["embedded", "mubit"]
MubitTransport = Literal["auto", "http", "grpc"]

MIB = 1024 * 1024


class ConfigError(ValueError):
    """A setting has an invalid value; the message names the variable or flag."""


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the server, the CLI and the backends read at start-up."""

    data_dir: Path
    host: str = "127.0.0.1"
    grpc_port: int = 50051
    http_port: int = 8080
    memory: MemoryBackend = "embedded"
    log_level: str = "INFO"
    catalog_path: Path | None = None
    # Deadline applied when a client sends none, and the cap on any deadline.
    default_deadline_s: float = 10.0
    max_deadline_s: float = 60.0
    # Requests are small JSON-sized messages; 4 MiB in is generous. Responses
    # (a full catalog listing) may be larger.
    max_receive_message_bytes: int = 4 * MIB
    max_send_message_bytes: int = 16 * MIB
    keepalive_time_ms: int = 60_000
    keepalive_timeout_ms: int = 20_000
    # Recycle connections so clients re-resolve and load spreads over replicas.
    max_connection_age_ms: int = 30 * 60_000
    max_connection_age_grace_ms: int = 30_000
    # Admission bound: calls beyond it get RESOURCE_EXHAUSTED instead of queueing.
    max_concurrent_rpcs: int = 512
    # On SIGTERM: health NOT_SERVING, wait `drain` so balancers notice, then stop
    # accepting and give in-flight calls `grace` to finish.
    shutdown_drain_s: float = 1.0
    shutdown_grace_s: float = 10.0
    enable_reflection: bool = True
    # Bounded, seeded exploration of thinly-evidenced models (engine/explore.py).
    exploration: bool = True
    mubit_endpoint: str = "http://127.0.0.1:3000"
    # HTTP by default: "auto" tries gRPC first on every call, and keyed lookup is
    # HTTP-only in mubit-sdk anyway.
    mubit_transport: MubitTransport = "http"
    # Below the default call deadline (10 s), so a slow Mubit yields an honest
    # `accepted: false` on feedback rather than DEADLINE_EXCEEDED.
    mubit_timeout_ms: int = 5_000
    recall_timeout_ms: int = 2_500

    @property
    def keys_path(self) -> Path:
        """The embedded API key store."""
        return self.data_dir / "keys.db"

    @property
    def grpc_bind_address(self) -> str:
        return _join_host_port(self.host, self.grpc_port)


def _join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _dial_host(host: str) -> str:
    """Where a local client reaches a server bound to `host` (wildcards mean loopback)."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def dial_target(host: str, port: int) -> str:
    return _join_host_port(_dial_host(host), port)


# --- parsers: each takes the raw string and returns the value or raises ValueError
# with a message that completes "expected ...".


def _port(raw: str) -> int:
    value = _int(raw)
    if not 0 <= value <= 65535:
        raise ValueError("a port number 0-65535 (0 picks a free port)")
    return value


def _int(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError("an integer") from None


def _positive_int(raw: str) -> int:
    value = _int(raw)
    if value <= 0:
        raise ValueError("an integer > 0")
    return value


def _non_negative_seconds(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError("a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError("a finite number of seconds >= 0")
    return value


def _positive_seconds(raw: str) -> float:
    value = _non_negative_seconds(raw)
    if value == 0:
        raise ValueError("a number of seconds > 0")
    return value


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("one of true/false, 1/0, yes/no, on/off")


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        lowered = raw.strip().lower()
        if lowered not in allowed:
            raise ValueError("one of " + ", ".join(allowed))
        return lowered

    return parse


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError("one of debug, info, warning, error, critical")
    return level


_HOST = re.compile(r"^[A-Za-z0-9.:_-]+$")


def _host(raw: str) -> str:
    host = raw.strip().strip("[]")
    if not _HOST.match(host):
        raise ValueError("a host name or IP address (e.g. 127.0.0.1, 0.0.0.0, ::)")
    return host


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


def _existing_file(raw: str) -> Path:
    path = _path(raw)
    if not path.is_file():
        raise ValueError("an existing file")
    return path


_URL = re.compile(r"^(https?://)?[A-Za-z0-9.\-_\[\]:]+(:\d+)?(/.*)?$")


def _endpoint(raw: str) -> str:
    value = raw.strip()
    if not _URL.match(value):
        raise ValueError("a URL such as http://127.0.0.1:3000 or host:port")
    return value


@dataclass(frozen=True, slots=True)
class Setting:
    """One configuration knob: the Config field, its env var and (maybe) its flag."""

    field: str
    env: str
    parse: Callable[[str], Any]
    help: str
    flag: str | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "MINIMA_HOST", _host, "interface to listen on", "--host"),
    Setting("grpc_port", "MINIMA_GRPC_PORT", _port, "gRPC port", "--grpc-port"),
    Setting("http_port", "MINIMA_HTTP_PORT", _port, "REST (/v1) port", "--http-port"),
    Setting("data_dir", "MINIMA_DATA_DIR", _path, "directory for keys and memory", "--data-dir"),
    Setting(
        "memory",
        "MINIMA_MEMORY",
        _choice("embedded", "mubit"),
        "memory backend: embedded (SQLite, no other server) or mubit",
        "--memory",
    ),
    Setting("log_level", "MINIMA_LOG_LEVEL", _log_level, "log level", "--log-level"),
    Setting(
        "catalog_path",
        "MINIMA_CATALOG_PATH",
        _existing_file,
        "your own model catalog file (overrides the packaged snapshot)",
        "--catalog",
    ),
    Setting(
        "default_deadline_s",
        "MINIMA_DEFAULT_DEADLINE_S",
        _positive_seconds,
        "deadline for calls that send none",
    ),
    Setting("max_deadline_s", "MINIMA_MAX_DEADLINE_S", _positive_seconds, "cap on any deadline"),
    Setting(
        "max_receive_message_bytes",
        "MINIMA_MAX_RECV_BYTES",
        _positive_int,
        "largest request message accepted",
    ),
    Setting(
        "max_send_message_bytes",
        "MINIMA_MAX_SEND_BYTES",
        _positive_int,
        "largest response message sent",
    ),
    Setting(
        "keepalive_time_ms", "MINIMA_KEEPALIVE_TIME_MS", _positive_int, "server keepalive ping"
    ),
    Setting(
        "keepalive_timeout_ms",
        "MINIMA_KEEPALIVE_TIMEOUT_MS",
        _positive_int,
        "close a connection whose ping is unanswered this long",
    ),
    Setting(
        "max_connection_age_ms",
        "MINIMA_MAX_CONNECTION_AGE_MS",
        _positive_int,
        "recycle connections after this age",
    ),
    Setting(
        "max_connection_age_grace_ms",
        "MINIMA_MAX_CONNECTION_AGE_GRACE_MS",
        _positive_int,
        "time calls get to finish on a recycled connection",
    ),
    Setting(
        "max_concurrent_rpcs",
        "MINIMA_MAX_CONCURRENT_RPCS",
        _positive_int,
        "calls served at once; more get RESOURCE_EXHAUSTED",
    ),
    Setting(
        "shutdown_drain_s",
        "MINIMA_SHUTDOWN_DRAIN_S",
        _non_negative_seconds,
        "on SIGTERM, report NOT_SERVING this long before refusing calls",
    ),
    Setting(
        "shutdown_grace_s",
        "MINIMA_SHUTDOWN_GRACE_S",
        _non_negative_seconds,
        "time in-flight calls get to finish on shutdown",
    ),
    Setting(
        "enable_reflection",
        "MINIMA_ENABLE_REFLECTION",
        _bool,
        "serve gRPC reflection (for grpcurl)",
    ),
    Setting(
        "exploration",
        "MINIMA_EXPLORATION",
        _bool,
        "try thinly-evidenced models now and then where outcomes come back (seeded; warned "
        "as exploration_pick)",
    ),
    Setting("mubit_endpoint", "MUBIT_ENDPOINT", _endpoint, "Mubit endpoint (memory=mubit)"),
    Setting(
        "mubit_transport",
        "MUBIT_TRANSPORT",
        _choice("auto", "http", "grpc"),
        "Mubit transport (memory=mubit)",
    ),
    Setting("mubit_timeout_ms", "MUBIT_TIMEOUT_MS", _positive_int, "Mubit request timeout"),
    Setting(
        "recall_timeout_ms",
        "MINIMA_RECALL_TIMEOUT_MS",
        _positive_int,
        "recall budget per recommendation; past it, prior-only",
    ),
)


def default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local/share")
    return Path(base) / "minima"


def default_value(name: str) -> object:
    """The built-in default of a Config field (data_dir has none: it depends on env)."""
    for f in fields(Config):
        if f.name == name:
            return f.default
    raise KeyError(name)


def load_config(
    env: Mapping[str, str] | None = None, overrides: Mapping[str, str] | None = None
) -> Config:
    """Build a Config from env vars, with `overrides` (raw CLI flag values by field) winning.

    Empty strings count as unset. Raises ConfigError naming the first bad setting.
    """
    env = os.environ if env is None else env
    overrides = overrides or {}
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if overrides.get(setting.field):
            raw, source = overrides[setting.field], setting.flag or setting.field
        elif env.get(setting.env):
            raw, source = env[setting.env], setting.env
        else:
            continue
        try:
            values[setting.field] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{source}={raw!r}: expected {exc}") from None
    values.setdefault("data_dir", default_data_dir(env))
    config = Config(**values)
    _check_consistency(config)
    return config


def _check_consistency(config: Config) -> None:
    if config.default_deadline_s > config.max_deadline_s:
        raise ConfigError(
            f"MINIMA_DEFAULT_DEADLINE_S ({config.default_deadline_s:g}) must not exceed "
            f"MINIMA_MAX_DEADLINE_S ({config.max_deadline_s:g})"
        )
    if config.grpc_port and config.grpc_port == config.http_port:
        raise ConfigError(f"gRPC and HTTP ports must differ (both are {config.grpc_port})")
    if config.data_dir.exists() and not config.data_dir.is_dir():
        raise ConfigError(f"MINIMA_DATA_DIR={str(config.data_dir)!r}: not a directory")
