"""One module per section of DESIGN §7. Each measures (its `measure…` methods, called by
bench.run at the right moment) and then reports (its `report`, adding figures to the
table); measuring never reports and reporting never measures."""
