"""MySQL details of the shared metadata appear only where MySQL DDL is generated."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.schema import CreateTable

from tigase_py.server.storage.metadata import large_text, with_table_options


def ddl(table: sa.Table, dialect: sa.engine.Dialect) -> str:
    return str(CreateTable(table).compile(dialect=dialect))


def test_large_text_is_mediumtext_on_mysql_only() -> None:
    table = sa.Table("notes", sa.MetaData(), sa.Column("xml", large_text(), nullable=False))
    assert "xml MEDIUMTEXT NOT NULL" in ddl(table, mysql.dialect())
    assert "xml TEXT NOT NULL" in ddl(table, sqlite.dialect())


def test_table_options_are_added_for_mysql_ddl() -> None:
    target = sa.MetaData()
    table = sa.Table("notes", target, sa.Column("id", sa.Integer, primary_key=True))
    assert "ENGINE" not in ddl(table, mysql.dialect())
    with_table_options(target)
    assert ddl(table, mysql.dialect()).rstrip().endswith("ENGINE=InnoDB CHARSET=utf8mb4 COLLATE utf8mb4_bin")
    assert "ENGINE" not in ddl(table, sqlite.dialect())
