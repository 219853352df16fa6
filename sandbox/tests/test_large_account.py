def test_an_account_of_100000_numbers_can_be_seeded_and_paged(sandbox):
    result = sandbox.reset(owned=100_000)

    assert result["owned_count"] == 100_000
    first = sandbox.owned_page(size=100)
    last = sandbox.owned_page(index=1000, size=100)
    assert first["count"] == 100_000
    assert len(first["numbers"]) == 100
    assert len(last["numbers"]) == 100
    assert sandbox.owned_page(index=1001, size=100) == {"count": 100_000}
    assert last["numbers"][-1]["msisdn"] > first["numbers"][0]["msisdn"]


def test_a_large_account_can_be_inspected_without_listing_it(sandbox):
    sandbox.reset(owned=100_000)

    state = sandbox.state(numbers=0)

    assert state["owned_count"] == 100_000
    assert "owned" not in state


def test_search_and_filters_still_answer_on_a_large_account(sandbox):
    sandbox.reset(owned=100_000)

    assert sandbox.search(country="GB", type="mobile-lvn")["count"] >= 1000
    assert sandbox.owned_page(country="NL")["count"] > 1000
    assert sandbox.owned_page(pattern="44", size=1)["count"] > 1000
