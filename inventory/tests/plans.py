"""Query plans as trees, on SQLite and PostgreSQL, for tests that assert an index serves a
query (not how long it takes).

On PostgreSQL, sequential scans and sorts are priced out while explaining (test tables are
small, and a small table is cheaper to scan): a plan without them proves an index can serve
the query, which is what PostgreSQL chooses once the table is large."""

import json

from django.db import connection


def plan(sql: str, params) -> list[dict]:
    """The plan as a tree: {"step": text, "table": table read, "children": [...]}."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params or None)
            nodes = {0: {"children": []}}
            for node, parent, _, detail in cursor.fetchall():
                words = detail.split()
                table = words[1] if words[0] in ("SCAN", "SEARCH") else ""
                nodes[node] = {"step": detail, "table": table, "children": []}
                nodes[parent]["children"].append(nodes[node])
            return nodes[0]["children"]
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
        try:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params or None)
            [(document,)] = cursor.fetchall()
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_sort")
    if isinstance(document, str):
        document = json.loads(document)

    def tree(node):
        return {
            "step": node["Node Type"]
            + (f" using {node['Index Name']}" if "Index Name" in node else ""),
            "table": node.get("Relation Name", ""),
            "children": [tree(child) for child in node.get("Plans", [])],
        }

    return [tree(document[0]["Plan"])]


def walk(steps):
    for step in steps:
        yield step
        yield from walk(step["children"])


def full_scans(steps, table: str) -> list[str]:
    """Steps that read the whole of `table`."""
    if connection.vendor == "sqlite":
        whole = [
            s for s in walk(steps) if s["step"].startswith("SCAN ") and " USING " not in s["step"]
        ]
    else:
        whole = [s for s in walk(steps) if s["step"] == "Seq Scan"]
    return [s["step"] for s in whole if s["table"] == table]


def sorts(steps, table: str) -> list[str]:
    """Steps that sort rows read from `table` (a union sorting the few rows of its
    parts is not one: what it sorts comes from their LIMITs)."""
    found = []
    if connection.vendor == "sqlite":
        for parent in [{"children": steps}, *walk(steps)]:
            kids = parent["children"]
            if any(k["table"] == table for k in kids):
                found += [k["step"] for k in kids if k["step"].startswith("USE TEMP B-TREE")]
        return found
    for step in walk(steps):
        if step["step"] == "Sort" and any(k["table"] == table for k in step["children"]):
            found.append(step["step"])
    return found
