"""A team's history in PostgreSQL (``IMAGELAB_DATABASE_URL``): the URL a person gives, the sentence when the
server is away, and the same store working again once it is back. The password never shows."""

import socket

import psycopg
import pytest

from imagelab.history.errors import DatabaseFailed, DatabaseUnreachable, NotADatabaseURL
from imagelab.store import StorageError, Store
from tests.services.postgres import TEST_PASSWORD, PostgresNotInstalled, postgres_server


@pytest.fixture
def own_postgres(postgres):
    """A server of this test's own, to stop and start (``postgres`` only decides skip or fail when missing)."""
    try:
        with postgres_server() as server:
            yield server
    except PostgresNotInstalled:  # pragma: no cover - the session fixture has already judged that
        pytest.skip("PostgreSQL is not installed")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_environment_names_the_team_database(tmp_path, pg_url, monkeypatch):
    monkeypatch.setenv("IMAGELAB_DATABASE_URL", pg_url)
    store = Store(tmp_path)
    run = store.start_run("generate", "m", "a shared fox", {})
    store.close()
    assert not (tmp_path / "history.sqlite3").exists()
    other = Store(tmp_path / "another-machine")  # a second server of the team sees the same records
    assert [r.id for r in other.runs()] == [run]
    other.close()


def test_a_stopped_server_is_a_sentence_and_the_same_store_works_once_it_is_back(tmp_path, own_postgres):
    url = own_postgres.create_database("history")
    store = Store(tmp_path, database_url=url)
    before = store.start_run("generate", "m", "before", {})
    own_postgres.stop()
    with pytest.raises(StorageError) as caught:
        store.start_run("generate", "m", "while down", {})
    sentence = caught.value.sentence
    assert isinstance(caught.value, DatabaseUnreachable)
    assert f"ImageLab cannot reach its database at 127.0.0.1:{own_postgres.port}" in sentence
    assert "Check that the PostgreSQL server is running" in sentence
    assert TEST_PASSWORD not in sentence and TEST_PASSWORD not in str(caught.value)
    own_postgres.start()
    after = store.start_run("generate", "m", "after", {})
    assert [r.prompt for r in store.runs()] == ["after", "before"] and after > before
    # a restart between two calls: the pool's connections died unseen, and the next call still works
    own_postgres.stop()
    own_postgres.start()
    assert store.run(after).prompt == "after"
    store.close()


def test_a_database_that_refuses_writes_is_a_sentence_naming_it(tmp_path, postgres):
    url = postgres.create_database("read_only_history")
    store = Store(tmp_path, database_url=url)
    with psycopg.connect(host=postgres.host, port=postgres.port, user="postgres", dbname="postgres",
                         autocommit=True) as admin:
        admin.execute("ALTER DATABASE read_only_history SET default_transaction_read_only = on")
    store.database.dispose()  # connections made from now on are read-only
    with pytest.raises(DatabaseFailed) as caught:
        store.start_run("generate", "m", "p", {})
    assert caught.value.sentence.startswith(f"ImageLab cannot use its database at 127.0.0.1:{postgres.port}: "
                                            "cannot execute INSERT in a read-only transaction.")
    assert TEST_PASSWORD not in caught.value.sentence
    assert store.runs() == []  # reading still works
    store.close()


def test_a_server_that_is_not_there_is_a_sentence_when_the_store_opens(tmp_path):
    port = free_port()
    with pytest.raises(DatabaseUnreachable) as caught:
        Store(tmp_path, database_url=f"postgresql://team:{TEST_PASSWORD}@127.0.0.1:{port}/imagelab")
    assert f"at 127.0.0.1:{port}: Connection refused." in caught.value.sentence
    assert TEST_PASSWORD not in caught.value.sentence
    assert not (tmp_path / "history.sqlite3").exists()


@pytest.mark.parametrize("url", ["mysql://team:secret-pw-1@db.example:3306/imagelab", "postgresql://",
                                 "not a url at all secret-pw-1"])
def test_a_url_that_is_not_postgresql_is_a_sentence(tmp_path, url):
    with pytest.raises(NotADatabaseURL) as caught:
        Store(tmp_path, database_url=url)
    assert caught.value.sentence.startswith("IMAGELAB_DATABASE_URL must be a PostgreSQL URL such as postgresql://")
    assert "secret-pw-1" not in caught.value.sentence


def test_the_url_shown_has_no_password(tmp_path, pg_url):
    store = Store(tmp_path, database_url=pg_url)
    shown = store.database.shown_url
    store.close()
    assert TEST_PASSWORD not in shown and shown.startswith("postgresql+psycopg://127.0.0.1:")
