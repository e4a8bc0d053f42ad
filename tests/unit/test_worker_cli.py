"""``python -m imagelab.worker`` without a shared history says what it needs, in one sentence."""

import pytest

from imagelab import worker


def test_a_worker_without_a_database_url_says_so(capsys, monkeypatch):
    monkeypatch.delenv("IMAGELAB_DATABASE_URL", raising=False)
    assert worker.main([]) == 2
    assert capsys.readouterr().err.strip() == (
        "A worker serves a shared history: set IMAGELAB_DATABASE_URL to its PostgreSQL database.")


def test_a_worker_refuses_no_concurrency(capsys):
    with pytest.raises(SystemExit) as stopped:
        worker.main(["--concurrency", "0"])
    assert stopped.value.code == 2
    assert "--concurrency must be 1 or more" in capsys.readouterr().err
