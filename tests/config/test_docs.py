"""docs/configuration.md documents every schema key and its generated tables are current."""

from __future__ import annotations

from arbqos.config import ChainEndpoint, DirectReceiver, WalletConfig
from arbqos.config.reference import BEGIN, END, render_reference, schema_keys
from arbqos.config.schema import SECTIONS
from tests.conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "configuration.md"
REGENERATE = (
    'python -c "from pathlib import Path; from arbqos.config.reference import '
    "update_reference; update_reference(Path('docs/configuration.md'))\""
)


def test_every_schema_key_is_documented() -> None:
    text = DOC.read_text()
    keys = schema_keys()
    models = [*SECTIONS.values(), WalletConfig, ChainEndpoint, DirectReceiver]
    assert len(keys) == sum(len(model.model_fields) for model in models)
    missing = [key.path for key in keys if f"`{key.path}`" not in text]
    assert missing == [], f"undocumented keys {missing}; run: {REGENERATE}"


def test_every_key_has_a_meaning() -> None:
    assert [k.path for k in schema_keys() if not k.meaning] == []


def test_generated_tables_are_up_to_date() -> None:
    text = DOC.read_text()
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    current = BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END
    assert current == render_reference(), f"docs/configuration.md is stale; run: {REGENERATE}"


def test_documented_env_examples_name_real_keys() -> None:
    from arbqos.config.introspect import annotation_at

    text = DOC.read_text()
    for word in text.replace("`", " ").replace("=", " ").split():
        if word.startswith("ARBQOS__") and "<" not in word and word != "ARBQOS__":
            parts = [p.lower() for p in word.removeprefix("ARBQOS__").split("__")]
            assert annotation_at(parts) is not None, word
