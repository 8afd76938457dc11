"""Configuration from env vars and flags: defaults, precedence, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from minima_grpc.config import SETTINGS, Config, ConfigError, dial_target, load_config


def test_defaults_without_any_environment(tmp_path: Path) -> None:
    config = load_config({"HOME": str(tmp_path)})
    assert config == Config(data_dir=tmp_path / ".local/share/minima")
    assert (config.host, config.grpc_port, config.http_port) == ("127.0.0.1", 50051, 8080)
    assert config.memory == "embedded"
    assert config.keys_path == tmp_path / ".local/share/minima/keys.db"


def test_xdg_data_home_wins_over_home(tmp_path: Path) -> None:
    config = load_config({"HOME": "/nowhere", "XDG_DATA_HOME": str(tmp_path)})
    assert config.data_dir == tmp_path / "minima"


def test_env_is_parsed_and_flags_win(tmp_path: Path) -> None:
    env = {
        "MINIMA_GRPC_PORT": "6000",
        "MINIMA_HTTP_PORT": "6001",
        "MINIMA_HOST": "0.0.0.0",
        "MINIMA_DATA_DIR": str(tmp_path),
        "MINIMA_MEMORY": "MUBIT",
        "MINIMA_LOG_LEVEL": "debug",
        "MINIMA_ENABLE_REFLECTION": "off",
        "MUBIT_TRANSPORT": "http",
        "MUBIT_TIMEOUT_MS": "1500",
        "MINIMA_RECALL_TIMEOUT_MS": "300",
        "MINIMA_DEFAULT_DEADLINE_S": "2.5",
    }
    config = load_config(env, {"grpc_port": "7000", "log_level": "warning"})
    assert config.grpc_port == 7000  # flag beats env
    assert config.http_port == 6001
    assert config.log_level == "WARNING"
    assert (config.memory, config.mubit_transport, config.mubit_timeout_ms) == (
        "mubit",
        "http",
        1500,
    )
    assert config.enable_reflection is False
    assert config.recall_timeout_ms == 300
    assert config.default_deadline_s == 2.5
    assert config.grpc_bind_address == "0.0.0.0:7000"


def test_empty_values_count_as_unset(tmp_path: Path) -> None:
    config = load_config({"HOME": str(tmp_path), "MINIMA_GRPC_PORT": "", "MINIMA_CATALOG_PATH": ""})
    assert config.grpc_port == 50051
    assert config.catalog_path is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MINIMA_GRPC_PORT": "http"}, "MINIMA_GRPC_PORT='http': expected an integer"),
        ({"MINIMA_GRPC_PORT": "70000"}, "expected a port number 0-65535"),
        ({"MINIMA_MEMORY": "redis"}, "MINIMA_MEMORY='redis': expected one of embedded, mubit"),
        ({"MINIMA_LOG_LEVEL": "loud"}, "MINIMA_LOG_LEVEL='loud'"),
        ({"MINIMA_MAX_RECV_BYTES": "0"}, "expected an integer > 0"),
        ({"MINIMA_SHUTDOWN_GRACE_S": "-1"}, "seconds >= 0"),
        ({"MINIMA_DEFAULT_DEADLINE_S": "nan"}, "MINIMA_DEFAULT_DEADLINE_S='nan'"),
        ({"MINIMA_ENABLE_REFLECTION": "maybe"}, "MINIMA_ENABLE_REFLECTION='maybe'"),
        ({"MINIMA_CATALOG_PATH": "/no/such/catalog.json"}, "expected an existing file"),
        ({"MUBIT_ENDPOINT": "not a url"}, "MUBIT_ENDPOINT='not a url'"),
        ({"MUBIT_TRANSPORT": "carrier-pigeon"}, "expected one of auto, http, grpc"),
        ({"MINIMA_HOST": "my host"}, "MINIMA_HOST='my host'"),
        (
            {"MINIMA_DEFAULT_DEADLINE_S": "90", "MINIMA_MAX_DEADLINE_S": "60"},
            "must not exceed MINIMA_MAX_DEADLINE_S",
        ),
        ({"MINIMA_GRPC_PORT": "9000", "MINIMA_HTTP_PORT": "9000"}, "ports must differ"),
    ],
)
def test_invalid_values_name_the_setting(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as invalid:
        load_config({"HOME": str(tmp_path), **env})
    assert message in str(invalid.value)


def test_flag_errors_name_the_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--grpc-port='x'"):
        load_config({"HOME": str(tmp_path)}, {"grpc_port": "x"})


def test_data_dir_must_be_a_directory(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("")
    with pytest.raises(ConfigError, match="not a directory"):
        load_config({"MINIMA_DATA_DIR": str(file)})


def test_every_setting_is_a_config_field_with_a_unique_env_var() -> None:
    fields = set(Config.__dataclass_fields__)
    assert {s.field for s in SETTINGS} <= fields
    assert len({s.env for s in SETTINGS}) == len(SETTINGS)


@pytest.mark.parametrize(
    ("host", "target"),
    [("0.0.0.0", "127.0.0.1:5"), ("::", "[::1]:5"), ("10.0.0.2", "10.0.0.2:5"), ("::1", "[::1]:5")],
)
def test_dial_target_turns_wildcards_into_loopback(host: str, target: str) -> None:
    assert dial_target(host, 5) == target
