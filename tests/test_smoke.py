from pathlib import Path

import archir

ROOT = Path(__file__).resolve().parent.parent


def test_example_round_trips_byte_for_byte():
    text = (ROOT / "examples" / "mobilenet_v2_small.air").read_text()
    module = archir.parse(text)
    assert archir.to_text(module) == text
    assert archir.structurally_equal(module, archir.parse(text))
