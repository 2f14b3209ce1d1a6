"""One text conversation through the official ElevenLabs Python SDK (2.x).

Starts a session with no audio interface (the SDK's text-only mode), sends
one user message, waits for the agent's reply to it, ends the session and
prints what happened as JSON lines on stdout, one object per line:

  {"event": "connected", "conversation_id": "conv_..."}
  {"event": "agent_response", "text": "..."}        every agent turn
  {"event": "user_transcript", "text": "..."}       every user turn echoed
  {"event": "sent", "text": "..."}
  {"event": "reply", "text": "..."}                 first agent turn after ours
  {"event": "disconnect", "reason": "user", "close_code": null, ...}
  {"event": "ended", "conversation_id": "conv_..."}
  {"event": "error", "message": "..."}              then exit code 1

Usage (every option also reads the environment variable shown):
  python text_chat.py --base-url http://127.0.0.1:PORT   (ELEVENLABS_BASE_URL)
                      --agent-id agent_...               (ELEVENLABS_AGENT_ID)
                      [--api-key KEY]                    (ELEVENLABS_API_KEY)
                      [--requires-auth]                  (ELEVENLABS_REQUIRES_AUTH=1)
                      [--message TEXT] [--user-id ID] [--timeout SECS]

--base-url is the REST base; the SDK derives the WebSocket URL from it
(http -> ws, https -> wss), and a ws:// or wss:// value is accepted too.
With --requires-auth the SDK first asks GET /v1/convai/conversation/
get-signed-url with `xi-api-key: KEY`, as it does for private agents.
"""

import argparse
import json
import os
import queue
import sys
import time

from elevenlabs.client import ElevenLabs
from elevenlabs.conversational_ai.conversation import Conversation


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def fail(message):
    emit("error", message=message)
    sys.exit(1)


def rest_base(url):
    for ws, http in (("ws://", "http://"), ("wss://", "https://")):
        if url.startswith(ws):
            return http + url[len(ws):]
    return url


def arguments():
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=env("ELEVENLABS_BASE_URL"))
    parser.add_argument("--agent-id", default=env("ELEVENLABS_AGENT_ID"))
    parser.add_argument("--api-key", default=env("ELEVENLABS_API_KEY", "unused"))
    parser.add_argument(
        "--requires-auth",
        action="store_true",
        default=env("ELEVENLABS_REQUIRES_AUTH") == "1",
    )
    parser.add_argument("--message", default="hello from python")
    parser.add_argument("--user-id", default=None)
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()
    if not args.base_url or not args.agent_id:
        parser.error("--base-url and --agent-id (or their environment variables) are required")
    return args


def main():
    args = arguments()
    deadline = time.monotonic() + args.timeout
    seen = queue.Queue()

    def on_agent_response(text):
        seen.put(("agent_response", text))

    def on_user_transcript(text):
        seen.put(("user_transcript", text))

    def on_disconnect(details):
        seen.put(("disconnect", details))

    client = ElevenLabs(api_key=args.api_key, base_url=rest_base(args.base_url))
    conversation = Conversation(
        client,
        args.agent_id,
        args.user_id,
        requires_auth=args.requires_auth,
        audio_interface=None,
        callback_agent_response=on_agent_response,
        callback_user_transcript=on_user_transcript,
        callback_disconnect=on_disconnect,
    )
    conversation.start_session()

    # The SDK has no callback for the opening metadata; its conversation id
    # is set then, and only after that is the initiation message sent, so a
    # user message cannot overtake it.
    while conversation._conversation_id is None:
        if time.monotonic() > deadline:
            conversation.end_session()
            fail("no conversation_initiation_metadata before the timeout")
        try:
            kind, value = seen.get(timeout=0.05)
        except queue.Empty:
            continue
        if kind == "disconnect":
            fail(f"disconnected before the metadata: {value}")
        seen.put((kind, value))
    emit("connected", conversation_id=conversation._conversation_id)

    conversation.send_user_message(args.message)
    emit("sent", text=args.message)

    disconnect = None
    heard_ours = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            conversation.end_session()
            fail("no reply before the timeout")
        try:
            kind, value = seen.get(timeout=remaining)
        except queue.Empty:
            continue
        if kind == "disconnect":
            disconnect = value
            break
        emit(kind, text=value)
        if kind == "user_transcript" and value == args.message.strip():
            heard_ours = True
        elif kind == "agent_response" and heard_ours:
            emit("reply", text=value)
            break

    if disconnect is None:
        conversation.end_session()
    conversation_id = conversation.wait_for_session_end()
    while disconnect is None:
        kind, value = seen.get(timeout=max(deadline - time.monotonic(), 0.1))
        if kind == "disconnect":
            disconnect = value
    emit(
        "disconnect",
        reason=disconnect.reason,
        close_code=disconnect.close_code,
        close_reason=disconnect.close_reason,
        message=disconnect.message,
    )
    emit("ended", conversation_id=conversation_id)


if __name__ == "__main__":
    main()
