"""``--executor ray --address HOST:PORT`` where no head node answers fails in bounded time, in one line
(issue 18 item 11: it hung)."""

import socket

import pytest

from topoloss.engine.ray_executor import _check_reachable
from topoloss.errors import InputError


def _closed_port() -> int:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_address_is_an_input_error_naming_it():
    port = _closed_port()
    with pytest.raises(InputError, match=rf"address='127.0.0.1:{port}' \(--address\): no Ray head node there "
                                         r"\(connection refused\); start one with `ray start --head`"):
        _check_reachable(f"127.0.0.1:{port}", timeout=2.0)
    with pytest.raises(InputError, match=r"expected auto or HOST:PORT"):
        _check_reachable("127.0.0.1:http")
    _check_reachable("auto")  # left to Ray, which fails fast when no cluster runs here
    _check_reachable(None)


def test_a_listening_port_passes():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        _check_reachable(f"127.0.0.1:{s.getsockname()[1]}", timeout=2.0)


def test_cli_fails_in_one_line(capsys):
    pytest.importorskip("ray")
    from topoloss.cli import main

    code = main(["analyze", "himmelblau", "--executor", "ray", "--address", "127.0.0.1:1", "--steps", "5", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("topoloss analyze: error: address='127.0.0.1:1' (--address): no Ray head node there")
