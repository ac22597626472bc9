"""Property-based fuzzing of every documented route: no input produces a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from arbqos.clock import FakeClock
from arbqos.config import ArbqosConfig
from arbqos.services import ControlService, create_app
from tests.services.conftest import ADMIN, PAUSE, TOKENS

EXAMPLES = {GenerationMode.POSITIVE: 16, GenerationMode.NEGATIVE: 12}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ControlService]:
    service = ControlService.build(
        ArbqosConfig(),
        state_dir=tmp_path / "state",
        clock=FakeClock(),
        registry=CollectorRegistry(),
        config_hash="c" * 64,
        alert_log_path=tmp_path / "alert_events.log",
    )
    yield service
    service.close()


@pytest.mark.timeout(90)
@pytest.mark.deep
def test_no_input_causes_a_server_error(service: ControlService) -> None:
    app = create_app(service, TOKENS, registry=CollectorRegistry(), max_body_bytes=65536)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    seen: dict[str, set[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 11
    for operation in operations:
        has_inputs = any(
            len(getattr(operation, part)) for part in ("path_parameters", "query", "body")
        )
        for mode, examples in EXAMPLES.items():
            if mode is GenerationMode.NEGATIVE and not has_inputs:
                continue  # nothing to get wrong

            @given(
                case=operation.as_strategy(mode), auth=st.sampled_from([ADMIN, ADMIN, PAUSE, {}])
            )
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any, auth: dict[str, str]) -> None:
                response = case.call_and_validate(headers=auth, checks=[not_a_server_error])
                seen.setdefault(case.operation.label, set()).add(response.status_code)
                assert response.status_code < 500
                if response.status_code >= 400:
                    body = response.json()
                    assert body["error"] and body["message"], body

            run()
    # Valid requests got through as well, not only rejections.
    assert 200 in seen["POST /v1/pause"]
    assert 200 in seen["POST /v1/alertmanager"]
    # Generated reports carry arbitrary timestamps, so the freshness check refuses them (422
    # stale_report); fresh reports are accepted in test_heartbeat.py.
    assert 422 in seen["POST /v1/heartbeat"]
    assert {401, 422} <= seen["POST /v1/pause"]
    assert service.status()["state"] in ("running", "paused")
