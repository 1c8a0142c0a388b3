import subprocess
import sys

import orjson

SCRIPT = """
import logging
from shared.logging import bind_request_id, configure_logging, get_logger
log = get_logger("test")  # module-level loggers exist before configuration
configure_logging("verifier", "INFO")
log.debug("hidden.debug")
bind_request_id("req-1")
log.info("credential.verified", credential_id="c1")
logging.getLogger("aiokafka").warning("stdlib %s", "line")
try:
    raise ValueError("boom")
except ValueError:
    log.exception("thing.failed")
"""


def test_json_lines_with_service_level_timestamp_and_context() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, check=True, timeout=60
    ).stdout
    lines = [orjson.loads(line) for line in out.splitlines()]
    assert [line["event"] for line in lines] == [
        "credential.verified",
        "stdlib line",
        "thing.failed",
    ]
    first = lines[0]
    assert first["service"] == "verifier"
    assert first["level"] == "info"
    assert first["request_id"] == "req-1"
    assert first["credential_id"] == "c1"
    assert first["component"] == "test"
    assert first["timestamp"].endswith("Z") and "T" in first["timestamp"]
    assert lines[1]["logger"] == "aiokafka"
    assert lines[1]["service"] == "verifier"
    assert lines[1]["level"] == "warning"
    assert "ValueError: boom" in lines[2]["exception"]
