import pytest

from sandbox.control_client import SandboxControl, SandboxControlError

BUY = "POST /number/buy"


@pytest.fixture
def control(sandbox) -> SandboxControl:
    return SandboxControl(sandbox.base_url)


def test_it_lists_owned_numbers_by_msisdn(sandbox, control):
    control.reset(owned=4)

    owned = control.owned()

    assert len(owned) == 4
    assert list(owned) == sorted(owned)
    assert all(number["msisdn"] == msisdn for msisdn, number in owned.items())


def test_it_reads_counters_per_operation(sandbox, control):
    number = sandbox.available()
    sandbox.buy(number)
    sandbox.buy(number)  # owned already: 420

    assert control.calls(BUY) == 2
    assert control.responses(BUY) == {"200": 1, "420": 1}
    assert control.calls("POST /number/cancel") == 0
    assert control.responses("POST /number/cancel") == {}


def test_it_queues_lists_and_clears_faults(sandbox, control):
    created = control.fault(BUY, "error", status=502, count=2, skip=1)

    assert control.faults() == [created]
    control.clear_faults()
    assert control.faults() == []


def test_it_changes_the_account(sandbox, control):
    result = control.change_account(
        add=[
            {"country": "GB", "msisdn": "447700900123", "type": "mobile-lvn", "features": ["SMS"]}
        ],
        add_random=2,
    )

    assert result["owned_count"] == 3
    control.change_account(remove=["447700900123"])
    assert "447700900123" not in control.owned()


def test_it_expires_tokens(sandbox, control):
    sandbox.token  # noqa: B018

    assert control.expire_tokens() == 1


def test_a_refusal_raises_with_the_reason(sandbox, control):
    with pytest.raises(SandboxControlError, match="kind"):
        control.fault(BUY, "explode")
