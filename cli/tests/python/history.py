"""The caller's conversation history through Parlor with ElevenLabs' official
Python SDK (elevenlabs 2.x), unchanged: list every page, get each
conversation, and ask for one that is not the caller's.

Prints one JSON line per finding for the Rust test to assert on:
  {"event": "page", "ids": [...], "has_more": bool}
  {"event": "conversation", "conversation_id", "agent_id", "status", "user_lines": [...],
   "start_time_unix_secs", "call_duration_secs", "cost"}
  {"event": "foreign", "status_code": int, "body": ...}
Exits non-zero on anything unexpected.
"""

import argparse
import json
import sys

from elevenlabs import ElevenLabs
from elevenlabs.core.api_error import ApiError


def emit(**fields):
    print(json.dumps(fields), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--page-size", type=int, default=2)
    parser.add_argument("--foreign-id", required=True)
    args = parser.parse_args()

    client = ElevenLabs(base_url=args.base_url, api_key=args.api_key)
    history = client.conversational_ai.conversations

    ids = []
    cursor = None
    for _ in range(100):
        page = history.list(page_size=args.page_size, cursor=cursor, summary_mode="include")
        page_ids = [c.conversation_id for c in page.conversations]
        emit(event="page", ids=page_ids, has_more=page.has_more)
        ids.extend(page_ids)
        if not page.has_more:
            break
        cursor = page.next_cursor

    for conversation_id in ids:
        detail = history.get(conversation_id=conversation_id)
        emit(
            event="conversation",
            conversation_id=detail.conversation_id,
            agent_id=detail.agent_id,
            status=detail.status,
            user_lines=[t.message for t in detail.transcript if t.role == "user"],
            start_time_unix_secs=detail.metadata.start_time_unix_secs,
            call_duration_secs=detail.metadata.call_duration_secs,
            cost=detail.metadata.cost,
            call_successful=detail.analysis.call_successful if detail.analysis else None,
        )

    try:
        history.get(conversation_id=args.foreign_id)
    except ApiError as error:
        emit(event="foreign", status_code=error.status_code, body=error.body)
    else:
        emit(event="foreign", status_code=200, body=None)
        sys.exit(1)


if __name__ == "__main__":
    main()
