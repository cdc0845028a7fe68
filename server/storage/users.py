"""Accounts and their SCRAM credentials: passwords are never stored, only salted SCRAM keys."""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import hmac
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import scramp
import sqlalchemy as sa
from scramp.utils import saslprep
from sqlalchemy.exc import IntegrityError

from tigase_py.server.storage.database import Database, SqlConnection
from tigase_py.server.storage.errors import UserExists, UserNotFound
from tigase_py.server.storage.metadata import (
    DOMAIN_LENGTH,
    USERNAME_LENGTH,
    key_bytes,
    metadata,
    utcnow,
)

SCRAM_ITERATIONS = 4096
SALT_LENGTH = 32  # what scramp generates for real accounts; decoys match it
SECRET_LENGTH = 32
SECRET_FILE = "server-secret"  # beside the pidfile (the writable state directory); decoy salts derive from it
# hash_name as the SASL mechanism names it → the hashlib name.
SCRAM_HASHES = {"SHA-1": "sha1", "SHA-256": "sha256"}

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("domain", sa.String(DOMAIN_LENGTH), nullable=False),
    sa.Column("username", sa.String(USERNAME_LENGTH), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("domain", "username"),
)

user_credentials = sa.Table(
    "user_credentials",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("hash_name", sa.String(16), primary_key=True),
    sa.Column("salt", key_bytes(), nullable=False),
    sa.Column("stored_key", key_bytes(), nullable=False),
    sa.Column("server_key", key_bytes(), nullable=False),
    sa.Column("iterations", sa.Integer, nullable=False),
)

Purge = Callable[[SqlConnection, str], Awaitable[bool]]


@dataclass(frozen=True)
class ScramCredentials:
    """What a SCRAM server needs for one hash: never enough to recover the password."""

    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int


def make_credentials(password: str, iterations: int) -> dict[str, ScramCredentials]:
    """Salted SCRAM keys for every supported hash (CPU-bound: run it in a thread)."""
    result: dict[str, ScramCredentials] = {}
    for hash_name in SCRAM_HASHES:
        try:
            mechanism = scramp.ScramMechanism(f"SCRAM-{hash_name}")
            salt, stored_key, server_key, count = mechanism.make_auth_info(password, iteration_count=iterations)
        except scramp.ScramException as exc:
            raise ValueError(f"unusable password: {exc.args[0]}") from exc
        result[hash_name] = ScramCredentials(salt, stored_key, server_key, count)
    return result


def matches(password: str, hash_name: str, creds: ScramCredentials) -> bool:
    """Recompute the stored key from `password` and compare in constant time."""
    digest = SCRAM_HASHES[hash_name]
    try:
        prepared = saslprep(password).encode("utf-8")
    except scramp.ScramException:
        return False
    salted = hashlib.pbkdf2_hmac(digest, prepared, creds.salt, creds.iterations)
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    stored_key = hashlib.new(digest, client_key).digest()
    return hmac.compare_digest(stored_key, creds.stored_key)


def decoy_credentials(secret: bytes, username: str, domain: str, hash_name: str, iterations: int) -> ScramCredentials:
    """Credentials for an account that does not exist: derived from the server secret and the name, so
    the salt a SCRAM probe sees is stable across connections and restarts and looks like a real one."""

    def derive(label: str, length: int) -> bytes:
        message = f"{label}\0{hash_name}\0{username}@{domain}".encode()
        return hmac.new(secret, message, hashlib.sha256).digest()[:length]

    size = hashlib.new(SCRAM_HASHES[hash_name]).digest_size
    return ScramCredentials(derive("salt", SALT_LENGTH), derive("stored", size), derive("server", size), iterations)


def load_secret(path: Path) -> bytes:
    """The server secret in ``path`` (mode 0600), created with random bytes the first time."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = secrets.token_bytes(SECRET_LENGTH)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_secret(path)  # another process created it first
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        return data
    if len(data) < SECRET_LENGTH:
        raise ValueError(f"{path}: the server secret must hold at least {SECRET_LENGTH} bytes")
    return data


def credential_rows(user_id: int, creds: dict[str, ScramCredentials]) -> builtins.list[dict[str, object]]:
    return [
        {
            "user_id": user_id,
            "hash_name": hash_name,
            "salt": c.salt,
            "stored_key": c.stored_key,
            "server_key": c.server_key,
            "iterations": c.iterations,
        }
        for hash_name, c in creds.items()
    ]


# The one read of a SCRAM login; a module constant so it is compiled once (see Database.fetch_all).
SCRAM_QUERY = (
    sa.select(
        user_credentials.c.salt,
        user_credentials.c.stored_key,
        user_credentials.c.server_key,
        user_credentials.c.iterations,
    )
    .join(users, users.c.id == user_credentials.c.user_id)
    .where(
        users.c.domain == sa.bindparam("domain"),
        users.c.username == sa.bindparam("username"),
        user_credentials.c.hash_name == sa.bindparam("hash_name"),
    )
    .limit(1)
)


class UserStore:
    """Registered accounts, keyed by (username, domain)."""

    def __init__(self, db: Database, purge: Purge, *, iterations: int = SCRAM_ITERATIONS) -> None:
        self._db = db
        self._purge = purge
        self.iterations = iterations
        self.secret = secrets.token_bytes(SECRET_LENGTH)  # replaced by the persistent one at server start

    @staticmethod
    def _where(username: str, domain: str) -> sa.ColumnElement[bool]:
        return sa.and_(users.c.domain == domain, users.c.username == username)

    async def create(self, username: str, domain: str, password: str) -> None:
        creds = await asyncio.to_thread(make_credentials, password, self.iterations)
        async with self._db.transaction() as conn:
            try:
                result = await conn.execute(
                    sa.insert(users).values(domain=domain, username=username, created_at=utcnow())
                )
            except IntegrityError as exc:
                raise UserExists(f"user {username}@{domain} already exists") from exc
            key = result.inserted_primary_key
            assert key is not None
            user_id = key[0]
            await conn.execute(sa.insert(user_credentials), credential_rows(user_id, creds))

    async def set_password(self, username: str, domain: str, password: str) -> None:
        creds = await asyncio.to_thread(make_credentials, password, self.iterations)
        async with self._db.transaction() as conn:
            user_id = await conn.scalar(sa.select(users.c.id).where(self._where(username, domain)))
            if user_id is None:
                raise UserNotFound(f"user {username}@{domain} does not exist")
            await conn.execute(sa.delete(user_credentials).where(user_credentials.c.user_id == user_id))
            await conn.execute(sa.insert(user_credentials), credential_rows(user_id, creds))

    async def delete(self, username: str, domain: str) -> bool:
        """Delete the account and all its data; False if it did not exist."""
        async with self._db.transaction() as conn:
            return await self._purge(conn, f"{username}@{domain}")

    async def exists(self, username: str, domain: str) -> bool:
        async with self._db.connection() as conn:
            found = await conn.scalar(sa.select(users.c.id).where(self._where(username, domain)))
        return found is not None

    async def list(self, domain: str | None = None) -> builtins.list[str]:
        query = sa.select(users.c.username, users.c.domain)
        if domain is not None:
            query = query.where(users.c.domain == domain)
        async with self._db.connection() as conn:
            rows = (await conn.execute(query)).all()
        return sorted(f"{row.username}@{row.domain}" for row in rows)

    async def count(self, domain: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(users)
        if domain is not None:
            query = query.where(users.c.domain == domain)
        async with self._db.connection() as conn:
            return int(await conn.scalar(query) or 0)

    async def get_scram(self, username: str, domain: str, hash_name: str) -> ScramCredentials | None:
        rows = await self._db.fetch_all(SCRAM_QUERY, {"username": username, "domain": domain, "hash_name": hash_name})
        if not rows:
            return None
        salt, stored_key, server_key, iterations = rows[0]
        return ScramCredentials(bytes(salt), bytes(stored_key), bytes(server_key), iterations)

    async def get_scram_or_decoy(self, username: str, domain: str, hash_name: str) -> ScramCredentials:
        """The account's credentials, or decoy ones (see :func:`decoy_credentials`) when it does not exist."""
        creds = await self.get_scram(username, domain, hash_name)
        if creds is None:
            creds = decoy_credentials(self.secret, username, domain, hash_name, self.iterations)
        return creds

    async def verify_password(self, username: str, domain: str, password: str) -> bool:
        for hash_name in ("SHA-256", "SHA-1"):
            creds = await self.get_scram(username, domain, hash_name)
            if creds is not None:
                return await asyncio.to_thread(matches, password, hash_name, creds)
        # No such account: spend the same PBKDF2 work, so the answer takes as long as a wrong password.
        decoy = decoy_credentials(self.secret, username, domain, "SHA-256", self.iterations)
        await asyncio.to_thread(matches, password, "SHA-256", decoy)
        return False
