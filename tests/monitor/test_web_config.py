"""The `web:` configuration section: the issue's example loads; each mistake is one located line."""

from __future__ import annotations

import pytest
from alerts_support import ACCOUNTS

from monitor.config import ConfigError, parse_config

EXAMPLE = """web:
  listen: 127.0.0.1:8080
  public_url: https://socialmon.example.ac.uk   # optional: links in alerts and digests
  auth:
    mode: proxy            # or local
    header: X-Forwarded-Email
    trusted_proxies: [127.0.0.1, 10.1.0.0/16]
  roles:
    a.person@example.ac.uk: comms
    oncall@example.ac.uk: oncall
"""
LOCAL = """web:
  listen: "[::1]:9000"
  auth:
    mode: local
    users:
      - {name: a.person@example.ac.uk, password_hash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"}
  roles:
    a.person@example.ac.uk: admin
"""


def parse(web: str):
    return parse_config(ACCOUNTS + web, "socialmon.yaml", env={})


def errors(web: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(web)
    return info.value.lines


def test_absent_means_off() -> None:
    assert parse("").web is None


def test_the_issue_example_loads() -> None:
    web = parse(EXAMPLE).web
    assert web is not None
    assert (web.host, web.port, web.public_url) == ("127.0.0.1", 8080, "https://socialmon.example.ac.uk")
    assert web.auth.mode == "proxy" and web.auth.header == "X-Forwarded-Email"
    assert web.role_of("a.person@example.ac.uk") == "comms"
    assert web.role_of("stranger@example.ac.uk") is None and web.role_of(None) is None
    assert web.auth.is_trusted("127.0.0.1") and web.auth.is_trusted("10.1.200.3")
    assert not web.auth.is_trusted("10.2.0.1") and not web.auth.is_trusted("not-an-address")
    assert web.finding_url(12) == "https://socialmon.example.ac.uk/findings/12"


def test_local_users_load_and_the_hash_is_never_shown() -> None:
    web = parse(LOCAL).web
    assert web is not None and (web.host, web.port) == ("::1", 9000)
    assert web.public_url is None and web.finding_url(1) is None
    assert "argon2" not in repr(web) and "argon2" not in str(web.model_dump())


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "listen: 127.0.0.1:8080",
            "listen: localhost",
            "socialmon.yaml:30: web.listen: 'localhost' is not host:port",
        ),
        (
            "127.0.0.1:8080",
            "127.0.0.1:70000",
            "socialmon.yaml:30: web.listen: '127.0.0.1:70000' is not host:port",
        ),
        (
            "https://socialmon.example.ac.uk",
            "socialmon.example.ac.uk",
            "socialmon.yaml:31: web.public_url: 'socialmon.example.ac.uk' is not an http(s) URL",
        ),
        ("mode: proxy ", "mode: saml ", "socialmon.yaml:33: web.auth.mode: must be one of proxy, local"),
        (
            "X-Forwarded-Email",
            "X Email",
            "socialmon.yaml:34: web.auth.header: 'X Email' is not an HTTP header name",
        ),
        (
            "10.1.0.0/16",
            "gateway",
            "socialmon.yaml:35: web.auth.trusted_proxies[1]: 'gateway' is not an IP address or network",
        ),
        (
            ": comms",
            ": editor",
            "socialmon.yaml:37: web.roles.a.person@example.ac.uk: must be one of viewer, comms",
        ),
        ("  roles:", "  rolez:", "socialmon.yaml:36: web.rolez: unknown key (did you mean roles?)"),
        (
            "trusted_proxies: [127.0.0.1, 10.1.0.0/16]",
            "trusted_proxies: []",
            "web.auth.trusted_proxies: proxy",
        ),
    ],
)
def test_each_mistake_is_one_located_line(old: str, new: str, expected: str) -> None:
    assert EXAMPLE.count(old) == 1, old
    lines = errors(EXAMPLE.replace(old, new))
    assert len(lines) == 1, lines
    assert expected in lines[0], lines[0]


def test_local_mode_rules() -> None:
    assert errors(LOCAL.replace("    users:\n      - {name", "    userz:\n      - {name"))[0].endswith(
        "web.auth.userz: unknown key (did you mean users?)"
    )
    twice = LOCAL.replace("  roles:", '      - {name: a.person@example.ac.uk, password_hash: "x"}\n  roles:')
    assert errors(twice) == [
        "socialmon.yaml:35: web.auth.users[1].name: 'a.person@example.ac.uk' is listed twice"
    ]
    stranger = LOCAL + "    b.person@example.ac.uk: viewer\n"
    assert errors(stranger) == [
        "socialmon.yaml:37: web.roles.b.person@example.ac.uk: is not one of web.auth.users"
    ]
    nobody = "web:\n  auth: {mode: local}\n  roles: {}\n"
    assert errors(nobody) == [
        "socialmon.yaml:30: web.auth.users: local sign-in needs at least one user"
        " (socialmon web hash-password)",
        "socialmon.yaml:31: web.roles: gives nobody a role: every page would be refused",
    ]


def test_a_bad_hash_value_is_not_echoed() -> None:
    lines = errors(LOCAL.replace('password_hash: "$argon2id', 'password_hash: [1, 2], x: "$argon2id'))
    assert all("argon2" not in line for line in lines)


def test_check_config_summarises_the_dashboard_without_the_hash(tmp_path) -> None:
    from click.testing import CliRunner

    from monitor.cli.main import cli

    path = tmp_path / "socialmon.yaml"
    path.write_text(ACCOUNTS + LOCAL.replace("listen", "public_url: https://sm.example.ac.uk\n  listen"))
    result = CliRunner().invoke(cli, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "web: [::1]:9000, sign-in local, roles: 1 admin; alerts link to https://sm.example.ac.uk"
        in result.stdout
    )
    assert "argon2" not in result.output
