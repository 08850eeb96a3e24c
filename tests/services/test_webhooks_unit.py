"""Webhook building blocks: signatures checked by the `standardwebhooks` package, the secret
at rest, the dispatcher's cursor over gaps, the SSRF rule and its enforcement at connect time,
and the event catalog covering every type the code records."""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from infra.outbound import (
    LOOPBACK,
    BlockedAddress,
    address_allowed,
    guarded_client,
    parse_networks,
)
from services.errors import ValidationFailed
from services.events.catalog import EVENT_TYPES, check_types
from services.webhooks import secrets
from services.webhooks.delivery import advance_cursor
from tests.support.live_server import live_server
from tests.support.webhook_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]


def _headers(secret_list: list[str], body: bytes, msg_id: str = "msg_1") -> dict[str, str]:
    ts = int(datetime.now(UTC).timestamp())
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": secrets.signature_header(secret_list, msg_id, ts, body)}


def test_signature_verifies_with_standardwebhooks_and_both_secrets_during_rotation() -> None:
    old, new = secrets.generate_secret(), secrets.generate_secret()
    assert old.startswith("whsec_") and old != new
    body = b'{"type":"process.advanced","data":{"seq":1}}'
    headers = _headers([new, old], body)
    assert headers["webhook-signature"].count("v1,") == 2
    for s in (old, new):  # a receiver still on the old secret, and one already switched
        assert Webhook(s).verify(body, headers) == {"type": "process.advanced",
                                                      "data": {"seq": 1}}
    with pytest.raises(WebhookVerificationError):
        Webhook(secrets.generate_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):  # a changed body fails
        Webhook(new).verify(body + b" ", headers)


def test_secret_is_stored_encrypted_and_only_the_app_key_opens_it() -> None:
    secret = secrets.generate_secret()
    token = secrets.encrypt(secret, "app-key-1")
    assert secret not in token and secret.removeprefix("whsec_") not in token
    assert secrets.decrypt(token, "app-key-1") == secret
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidToken
        secrets.decrypt(token, "app-key-2")


def test_cursor_waits_at_a_gap_then_skips_it_after_the_grace() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    grace = timedelta(seconds=60)
    assert advance_cursor(10, [11, 12, 13], None, now, grace) == (13, None)
    # seq 12 not committed yet: stop before it, remember since when.
    assert advance_cursor(10, [11, 13, 14], None, now, grace) == (11, now)
    assert advance_cursor(11, [13, 14], now, now + timedelta(seconds=30), grace) == (11, now)
    # It came: the run is complete again.
    assert advance_cursor(11, [12, 13, 14], now, now + timedelta(seconds=30), grace) == (14, None)
    # It never came (rolled back): move on after the grace, and wait anew at a later gap.
    later = now + timedelta(seconds=61)
    assert advance_cursor(11, [13, 14, 16], now, later, grace) == (14, later)


@pytest.mark.parametrize("address,allowed", [
    ("93.184.216.34", True), ("2606:4700::1111", True),
    ("127.0.0.1", False), ("::1", False), ("10.0.0.5", False), ("172.16.3.4", False),
    ("192.168.1.1", False), ("169.254.169.254", False), ("fe80::1", False),
    ("fc00::1", False), ("0.0.0.0", False), ("::ffff:127.0.0.1", False),
    ("::ffff:10.0.0.1", False), ("224.0.0.1", False),
])
def test_only_public_addresses_by_default(address: str, allowed: bool) -> None:
    assert address_allowed(ipaddress.ip_address(address), ()) is allowed


def test_operator_networks_open_exactly_what_they_name() -> None:
    loopback = parse_networks(LOOPBACK)
    assert address_allowed(ipaddress.ip_address("127.0.0.1"), loopback)
    assert address_allowed(ipaddress.ip_address("::1"), loopback)
    assert address_allowed(ipaddress.ip_address("::ffff:127.0.0.1"), loopback)
    assert not address_allowed(ipaddress.ip_address("10.0.0.5"), loopback)
    one = parse_networks("10.1.2.3/32")
    assert address_allowed(ipaddress.ip_address("10.1.2.3"), one)
    assert not address_allowed(ipaddress.ip_address("10.1.2.4"), one)


async def test_guarded_client_refuses_loopback_at_connect_time_unless_allowed() -> None:
    receiver = WebhookReceiver(verify=False)
    async with live_server(receiver) as base:
        port = base.rsplit(":", 1)[1]
        for url in (base, f"http://localhost:{port}/"):  # by address and by name
            async with guarded_client(()) as client:
                with pytest.raises(BlockedAddress):
                    await client.post(url, content=b"{}")
        assert receiver.requests == []
        async with guarded_client(parse_networks(LOOPBACK)) as client:
            response = await client.post(f"http://localhost:{port}/", content=b"{}")
        assert response.status_code == 200 and len(receiver.requests) == 1


async def test_guarded_client_does_not_follow_redirects() -> None:
    async def redirect(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 307,
                    "headers": [(b"location", b"http://169.254.169.254/latest/meta-data")]})
        await send({"type": "http.response.body", "body": b""})

    async with live_server(redirect) as base, guarded_client(parse_networks(LOOPBACK)) as c:
        response = await c.post(base, content=b"{}")
    assert response.status_code == 307  # answered as is: a failed attempt, never followed
    assert isinstance(response, httpx.Response)


def test_catalog_lists_every_literal_event_type_the_code_records() -> None:
    literal = re.compile(r'type="([a-z_]+\.[a-z_]+)"')
    found = set()
    for path in [*ROOT.glob("services/**/*.py"), *ROOT.glob("activities/**/*.py")]:
        found |= set(literal.findall(path.read_text()))
    assert found, "the scan found nothing: its pattern no longer fits the code"
    assert sorted(found - EVENT_TYPES) == []


def test_check_types_accepts_types_families_and_star_and_names_unknown_ones() -> None:
    assert check_types(["process.advanced", "campaign.*", "*", "process.advanced"]) == [
        "process.advanced", "campaign.*", "*"]
    with pytest.raises(ValidationFailed) as err:
        check_types(["process.advanced", "process.exploded", "nothing.*"])
    fields = [d["field"] for d in err.value.details if "message" in d]
    assert fields == ["types.1", "types.2"]


def test_embedded_stack_allows_loopback_targets_an_operator_setting_wins(tmp_path,
                                                                         monkeypatch) -> None:
    from composition.devstack import DevPorts, DevStack
    from infra.config import Settings

    monkeypatch.delenv("MITWIRKEN_WEBHOOK_ALLOWED_NETWORKS", raising=False)
    stack = DevStack(Settings(data_dir=tmp_path), DevPorts())
    assert stack.child_env()["MITWIRKEN_WEBHOOK_ALLOWED_NETWORKS"] == LOOPBACK
    monkeypatch.setenv("MITWIRKEN_WEBHOOK_ALLOWED_NETWORKS", "10.1.2.3/32")
    assert stack.child_env()["MITWIRKEN_WEBHOOK_ALLOWED_NETWORKS"] == "10.1.2.3/32"
    assert Settings().webhook_allowed_networks == "10.1.2.3/32"
    monkeypatch.delenv("MITWIRKEN_WEBHOOK_ALLOWED_NETWORKS")
    assert Settings().webhook_allowed_networks == ""  # outside the embedded stack: public only
