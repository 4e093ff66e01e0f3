"""An MCP client for jaryo's tests, on the official MCP Python SDK (`mcp` on PyPI).

It connects over streamable HTTP or stdio, carries out a plan read from standard input, and
prints what the server answered as JSON on standard output; the Rust test (tests/mcp.rs)
decides what is right. Nothing here asserts: a failure to connect is reported, not raised.

Usage:
    python mcp_client.py http URL TOKEN     < plan.json
    python mcp_client.py stdio COMMAND ARG… < plan.json

The plan: {"calls": [{"tool": NAME, "arguments": {...}}, ...], "reads": [URI, ...],
"env": {...}} (env: the stdio server's environment variables).
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def text_of(content):
    return "".join(block.text for block in content if getattr(block, "type", None) == "text")


def failure(error):
    """An exception, with the ones an exception group holds (anyio raises those)."""
    inner = getattr(error, "exceptions", None)
    if inner:
        return "; ".join(failure(e) for e in inner)
    return f"{type(error).__name__}: {error}"


async def run_plan(session, plan):
    report = {}
    init = await session.initialize()
    report["server"] = {
        "name": init.server_info.name,
        "version": init.server_info.version,
        "protocol_version": init.protocol_version,
        "instructions": init.instructions,
    }
    tools = await session.list_tools()
    report["tools"] = [
        {"name": t.name, "input_schema": t.input_schema, "read_only": bool(t.annotations and t.annotations.read_only_hint)}
        for t in tools.tools
    ]
    report["calls"] = []
    for call in plan.get("calls", []):
        try:
            result = await session.call_tool(call["tool"], call.get("arguments"))
            report["calls"].append({"is_error": bool(result.is_error), "text": text_of(result.content)})
        except Exception as error:  # a protocol error is part of what the test checks
            report["calls"].append({"exception": failure(error)})
    resources = await session.list_resources()
    report["resources"] = [
        {"uri": str(r.uri), "name": r.name, "mime_type": r.mime_type} for r in resources.resources
    ]
    templates = await session.list_resource_templates()
    report["templates"] = [t.uri_template for t in templates.resource_templates]
    report["reads"] = []
    for uri in plan.get("reads", []):
        try:
            result = await session.read_resource(uri)
            report["reads"].append(
                {"texts": [c.text for c in result.contents], "mime_types": [c.mime_type for c in result.contents]}
            )
        except Exception as error:
            report["reads"].append({"exception": failure(error)})
    return report


# The HTTP statuses jaryo answered: the SDK reports a refused request only as "an error
# response", so the test reads the status here.
statuses = []


async def over_http(url, token, plan):
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})

    async def record(response):
        statuses.append(response.status_code)

    http.event_hooks["response"].append(record)
    async with http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                return await run_plan(session, plan)


async def over_stdio(command, args, plan):
    # The SDK passes the server only a safe few variables of ours; the plan names the rest.
    server = StdioServerParameters(command=command, args=args, env=plan.get("env"))
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            return await run_plan(session, plan)


async def main():
    plan = json.load(sys.stdin)
    mode = sys.argv[1]
    try:
        if mode == "http":
            report = await over_http(sys.argv[2], sys.argv[3], plan)
        else:
            report = await over_stdio(sys.argv[2], sys.argv[3:], plan)
    except BaseException as error:  # noqa: BLE001 - reported for the test to judge
        report = {"connection_failed": failure(error)}
    report["http_statuses"] = statuses
    json.dump(report, sys.stdout, ensure_ascii=False)


asyncio.run(main())
