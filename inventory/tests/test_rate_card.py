"""The rate card page: everyone who sees the inventory reads it; operators set contract
prices, one at a time or from a CSV file; bad input is said in words, never a 500."""

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import Action, Operation, OwnedNumber, RateCard
from inventory.tests.base import BaseTestCase
from inventory.tests.factories import owned_numbers


def upload(text: str, name: str = "prices.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


class RateCardPageTestCase(BaseTestCase):
    def test_it_lists_catalogue_and_contract_prices(self):
        RateCard.objects.create(
            country="NL", type="landline", catalogue_monthly_cost=Decimal("0.9")
        )
        self.login(self.viewer)
        page = self.client.get("/rate-card/")
        self.assertContains(page, "Netherlands · Landline")
        self.assertNotContains(page, "Set a contract price")

    def test_an_operator_sets_a_contract_price_and_the_numbers_follow(self):
        owned_numbers(2, monthly_cost=None)
        self.login(self.operator)
        response = self.client.post(
            "/rate-card/edit/",
            {"country": "GB", "type": "mobile-lvn", "monthly": "€0,75", "setup": ""},
            follow=True,
        )
        self.assertContains(response, "Contract price saved.")
        assert set(OwnedNumber.objects.values_list("effective_monthly_cost", "price_source")) == {
            (Decimal("0.7500"), "contract")
        }
        assert Operation.objects.filter(action=Action.RATE_CARD, country="GB").count() == 1

    def test_a_price_that_is_not_an_amount_is_refused_in_words(self):
        self.login(self.operator)
        response = self.client.post(
            "/rate-card/edit/", {"country": "GB", "type": "mobile-lvn", "monthly": "-1"}
        )
        self.assertContains(response, "must be between 0 and", status_code=400)
        assert not RateCard.objects.exists()

    def test_a_csv_file_sets_many_contract_prices_at_once(self):
        owned_numbers(2, monthly_cost=None)
        self.login(self.operator)
        text = 'country,type,monthly,setup\nGB,mobile,0.80,0\nnl,Landline,"1,10",2\n\n'
        response = self.client.post("/rate-card/import/", {"file": upload(text)}, follow=True)
        self.assertContains(response, "2 rows read: 2 changed.")
        prices = {(r.country, r.type): r.contract_monthly_cost for r in RateCard.objects.all()}
        assert prices == {
            ("GB", "mobile-lvn"): Decimal("0.80"),
            ("NL", "landline"): Decimal("1.10"),
        }
        assert Operation.objects.filter(action=Action.RATE_CARD).count() == 2
        assert set(OwnedNumber.objects.values_list("price_source", flat=True)) == {"contract"}

    def test_bad_rows_are_each_said_in_words_and_nothing_is_imported(self):
        self.login(self.operator)
        text = (
            "country;type;monthly;setup\n"
            "GB;mobile;0.80;0\n"
            "XX;mobile;1;0\n"
            "NL;satellite;1;0\n"
            "DE;landline;cheap;0\n"
            "GB;mobile-lvn;0.70;0\n"
        )
        response = self.client.post("/rate-card/import/", {"file": upload(text)})
        assert response.status_code == 400
        for problem in (
            "Row 3: “XX” is not a country code such as NL or GB.",
            "Row 4: “satellite” is not a number type (landline, mobile or toll-free).",
            "Row 5: the monthly price “cheap” is not an amount such as 1.25.",
            "Row 6: the same country and type as row 2.",
        ):
            self.assertContains(response, problem, status_code=400)
        assert not RateCard.objects.exists()

    def test_files_that_are_not_a_price_list_are_refused_in_words(self):
        self.login(self.operator)
        cases = {
            "name,phone\nAnn,1\n": "it lacks country, type, monthly",
            "country,type,monthly\n": "The file has no rows of prices",
        }
        for text, problem in cases.items():
            response = self.client.post("/rate-card/import/", {"file": upload(text)})
            self.assertContains(response, problem, status_code=400)
        binary = SimpleUploadedFile("x.csv", b"\xff\xfe\x00bad", content_type="text/csv")
        response = self.client.post("/rate-card/import/", {"file": binary})
        self.assertContains(response, "not text in UTF-8", status_code=400)
        response = self.client.post("/rate-card/import/", {})
        self.assertContains(response, "Choose a CSV file to import.", status_code=400)

    def test_a_viewer_cannot_change_it(self):
        self.login(self.viewer)
        response = self.client.post(
            "/rate-card/edit/", {"country": "GB", "type": "mobile-lvn", "monthly": "1"}
        )
        assert response.status_code == 403
        assert self.client.post("/rate-card/import/", {"file": upload("x")}).status_code == 403
        assert not RateCard.objects.exists()
