"""API clients in the governance file: located errors in `signoff check`, tokens by hash, and `signoff api-token`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.domain.api_clients import TOKEN_PREFIX, authenticate, new_token, token_sha256
from bot.domain.governance import GovernanceInvalid
from bot.domain.governance_spec import ApiClientSpec
from bot.governance_file import load_governance_text
from tests.unit.test_check_errors import BASE

HASH = "ab" * 32
OTHER = "cd" * 32


def problems(clients: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(GovernanceInvalid) as caught:
        load_governance_text(BASE + textwrap.dedent(clients))
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def test_a_file_with_api_clients_loads_and_names_them() -> None:
    governance = load_governance_text(
        BASE + f"api_clients:\n  - {{id: crm, token_sha256: {HASH}, kinds: [discount]}}\n"
    )
    assert governance.spec.api_clients == [ApiClientSpec(id="crm", token_sha256=HASH, kinds=["discount"])]
    assert load_governance_text(BASE).spec.api_clients == []


@pytest.mark.parametrize(
    ("clients", "expected"),
    [
        pytest.param(
            f"api_clients:\n  - {{id: crm, token_sha256: {HASH}, kinds: [discount]}}\n"
            f"  - {{id: crm, token_sha256: {OTHER}, kinds: [discount]}}\n",
            [(24, "api_clients[1].id", "the id “crm” is already used by api_clients[0]")],
            id="id-twice",
        ),
        pytest.param(
            f"api_clients:\n  - {{id: crm, token_sha256: {HASH}, kinds: [discount]}}\n"
            f"  - {{id: erp, token_sha256: {HASH}, kinds: [discount]}}\n",
            [
                (
                    24,
                    "api_clients[1].token_sha256",
                    "the same token as api_clients[0]: each client needs its own token (`signoff api-token` makes one)",
                )
            ],
            id="token-twice",
        ),
        pytest.param(
            f"api_clients:\n  - {{id: crm, token_sha256: {HASH}, kinds: [discount, discont]}}\n",
            [
                (
                    23,
                    "api_clients[0].kinds[1]",
                    "there is no kind “discont” — did you mean “discount”? (kinds: discount)",
                )
            ],
            id="unknown-kind",
        ),
        pytest.param(
            f"api_clients:\n  - {{id: crm, token_sha256: {HASH.upper()}, kinds: [discount]}}\n",
            [
                (
                    23,
                    "api_clients[0].token_sha256",
                    "must be 64 lowercase hex digits: the token_sha256 that `signoff api-token` prints",
                )
            ],
            id="hash-not-lowercase-hex",
        ),
        pytest.param(
            "api_clients:\n  - {id: CRM, token_sha256: abc, kinds: []}\n",
            [
                (23, "api_clients[0].id", "must start with a lowercase letter and use only a-z, 0-9, - and _"),
                (23, "api_clients[0].kinds", "must not be empty"),
                (
                    23,
                    "api_clients[0].token_sha256",
                    "must be 64 lowercase hex digits: the token_sha256 that `signoff api-token` prints",
                ),
            ],
            id="every-shape-problem-at-once",
        ),
        pytest.param(
            f"api_clients:\n  - {{id: crm, token: {HASH}, kinds: [discount]}}\n",
            [
                (23, "api_clients[0].token", "unknown key “token” (allowed here: id, token_sha256, kinds)"),
                (23, "api_clients[0].token_sha256", "is required"),
            ],
            id="unknown-key",
        ),
        pytest.param(
            f"api_clients:\n  - {{id: crm, token_sha256: {HASH}, kinds: [discount]}}\n"
            f"  - {{id: crm, token_sha256: {OTHER}, kinds: [nope]}}\n  - {{id: x}}\n",
            [
                (24, "api_clients[1].id", "the id “crm” is already used by api_clients[0]"),
                (24, "api_clients[1].kinds[0]", "there is no kind “nope” (kinds: discount)"),
                (25, "api_clients[2].kinds", "is required"),
                (25, "api_clients[2].token_sha256", "is required"),
            ],
            id="the-valid-entries-are-checked-beside-broken-ones",
        ),
    ],
)
def test_check_names_each_problem_of_api_clients_where_it_is(
    clients: str, expected: list[tuple[int, str, str]]
) -> None:
    assert problems(clients) == expected


def test_a_token_is_found_by_its_hash_only() -> None:
    token = new_token()
    assert token.startswith(TOKEN_PREFIX) and len(token) == 47 and new_token() != token
    crm = ApiClientSpec(id="crm", token_sha256=token_sha256(token), kinds=["discount"])
    erp = ApiClientSpec(id="erp", token_sha256=HASH, kinds=["discount"])
    assert authenticate([erp, crm], token) is crm
    assert authenticate([erp, crm], token_sha256(token)) is None  # the hash is not the token
    assert authenticate([erp, crm], token + "x") is None
    assert authenticate([erp, crm], "") is None
    assert authenticate([erp, crm], "x" * 10_000) is None


def test_api_token_prints_a_token_its_hash_and_an_entry_that_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["api-token", "--id", "crm", "--kind", "discount"]) == 0
    out = capsys.readouterr().out
    token = next(line.split()[1] for line in out.splitlines() if line.startswith("token:"))
    digest = next(line.split()[1] for line in out.splitlines() if line.startswith("token_sha256:"))
    assert token_sha256(token) == digest
    snippet = out[out.index("api_clients:") :]
    governance = load_governance_text(BASE + snippet)
    assert authenticate(governance.spec.api_clients, token) == ApiClientSpec(
        id="crm", token_sha256=digest, kinds=["discount"]
    )
    assert yaml.safe_load(snippet)["api_clients"][0]["id"] == "crm"


def test_api_token_refuses_a_name_that_is_not_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["api-token", "--id", "My Client"]) == 2
    assert "“My Client” is not a name" in capsys.readouterr().err


def test_api_token_without_a_kind_says_which_kinds_the_file_has_and_prints_nothing_to_paste(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    capsys.readouterr()
    assert main(["api-token", "--id", "crm"]) == 2
    said = capsys.readouterr()
    assert said.out == ""  # never a placeholder that `signoff check` would refuse once pasted
    assert said.err.strip() == (
        "signoff api-token: name what the client may use with --kind KIND, repeated for more "
        "(the governance file's kinds: brand-exception, discount)"
    )
    assert main(["api-token", "--id", "crm", "--kind", "nosuch", "--kind", "discount"]) == 0
    assert "warning: nosuch is not a kind of the governance file" in capsys.readouterr().err
    assert main(["api-token", "--id", "crm", "--kind", "discount"]) == 0
    out = capsys.readouterr().out
    with (tmp_path / "signoff.yaml").open("a") as config:
        config.write("\n" + out[out.index("api_clients:") :])
    assert main(["check"]) == 0  # the starter file with the printed entry pasted at its end
