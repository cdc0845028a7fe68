"""The typed, frozen server configuration built by :mod:`tigase_py.server.config.load`.

Defaults here are the documented defaults; the loader resolves relative paths against the
directory of the config file, so a loaded config only holds absolute paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ALL_MODULES: tuple[str, ...] = (
    "roster",
    "presence",
    "offline",
    "disco",
    "ping",
    "version",
    "time",
    "last",
    "private",
    "vcard",
    "blocking",
    "register",
    "adhoc",
)
# Built in but enabled only when `[modules] enabled` names them.
OPTIONAL_MODULES: tuple[str, ...] = ("pubsub",)
MECHANISMS: tuple[str, ...] = (
    "SCRAM-SHA-256-PLUS",
    "SCRAM-SHA-256",
    "SCRAM-SHA-1-PLUS",
    "SCRAM-SHA-1",
    "PLAIN",
)
LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error")
RESOURCE_CONFLICTS: tuple[str, ...] = ("kick_old", "refuse")
LISTENER_KINDS: tuple[str, ...] = ("c2s",)
LISTENER_TLS: tuple[str, ...] = ("starttls", "direct", "none")
API_SCOPES: tuple[str, ...] = ("read", "admin", "scripts")
LEGACY_KEY_SCOPES: frozenset[str] = frozenset({"read", "admin"})


@dataclass(frozen=True, slots=True)
class GeneralConfig:
    """``[server]``"""

    vhosts: tuple[str, ...] = ("localhost",)
    admins: tuple[str, ...] = ()
    pidfile: Path = Path("tigase-py.pid")
    log_level: str = "info"
    log_file: Path | None = None
    resource_conflict: str = "kick_old"


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """``[storage]``: one SQLAlchemy async URL, and how long a networked database may take (seconds)."""

    url: str
    timeout: float = 5.0  # one storage operation, end to end (pool wait, connect, statements, commit)
    connect_timeout: float = 3.0  # TCP connect and login to MariaDB/MySQL


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """``[tls]``: both paths or neither."""

    certificate: Path | None = None
    key: Path | None = None

    @property
    def is_configured(self) -> bool:
        return self.certificate is not None and self.key is not None


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    """One ``[[listeners]]`` table; the TOML key ``type`` becomes ``kind``."""

    kind: str = "c2s"
    address: str = "127.0.0.1"
    port: int = 5222
    tls: str = "starttls"
    require_tls: bool = True


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """``[limits]``: sizes in bytes, durations in seconds."""

    max_stanza_size: int = 262144
    pre_auth_stanza_size: int = 16384
    max_stream_header_size: int = 4096
    max_tag_size: int = 16384
    max_connections: int = 10000
    offline_queue_size: int = 100
    max_sessions_per_user: int = 10
    pre_auth_timeout: float = 60.0
    idle_timeout: float = 840.0
    # Transport limits: output backpressure, idle pings, admission per address, byte rates.
    idle_ping_timeout: float = 60.0
    output_buffer_soft: int = 1024 * 1024
    output_buffer_hard: int = 8 * 1024 * 1024
    slow_reader_timeout: float = 30.0
    # Networks exempt from the per-address limits, byte rates and the login, REST-auth and registration
    # throttles (CIDR strings). Loopback by default: local tools, benches and load tests; list [] to treat
    # loopback like any other address.
    trusted_networks: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    ip_connection_rate: float = 5.0  # new connections per second from one address
    ip_connection_burst: int = 20
    max_pre_auth_per_ip: int = 10
    pre_auth_byte_rate: int = 8 * 1024  # bytes per second
    pre_auth_byte_burst: int = 64 * 1024
    byte_rate: int = 128 * 1024
    byte_burst: int = 1024 * 1024
    login_failures_per_account_ip: int = 5  # then that account is locked for that IP
    login_failures_per_ip: int = 20  # then the IP is locked for every account
    login_failures_per_account: int = 50  # then the account is locked, except from IPs it logged in from
    login_lockout: float = 900.0  # how long a lockout lasts; failures are forgotten this long after the last
    login_delay: float = 0.25  # delay of the 2nd failure's <failure/>, doubling per failure up to 8x
    http_auth_failures_per_ip: int = 10  # REST: then 429 with Retry-After for login_lockout
    registrations_per_ip: int = 5  # in-band registration attempts per IP per hour; 0 = unlimited


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """``[auth]``"""

    allow_plain_without_tls: bool = False
    scram_iterations: int = 4096
    mechanisms: tuple[str, ...] = MECHANISMS


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """``[services.<module>]`` or ``[vhosts."example.com".services.<module>]``: where a module's hosted
    service runs; None leaves the choice to the next layer (per vhost → all vhosts → the module)."""

    subdomain: str | None = None
    enabled: bool | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ModulesConfig:
    """``[modules]``: ``enabled`` plus one ``[modules.<name>]`` table per module, validated by the module."""

    enabled: tuple[str, ...] = ALL_MODULES
    options: dict[str, dict[str, object]] = field(default_factory=dict)
    services: dict[str, ServiceOptions] = field(default_factory=dict)  # [services.<name>]: hosted services


@dataclass(frozen=True, slots=True)
class VhostOptions:
    """``[vhosts."example.com"]``"""

    registration: bool = False
    services: dict[str, ServiceOptions] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """``[http]``: the admin REST API, /metrics and the Jolokia-style read endpoint (loopback by default)."""

    enabled: bool = True
    address: str = "127.0.0.1"
    port: int = 5280
    api_keys: dict[str, str] = field(default_factory=dict)  # name -> key
    cors_origins: tuple[str, ...] = ()
    metrics_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")  # who may read /metrics and /jolokia
    scripts_dir: Path | None = None  # runtime admin scripts; default <config dir>/scripts
    api_key_scopes: dict[str, frozenset[str]] = field(default_factory=dict)  # name -> scopes of api_keys
    scripts_upload: bool = False  # POST/DELETE /api/v1/scripts (code execution) for keys with "scripts"

    def scopes_of(self, name: str) -> frozenset[str]:
        """The scopes of API key ``name``; a key from the plain ``api_keys`` table has read and admin."""
        return self.api_key_scopes.get(name, LEGACY_KEY_SCOPES)


@dataclass(frozen=True, slots=True)
class SnmpUser:
    name: str
    auth_key: str
    priv_key: str
    auth_protocol: str = "SHA"
    priv_protocol: str = "AES"


@dataclass(frozen=True, slots=True)
class SnmpConfig:
    """``[snmp]``: the agent serving the metrics registry under an enterprise OID subtree."""

    enabled: bool = False
    address: str = "127.0.0.1"
    port: int = 1161
    community: str | None = "public"  # v2c read-only community; None disables v2c
    users: tuple[SnmpUser, ...] = ()  # SNMPv3 USM users (authPriv)
    base_oid: str = "1.3.6.1.4.1.32473.1"  # 32473: the RFC 5612 documentation enterprise number
    versions: tuple[str, ...] = ("2c", "3")  # protocol versions answered; others are dropped unanswered
    sys_name: str | None = None  # SNMPv2-MIB sysName; None: the host name
    sys_contact: str = ""  # SNMPv2-MIB sysContact
    sys_location: str = ""  # SNMPv2-MIB sysLocation


@dataclass(frozen=True, slots=True)
class AdminSocketConfig:
    """``[admin_socket]``: the local admin channel, HTTP over a UNIX socket with file permissions as the
    authority (mode 0600, or 0660 with ``group``)."""

    enabled: bool = True
    path: Path = Path("tigase-py.sock")  # the loader puts it beside the pidfile unless the config says
    group: str | None = None  # members of this group may use the socket too (mode 0660)


SNMP_AUTH = ("SHA", "SHA256", "MD5")
SNMP_PRIV = ("AES", "DES")
SNMP_VERSIONS = ("1", "2c", "3")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The whole ``tigase.toml``; ``path`` is the absolute path of the file it came from."""

    path: Path
    server: GeneralConfig
    storage: StorageConfig
    tls: TlsConfig
    listeners: tuple[ListenerConfig, ...]
    limits: LimitsConfig
    auth: AuthConfig
    modules: ModulesConfig
    vhost_options: dict[str, VhostOptions]
    http: HttpConfig = field(default_factory=HttpConfig)
    snmp: SnmpConfig = field(default_factory=SnmpConfig)
    admin_socket: AdminSocketConfig = field(default_factory=AdminSocketConfig)

    @property
    def directory(self) -> Path:
        return self.path.parent

    def options_for(self, vhost: str) -> VhostOptions:
        return self.vhost_options.get(vhost, VhostOptions())
