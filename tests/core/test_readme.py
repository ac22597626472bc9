"""The README's engine example imports names that exist and calls them with valid arguments."""

from __future__ import annotations

import ast
import inspect
import re

import pytest

from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make demo", "make test"]


@pytest.mark.parametrize("block", _python_blocks())
def test_python_examples_import_and_bind_real_signatures(block: str) -> None:
    tree = ast.parse(block)
    namespace: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            exec(compile(ast.Module([node], []), "README", "exec"), namespace)
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        if isinstance(call.func, ast.Name) and call.func.id in namespace:
            target = namespace[call.func.id]
            if callable(target):
                signature = inspect.signature(target)
                args = [object()] * len(call.args)
                kwargs = {kw.arg: object() for kw in call.keywords if kw.arg}
                signature.bind(*args, **kwargs)
