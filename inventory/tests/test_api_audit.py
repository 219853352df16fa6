"""The audit trail through the JSON API, for auditors: the page's filters, keyset pages."""

from inventory.audit import Actor, audit_append
from inventory.models import Action, Outcome
from inventory.tests.base import ApiTestCase


class AuditApiTestCase(ApiTestCase):
    def setUp(self):
        actor = Actor.system("tests")
        for n in range(60):
            msisdn = f"4477009{n:05d}"
            audit_append(
                action=Action.PURCHASE, actor=actor, msisdn=msisdn, outcome=Outcome.SUCCEEDED
            )

    def test_an_auditor_pages_through_a_filter(self):
        first = self.api_get(self.auditor, "/api/v1/audit", {"action": "purchase"}).json()
        older = self.api_get(self.auditor, first["older"]).json()

        assert len(first["results"]) == 50
        assert len(older["results"]) == 10
        assert older["older"] is None
        seqs = [entry["seq"] for entry in first["results"] + older["results"]]
        assert seqs == sorted(seqs, reverse=True)
        assert {entry["action"] for entry in first["results"]} == {"purchase"}
        assert first["trail_length"] >= 60
        entry = self.api_get(self.auditor, f"/api/v1/audit/{seqs[0]}").json()
        assert entry["hash"]
        assert entry["msisdn"] == first["results"][0]["msisdn"]

    def test_a_filter_it_cannot_read_stops_the_list(self):
        response = self.api_get(
            self.auditor, "/api/v1/audit", {"since": "2025-02-01", "until": "2025-01-01"}
        )

        assert response.status_code == 400
        assert response.json()["errors"][0]["detail"] == (
            "“Until” must be the same day as “From” or later."
        )

    def test_operators_and_viewers_may_not_read_it(self):
        for user in (self.operator, self.viewer):
            assert self.api_get(user, "/api/v1/audit").status_code == 403
