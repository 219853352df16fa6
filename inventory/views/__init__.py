"""Views: each one checks its permission, cleans its input with a form, and asks one
selector or service for what it shows. Errors become messages, never a 500.
One module per area of the portal; `inventory/urls.py` names them."""
