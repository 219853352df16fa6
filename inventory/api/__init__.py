"""The JSON API for scripts, under /api/v1/ (DESIGN §1): the portal's own services and
selectors behind Django REST framework, with the roles' permissions, personal access
tokens, idempotent POSTs and errors as application/problem+json. Described in OpenAPI 3 at
/api/v1/schema, with Swagger UI beside it at /api/v1/docs/."""
