"""Migrations apply on an empty database, match the models, and roll back."""

import ast

from peewee_migrate.auto import diff_many

from cosmobot.database import apply_migrations, migration_router, pending_migrations
from cosmobot.models import ImageAsset

MIGRATION = "001_add_image_assets_table"


def test_migrations_apply_on_an_empty_database(empty_db):
    assert pending_migrations() == [MIGRATION]
    assert apply_migrations() == [MIGRATION]
    assert pending_migrations() == []
    assert "image_assets" in empty_db.get_tables()


def test_asset_key_has_a_unique_index(empty_db):
    apply_migrations()
    indexes = [
        index for index in empty_db.get_indexes("image_assets") if index.columns == ["asset_key"]
    ]
    assert len(indexes) == 1 and indexes[0].unique


def test_nothing_is_left_to_migrate_against_the_models(empty_db):
    apply_migrations()
    router = migration_router()
    frozen = list(router.migrator.orm)
    assert [model._meta.table_name for model in frozen] == ["image_assets"]
    assert diff_many([ImageAsset], frozen, router.migrator) == []


def test_rollback_drops_the_table(empty_db):
    apply_migrations()
    migration_router().rollback()
    assert "image_assets" not in empty_db.get_tables()
    assert pending_migrations() == [MIGRATION]


def test_migrations_do_not_import_the_application_models():
    for path in migration_router().migrate_dir.glob("[0-9]*.py"):
        tree = ast.parse(path.read_text())
        imported = [
            alias.name if isinstance(node, ast.Import) else node.module
            for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        ]
        assert not [name for name in imported if name and name.startswith("cosmobot")], path
