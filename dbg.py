import os, sys, django, random
os.environ.setdefault("DJANGO_SETTINGS_MODULE","numbersportal.settings")
django.setup()
from decimal import Decimal
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from inventory.models import OwnedNumber
from inventory import selectors
from inventory.selectors import InventoryFilter, inventory_order, _scope
rnd = random.Random(1)
OwnedNumber.objects.all().delete()
rows=[]
now = timezone.now()
countries=[("GB","44"),("NL","31"),("US","1"),("DE","49"),("FR","33")]
for i in range(3000):
    c,cc = rnd.choice(countries)
    rows.append(OwnedNumber(msisdn=f"{cc}7{i:08d}", country=c, country_name=c, type=rnd.choice(["mobile-lvn","landline","landline-toll-free"]),
      has_sms=rnd.random()<.7, has_voice=rnd.random()<.8, has_mms=rnd.random()<.1, mo_http_url="https://x" if rnd.random()<.1 else "",
      monthly_cost=Decimal("1.25") if i%3==0 else None, purchased_at=now - timedelta(days=i) if i%3==0 else None,
      label=rnd.choice(["", "", "Reception", "Support line", "Sales"]), team=rnd.choice(["", "Ops", "Billing"])))
OwnedNumber.objects.bulk_create(rows, batch_size=500)
with connection.cursor() as c: c.execute("ANALYZE")
def explain(qs):
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as c:
        if connection.vendor == "sqlite":
            c.execute("EXPLAIN QUERY PLAN " + sql, params); return [r[3] for r in c.fetchall()]
        c.execute("SET enable_seqscan = off"); c.execute("SET enable_sort = off")
        c.execute("EXPLAIN " + sql, params); out=[r[0] for r in c.fetchall()]
        c.execute("RESET enable_seqscan"); c.execute("RESET enable_sort"); return out
for sort in ["msisdn","-msisdn","country","-country","type","-type","label","-label","monthly_cost","-monthly_cost","purchased_at","-purchased_at"]:
    order = inventory_order(sort)
    for n, q in order.queries(_scope(InventoryFilter()).numbers, None, backward=False):
        print(sort, n, explain(q[:51]))
    first = OwnedNumber.objects.order_by("msisdn")[1500]
    from inventory.paging import Cursor
    cur = order.parse(order.cursor_of(first), fields={f.name: f for f in OwnedNumber._meta.fields})
    for n, q in order.queries(_scope(InventoryFilter()).numbers, cur, backward=True):
        print(sort, "seek-back", n, explain(q[:51]))
for f in [dict(country="NL"), dict(type="landline"), dict(features=("MMS",)), dict(configured="yes"), dict(configured="no"), dict(country="NL", type="landline")]:
    sc=_scope(InventoryFilter(**f))
    for n,q in inventory_order("msisdn").queries(sc.numbers, None, backward=False): print(f, explain(q[:51]))
