"""nginx's configuration for several replicas (imagelab.proxy), checked by nginx itself."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from imagelab.proxy import ProxySettingError, main, nginx_config, write_nginx_config


def test_every_replica_is_a_server_of_the_cookie_hashed_upstream(tmp_path):
    text = nginx_config("127.0.0.1:8080", ["10.0.0.11:8501", "10.0.0.12:8501"], tmp_path)
    assert "hash $imagelab_replica consistent;" in text
    assert "server 10.0.0.11:8501 max_fails=1 fail_timeout=10s;" in text
    assert "server 10.0.0.12:8501 max_fails=1 fail_timeout=10s;" in text
    assert "listen 127.0.0.1:8080;" in text
    assert "proxy_read_timeout 1d;" in text
    assert "{{" not in text
    assert "Secure" not in text and "SameSite=Lax; Secure" in nginx_config("0.0.0.0:443", ["a:1"], tmp_path,
                                                                            https=True)


@pytest.mark.skipif(not shutil.which("nginx") and not shutil.which("/usr/sbin/nginx"), reason="nginx is missing")
def test_nginx_accepts_the_configuration(tmp_path):
    path = write_nginx_config("127.0.0.1:18080", ["127.0.0.1:18501", "127.0.0.1:18502"], tmp_path)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    done = subprocess.run([nginx, "-t", "-c", str(path), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


@pytest.mark.parametrize(("listen", "replicas", "sentence"), [
    ("127.0.0.1:8080", [], "nginx needs at least one replica"),
    ("127.0.0.1:8080", ["10.0.0.11"], "The replica '10.0.0.11' is not host:port"),
    ("8080", ["10.0.0.11:8501"], "The listen address '8080' is not host:port"),
    ("127.0.0.1:8080", ["a:1; include /etc/passwd"], "is not host:port"),
])
def test_an_address_nginx_would_not_take_gets_a_sentence(tmp_path, listen, replicas, sentence):
    with pytest.raises(ProxySettingError, match=sentence):
        nginx_config(listen, replicas, tmp_path)


def test_the_command_prints_the_configuration_or_a_sentence(capsys):
    assert main(["--replica", "127.0.0.1:8501", "--listen", "127.0.0.1:80"]) == 0
    assert "server 127.0.0.1:8501" in capsys.readouterr().out
    assert main(["--replica", "nowhere"]) == 2
    assert "is not host:port" in capsys.readouterr().err
